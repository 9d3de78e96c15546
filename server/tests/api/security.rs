//! CSRF and CORS refusals, bad input, and secrets kept out of response bodies.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Answer, PASSWORD, TestApp, spawn_app};

const ALLOWED_ORIGIN: &str = "http://localhost:8080";
const FOREIGN_ORIGIN: &str = "https://evil.example";

// --- CSRF on the cookie-authenticated endpoints ---------------------------------------

#[tokio::test]
async fn refresh_and_logout_refuse_a_body_not_declared_json_with_415() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
    ] {
        let mut refresh = app.put("/api/tokens").cookie(&susan.refresh_token);
        let mut logout = app.delete("/api/tokens").bearer(&susan.access_token);
        if let Some(ct) = content_type {
            refresh = refresh.raw_body(ct, "{}");
            logout = logout.raw_body(ct, "{}");
        }

        refresh.send().await.assert_error(415);
        logout.send().await.assert_error(415);
    }
    // Nothing happened: the session is as it was.
    app.refresh(&susan.refresh_token).await.assert_status(200);
}

#[tokio::test]
async fn refresh_and_logout_refuse_a_foreign_origin_with_403() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    for origin in [FOREIGN_ORIGIN, "null", "http://localhost:8081"] {
        let refresh = app
            .put("/api/tokens")
            .header("Origin", origin)
            .cookie(&susan.refresh_token)
            .json(&json!({}))
            .send()
            .await;
        let logout = app
            .delete("/api/tokens")
            .header("Origin", origin)
            .bearer(&susan.access_token)
            .json(&json!({}))
            .send()
            .await;

        refresh.assert_error(403);
        assert!(refresh.set_cookie().is_none(), "{origin}: no rotation");
        logout.assert_error(403);
    }
    app.refresh(&susan.refresh_token).await.assert_status(200);
}

#[tokio::test]
async fn refresh_and_logout_accept_the_allowed_origin_and_the_servers_own() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let own_origin = app.address.clone();

    let refreshed = app
        .put("/api/tokens")
        .header("Origin", ALLOWED_ORIGIN)
        .cookie(&susan.refresh_token)
        .json(&json!({}))
        .send()
        .await;
    let logged_out = app
        .delete("/api/tokens")
        .header("Origin", &own_origin)
        .bearer(&susan.access_token)
        .json(&json!({}))
        .send()
        .await;

    refreshed.assert_status(200);
    logged_out.assert_status(204);
}

// --- CORS -----------------------------------------------------------------------------

async fn preflight(app: &TestApp, origin: &str, method: &str) -> Answer {
    app.call(Method::OPTIONS, "/api/tokens")
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
}

#[tokio::test]
async fn a_preflight_from_the_allowed_origin_is_allowed_with_credentials() {
    let app = spawn_app().await;

    let answer = preflight(&app, ALLOWED_ORIGIN, "PUT").await;

    assert!(answer.status.is_success(), "{}", answer.status);
    assert_eq!(
        answer.headers["access-control-allow-origin"],
        ALLOWED_ORIGIN
    );
    assert_eq!(answer.headers["access-control-allow-credentials"], "true");
    let methods = answer.headers["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(methods.contains("PUT"), "{methods}");
}

#[tokio::test]
async fn a_preflight_from_a_foreign_origin_gets_no_allow_origin() {
    let app = spawn_app().await;

    for method in ["PUT", "DELETE", "POST"] {
        let answer = preflight(&app, FOREIGN_ORIGIN, method).await;

        assert!(
            answer.headers.get("access-control-allow-origin").is_none(),
            "{method}: {:?}",
            answer.headers
        );
    }
}

#[tokio::test]
async fn cors_never_answers_a_wildcard_or_a_reflected_foreign_origin() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    for origin in [ALLOWED_ORIGIN, FOREIGN_ORIGIN, "null"] {
        for answer in [
            app.get("/api/health").header("Origin", origin).send().await,
            app.get("/api/me")
                .header("Origin", origin)
                .bearer(&susan.access_token)
                .send()
                .await,
            preflight(&app, origin, "GET").await,
        ] {
            let acao = answer
                .headers
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap().to_owned());
            assert_ne!(acao.as_deref(), Some("*"));
            let expected = (origin == ALLOWED_ORIGIN).then(|| origin.to_owned());
            assert_eq!(acao, expected, "{origin}");
        }
    }
}

