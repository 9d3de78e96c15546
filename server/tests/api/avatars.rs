//! Avatars, and the OpenAPI description of the user endpoints.

use crate::helpers::spawn_app;
use crate::me::me;

#[tokio::test]
async fn avatars_are_svg_identicons_cached_for_long() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let avatar_url = me(&app, &susan.access_token).await["avatar_url"]
        .as_str()
        .unwrap()
        .to_owned();

    // As an <img> asks for it: no credentials, the client's own `&s=`.
    let answer = app.get(&format!("{avatar_url}&s=48")).send().await;

    answer.assert_status(200);
    assert_eq!(answer.headers["content-type"], "image/svg+xml");
    let cache = answer.headers["cache-control"].to_str().unwrap();
    assert!(cache.contains("max-age=31536000"), "{cache}");
    assert!(cache.contains("public"), "{cache}");
    let svg = answer.body.as_str().unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.contains("width=\"48\" height=\"48\""), "{svg}");
}

#[tokio::test]
async fn an_avatar_is_the_same_for_an_id_and_differs_between_ids() {
    let app = spawn_app().await;
    let get = |path: String| {
        let app = &app;
        async move { app.get(&path).send().await.body }
    };

    let first = get("/api/avatars/1".into()).await;
    let again = get("/api/avatars/1".into()).await;
    let other = get("/api/avatars/2".into()).await;

    assert_eq!(first, again);
    assert_ne!(first, other);
}

#[tokio::test]
async fn avatar_sizes_default_to_128_and_are_clamped_to_16_through_512() {
    let app = spawn_app().await;
    for (query, size) in [
        ("", 128),
        ("?s=48", 48),
        ("?d=identicon&s=200", 200),
        ("?s=1", 16),
        ("?s=-5", 16),
        ("?s=100000", 512),
    ] {
        let answer = app.get(&format!("/api/avatars/7{query}")).send().await;

        answer.assert_status(200);
        let svg = answer.body.as_str().unwrap();
        assert!(
            svg.contains(&format!("width=\"{size}\" height=\"{size}\"")),
            "{query}: {svg}"
        );
    }
}

#[tokio::test]
async fn avatar_refuses_a_size_that_is_not_a_number() {
    let app = spawn_app().await;

    let answer = app.get("/api/avatars/7?s=big").send().await;

    answer.assert_error(400);
    assert!(
        answer.body["errors"]["query"]["s"].is_array(),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn avatar_of_a_non_numeric_id_is_a_json_404() {
    let app = spawn_app().await;

    app.get("/api/avatars/susan").send().await.assert_error(404);
}

#[tokio::test]
async fn openapi_documents_the_user_and_avatar_endpoints_with_summaries() {
    let app = spawn_app().await;

    let doc = app.get("/api/openapi.json").send().await.body;

    for (path, method) in [
        ("/api/users", "post"),
        ("/api/users/{id}", "get"),
        ("/api/me", "get"),
        ("/api/me", "put"),
        ("/api/avatars/{id}", "get"),
    ] {
        let operation = &doc["paths"][path][method];
        assert!(
            operation["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path}: {operation}"
        );
        assert_eq!(operation["tags"][0], "users", "{method} {path}");
    }
    assert!(
        doc["paths"]["/api/avatars/{id}"]["get"]["responses"]["200"]["content"]["image/svg+xml"]
            .is_object()
    );
}
