//! `ALLOWED_ORIGINS` as an operator may write it, compared with the `Origin` a browser
//! sends: both in the URL standard's serialised form.

use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app_with;

/// How an operator might spell the origin that browsers send as `https://example.com`.
const CONFIGURED: &str = "HTTPS://Example.com:443";
const BROWSER_ORIGIN: &str = "https://example.com";

#[tokio::test]
async fn an_origin_configured_in_another_spelling_is_allowed_on_the_cookie_endpoint() {
    let app = spawn_app_with(&[("ALLOWED_ORIGINS", CONFIGURED)]).await;
    let susan = app.user("susan").await;

    let refreshed = app
        .put("/api/tokens")
        .header("Origin", BROWSER_ORIGIN)
        .cookie(&susan.refresh_token)
        .json(&json!({}))
        .send()
        .await;

    refreshed.assert_status(200);
    assert!(
        refreshed.refresh_cookie().is_some(),
        "the token was rotated"
    );
    assert_eq!(
        refreshed.headers["access-control-allow-origin"], BROWSER_ORIGIN,
        "CORS names the browser's origin"
    );
    assert_eq!(
        refreshed.headers["access-control-allow-credentials"],
        "true"
    );

    // Another site is still refused, by the CSRF check and by CORS.
    let foreign = app
        .put("/api/tokens")
        .header("Origin", "https://example.com.evil.example")
        .cookie(&susan.refresh_token)
        .json(&json!({}))
        .send()
        .await;
    foreign.assert_error(403);
    assert!(!foreign.headers.contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn the_preflight_allows_the_browsers_spelling_of_the_configured_origin() {
    let app = spawn_app_with(&[("ALLOWED_ORIGINS", CONFIGURED)]).await;

    let preflight = app
        .call(Method::OPTIONS, "/api/tokens")
        .header("Origin", BROWSER_ORIGIN)
        .header("Access-Control-Request-Method", "PUT")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await;

    assert!(preflight.status.is_success(), "{}", preflight.status);
    assert_eq!(
        preflight.headers["access-control-allow-origin"],
        BROWSER_ORIGIN
    );
    assert_eq!(
        preflight.headers["access-control-allow-credentials"],
        "true"
    );
}