// --- Endpoints that need no login -----------------------------------------------------

#[tokio::test]
async fn endpoints_that_need_no_login_ignore_bearer_null() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answers = [
        app.get("/api/health").send_with_bearer_null().await,
        app.get("/api/avatars/1?s=48").send_with_bearer_null().await,
        app.get("/api/openapi.json").send_with_bearer_null().await,
        app.post("/api/users")
            .json(&json!({"username": "john", "email": "john@example.com", "password": PASSWORD}))
            .send_with_bearer_null()
            .await,
        app.put("/api/tokens")
            .cookie(&susan.refresh_token)
            .json(&json!({}))
            .send_with_bearer_null()
            .await,
    ];

    for answer in answers {
        assert!(answer.status.is_success(), "{answer:?}");
    }
}

trait BearerNull {
    async fn send_with_bearer_null(self) -> Answer;
}

impl BearerNull for crate::helpers::Call<'_> {
    async fn send_with_bearer_null(self) -> Answer {
        self.header("Authorization", "Bearer null").send().await
    }
}

// --- Bad input to the token endpoints -------------------------------------------------

#[tokio::test]
async fn refresh_refuses_bad_bodies_with_json_errors() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let big = format!(r#"{{"access_token": "{}"}}"#, "x".repeat(70 * 1024));
    let cases: [(&str, String, u16); 5] = [
        ("malformed", "{\"access_token\":".into(), 400),
        ("unknown field", r#"{"refresh": "x"}"#.into(), 400),
        ("wrong type", r#"{"access_token": 5}"#.into(), 400),
        ("not an object", "[1, 2]".into(), 400),
        ("over 64 KiB", big, 413),
    ];
    for (why, body, status) in cases {
        let answer = app
            .put("/api/tokens")
            .cookie(&susan.refresh_token)
            .raw_body("application/json", body)
            .send()
            .await;

        answer.assert_error(status);
        assert!(answer.set_cookie().is_none(), "{why}: no rotation");
    }
    app.refresh(&susan.refresh_token).await.assert_status(200);
}

#[tokio::test]
async fn token_answers_are_never_cached() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let login = app.login(&susan.username, PASSWORD).await;
    let refresh = app.refresh(&susan.refresh_token).await;

    for answer in [login, refresh] {
        assert_eq!(answer.headers["cache-control"], "no-store");
    }
}

// --- No secret in any response body ---------------------------------------------------

#[tokio::test]
async fn no_response_body_carries_a_refresh_token_a_password_or_a_hash() {
    let app = spawn_app().await;
    let mut answers = Vec::new();
    let mut refresh_tokens = Vec::new();

    let body = json!({"username": "susan", "email": "susan@example.com", "password": PASSWORD});
    answers.push(app.post("/api/users").json(&body).send().await);
    let login = app.login("susan", PASSWORD).await;
    refresh_tokens.push(login.refresh_cookie().unwrap());
    let access = login.body["access_token"].as_str().unwrap().to_owned();
    answers.push(login);
    let refreshed = app.refresh(&refresh_tokens[0]).await;
    refresh_tokens.push(refreshed.refresh_cookie().unwrap());
    answers.push(refreshed);
    answers.push(app.get("/api/me").bearer(&access).send().await);
    answers.push(app.get("/api/users/susan").bearer(&access).send().await);
    answers.push(
        app.put("/api/me")
            .bearer(&access)
            .json(&json!({"password": "a brand new secret", "old_password": PASSWORD}))
            .send()
            .await,
    );
    answers.push(app.login("susan", "wrong password").await);
    answers.push(app.refresh(&refresh_tokens[0]).await); // reuse within grace
    answers.push(
        app.delete("/api/tokens")
            .bearer(&access)
            .json(&json!({}))
            .send()
            .await,
    );

    for answer in &answers {
        let text = answer.body.to_string();
        for secret in refresh_tokens.iter().map(String::as_str).chain([
            PASSWORD,
            "a brand new secret",
            "wrong password",
            "$argon2",
        ]) {
            assert!(!text.contains(secret), "{secret:?} in {text}");
        }
    }
}
