//! An SPA on another site than the API (`https://blog.example` and
//! `https://api.example.net`): the refresh cookie must be `SameSite=None` for the browser
//! to send it on the SPA's cross-site calls, and then CORS and the CSRF check are all
//! that keep other sites out. What the headers say, for each case.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app_with};

const SPA: &str = "https://blog.example";

async fn cross_site_app() -> TestApp {
    spawn_app_with(&[
        ("PUBLIC_URL", SPA),
        ("ALLOWED_ORIGINS", SPA),
        ("API_ORIGIN", "https://api.example.net"),
        ("REFRESH_COOKIE_SAMESITE", "None"),
    ])
    .await
}

fn attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect()
}

#[tokio::test]
async fn the_refresh_cookie_goes_cross_site_only_as_secure_httponly_samesite_none() {
    let app = cross_site_app().await;
    let susan = app.user("susan").await;
    let login = app.login("susan", &susan.password).await;
    let cookie = attributes(&login.set_cookie().unwrap());
    for wanted in ["samesite=none", "secure", "httponly", "path=/api/tokens"] {
        assert!(
            cookie.contains(&wanted.to_owned()),
            "{wanted} in {cookie:?}"
        );
    }
    // Rotated and cleared with the same attributes, or the browser keeps the old one.
    let refreshed = app
        .put("/api/tokens")
        .header("Origin", SPA)
        .cookie(&login.refresh_cookie().unwrap())
        .json(&json!({}))
        .send()
        .await;
    refreshed.assert_status(200);
    assert!(attributes(&refreshed.set_cookie().unwrap()).contains(&"samesite=none".to_owned()));
    let token = refreshed.body["access_token"].as_str().unwrap();
    let out = app
        .delete("/api/tokens")
        .header("Origin", SPA)
        .bearer(token)
        .json(&json!({}))
        .send()
        .await;
    out.assert_status(204);
    let cleared = attributes(&out.set_cookie().unwrap());
    assert!(cleared.contains(&"samesite=none".to_owned()));
    assert!(cleared.contains(&"max-age=0".to_owned()));
}

#[tokio::test]
async fn with_samesite_none_only_the_listed_origin_may_use_the_cookie() {
    let app = cross_site_app().await;
    let susan = app.user("susan").await;
    // The SPA's preflight and call are allowed, with credentials.
    let preflight = app
        .call(Method::OPTIONS, "/api/tokens")
        .header("Origin", SPA)
        .header("Access-Control-Request-Method", "PUT")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await;
    assert_eq!(preflight.headers["access-control-allow-origin"], SPA);
    assert_eq!(
        preflight.headers["access-control-allow-credentials"],
        "true"
    );
    // Any other site, which the browser now sends the cookie from too, is refused by the
    // CSRF check before the cookie is read, and gets no CORS grant to read the answer.
    for other in [
        "https://evil.example",
        "https://api.example.net.evil.example",
        "null",
    ] {
        let preflight = app
            .call(Method::OPTIONS, "/api/tokens")
            .header("Origin", other)
            .header("Access-Control-Request-Method", "PUT")
            .send()
            .await;
        assert!(
            !preflight
                .headers
                .contains_key("access-control-allow-origin"),
            "{other}"
        );
        let forged = app
            .put("/api/tokens")
            .header("Origin", other)
            .cookie(&susan.refresh_token)
            .json(&json!({}))
            .send()
            .await;
        forged.assert_error(403);
        assert!(forged.set_cookie().is_none(), "{other}");
    }
    // A form post (no preflight possible) is refused for its content type alone.
    app.put("/api/tokens")
        .header("Origin", SPA)
        .cookie(&susan.refresh_token)
        .raw_body("application/x-www-form-urlencoded", "a=1")
        .send()
        .await
        .assert_error(415);
}

#[tokio::test]
async fn the_default_strict_cookie_serves_an_spa_on_the_same_site() {
    // 127.0.0.1:A and 127.0.0.1:B, or app.example.com and api.example.com: one site, so
    // the browser sends a Strict cookie on the SPA's calls. That is the default.
    let app = spawn_app_with(&[
        ("PUBLIC_URL", "http://127.0.0.1:9"),
        ("ALLOWED_ORIGINS", "http://127.0.0.1:9"),
    ])
    .await;
    let susan = app.user("susan").await;
    let login = app.login("susan", &susan.password).await;
    assert!(attributes(&login.set_cookie().unwrap()).contains(&"samesite=strict".to_owned()));
    let refreshed = app
        .put("/api/tokens")
        .header("Origin", "http://127.0.0.1:9")
        .cookie(&susan.refresh_token)
        .json(&json!({}))
        .send()
        .await;
    refreshed.assert_status(200);
    assert_eq!(
        refreshed.headers["access-control-allow-origin"],
        "http://127.0.0.1:9"
    );
}
