//! Health, documentation, fallbacks and the headers every answer carries.

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_reports_ok_with_the_database_answering() {
    let app = spawn_app().await;
    let answer = app.get("/api/health").send().await;
    answer.assert_status(200);
    assert_eq!(answer.body["status"], "ok");
    let database = &answer.body["database"];
    let backend = if app.database_url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(database["backend"], backend);
    assert_eq!(database["answered"], true);
    assert!(database["latency_ms"].is_u64());
    assert!(database["connections"].as_u64().unwrap() >= 1);
    assert_eq!(
        database["max_connections"],
        if backend == "postgres" { 16 } else { 8 }
    );
}

#[tokio::test]
async fn health_reports_the_configured_pool_size() {
    let app = crate::helpers::spawn_app_with(&[("DATABASE_MAX_CONNECTIONS", "3")]).await;
    let answer = app.get("/api/health").send().await;
    answer.assert_status(200);
    assert_eq!(answer.body["database"]["max_connections"], 3);
}

#[tokio::test]
async fn unknown_api_routes_answer_json_404() {
    let app = spawn_app().await;
    let answer = app.get("/api/no/such/thing").send().await;
    answer.assert_error(404);
    assert_eq!(answer.body["message"], "Not Found");
}

#[tokio::test]
async fn unsupported_methods_answer_json_405() {
    let app = spawn_app().await;
    app.call(reqwest::Method::PATCH, "/api/health")
        .send()
        .await
        .assert_error(405);
}

#[tokio::test]
async fn openapi_document_lists_the_token_endpoints() {
    let app = spawn_app().await;
    let answer = app.get("/api/openapi.json").send().await;
    answer.assert_status(200);
    assert!(answer.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let tokens = &answer.body["paths"]["/api/tokens"];
    for method in ["post", "put", "delete"] {
        assert!(
            tokens[method].is_object(),
            "{method} /api/tokens undocumented"
        );
    }
}

#[tokio::test]
async fn docs_page_is_html_under_the_strict_csp() {
    let app = spawn_app().await;
    let answer = app.get("/api/docs").send().await;
    answer.assert_status(200);
    let csp = answer.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let html = answer.body.as_str().unwrap();
    assert!(html.contains("/api/tokens"));
}

#[tokio::test]
async fn every_answer_carries_nosniff_and_no_referrer() {
    let app = spawn_app().await;
    for path in ["/api/health", "/api/nothing-here"] {
        let answer = app.get(path).send().await;
        assert_eq!(
            answer.headers["x-content-type-options"], "nosniff",
            "{path}"
        );
        assert_eq!(answer.headers["referrer-policy"], "no-referrer", "{path}");
    }
}
