//! `/api/tokens`: login and logout; the cookie. Refreshing is in `refresh.rs`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::HeaderValue;
use serde_json::json;

use crate::helpers::{Answer, PASSWORD, TestApp, TestUser, spawn_app, spawn_app_with};

pub fn access_token(answer: &Answer) -> String {
    answer.body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token in {}", answer.body))
        .to_owned()
}

pub async fn me_status(app: &TestApp, access_token: &str) -> u16 {
    app.get("/api/me")
        .bearer(access_token)
        .send()
        .await
        .status
        .as_u16()
}

/// The attributes of a `Set-Cookie` value after `name=value`, in order.
pub fn cookie_attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_owned())
        .collect()
}

/// Whether the user's session family is still alive (not revoked).
pub async fn live_sessions(app: &TestApp, user: &TestUser) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM sessions WHERE user_id = {} AND revoked_at IS NULL",
        user.id
    ))
    .await
}
// --- POST /api/tokens -----------------------------------------------------------------

#[tokio::test]
async fn login_by_username_gives_an_access_token_and_the_refresh_cookie() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = app.login(&susan.username, &susan.password).await;

    answer.assert_status(200);
    let access = access_token(&answer);
    assert!(access.len() >= 43, "at least 256 bits: {access}");
    assert_eq!(answer.body["refresh_token"], json!(null));
    assert_eq!(answer.refresh_cookie().unwrap().len(), 43);
    assert_eq!(me_status(&app, &access).await, 200);
}

#[tokio::test]
async fn login_by_email_whatever_its_case() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    for name in [
        susan.email.as_str(),
        "SUSAN@Example.COM",
        " susan@example.com ",
    ] {
        let answer = app.login(name, &susan.password).await;

        answer.assert_status(200);
        assert_eq!(me_status(&app, &access_token(&answer)).await, 200, "{name}");
    }
}

#[tokio::test]
async fn the_refresh_cookie_has_exactly_the_attributes_of_auth_rule_10() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = app.login(&susan.username, &susan.password).await;

    let set_cookie = answer.set_cookie().unwrap();
    let attributes = cookie_attributes(&set_cookie);
    let (fixed, max_age) = attributes.split_at(4);
    assert_eq!(
        fixed,
        ["HttpOnly", "Secure", "SameSite=Strict", "Path=/api/tokens"]
    );
    let max_age: u64 = max_age[0]
        .strip_prefix("Max-Age=")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (7 * 24 * 3600 - 60..=7 * 24 * 3600).contains(&max_age),
        "{set_cookie}"
    );
    assert!(!set_cookie.to_ascii_lowercase().contains("domain"));
    assert_eq!(answer.headers.get_all("set-cookie").iter().count(), 1);
}

#[tokio::test]
async fn the_refresh_token_goes_in_the_body_only_when_configured() {
    let app = spawn_app_with(&[("REFRESH_TOKEN_IN_BODY", "true")]).await;
    let susan = app.user("susan").await;

    let answer = app.login(&susan.username, &susan.password).await;

    answer.assert_status(200);
    let in_body = answer.body["refresh_token"].as_str().unwrap();
    assert_eq!(Some(in_body.to_owned()), answer.refresh_cookie());
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let wrong_password = app.login(&susan.username, "not the password").await;
    let unknown_user = app.login("nobody", &susan.password).await;
    let unknown_email = app.login("nobody@example.com", &susan.password).await;

    for answer in [&wrong_password, &unknown_user, &unknown_email] {
        answer.assert_error(401);
        assert_eq!(answer.headers["www-authenticate"], "Form");
        assert!(answer.set_cookie().is_none());
        assert_eq!(answer.body, wrong_password.body);
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions").await,
        1,
        "only app.user()'s login"
    );
}

#[tokio::test]
async fn malformed_basic_credentials_get_401_form() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let b64 = |bytes: &[u8]| STANDARD.encode(bytes);
    let mut invalid_utf8 = b"susan:".to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, 0xfd]);
    let cases: Vec<(&str, Option<Vec<u8>>)> = vec![
        ("no header", None),
        ("scheme only", Some(b"Basic".to_vec())),
        ("not base64", Some(b"Basic !!!not base64!!!".to_vec())),
        (
            "invalid UTF-8 in the password",
            Some(format!("Basic {}", b64(&invalid_utf8)).into_bytes()),
        ),
        (
            "invalid UTF-8 in the name",
            Some(format!("Basic {}", b64(b"\xffsusan:x")).into_bytes()),
        ),
        (
            "no colon",
            Some(format!("Basic {}", b64(b"susan")).into_bytes()),
        ),
        (
            "empty password",
            Some(format!("Basic {}", b64(b"susan:")).into_bytes()),
        ),
        (
            "a Bearer token",
            Some(format!("Bearer {}", susan.access_token).into_bytes()),
        ),
        ("raw non-ASCII bytes", Some(b"Basic \xff\xfe".to_vec())),
    ];
    for (why, header) in cases {
        let mut request = app.http.post(format!("{}/api/tokens", app.address));
        if let Some(value) = header {
            request = request.header("Authorization", HeaderValue::from_bytes(&value).unwrap());
        }

        let response = request.send().await.unwrap();

        assert_eq!(response.status(), 401, "{why}");
        assert_eq!(response.headers()["www-authenticate"], "Form", "{why}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], 401, "{why}");
    }
}
// --- DELETE /api/tokens ---------------------------------------------------------------

pub async fn logout(app: &TestApp, access_token: &str) -> Answer {
    app.delete("/api/tokens")
        .bearer(access_token)
        .json(&json!({}))
        .send()
        .await
}

#[tokio::test]
async fn logout_clears_the_cookie_with_the_same_attributes() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = logout(&app, &susan.access_token).await;

    answer.assert_status(204);
    assert_eq!(answer.body, json!(null));
    assert_eq!(
        answer.set_cookie().unwrap(),
        "refresh_token=; HttpOnly; Secure; SameSite=Strict; Path=/api/tokens; Max-Age=0"
    );
}

#[tokio::test]
async fn logout_kills_the_access_token_at_once_and_the_refresh_token() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    logout(&app, &susan.access_token).await.assert_status(204);

    assert_eq!(me_status(&app, &susan.access_token).await, 401);
    app.refresh(&susan.refresh_token).await.assert_error(401);
    logout(&app, &susan.access_token).await.assert_error(401);
}

#[tokio::test]
async fn logout_ends_only_this_session() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let elsewhere = app.login(&susan.username, PASSWORD).await;

    logout(&app, &susan.access_token).await.assert_status(204);

    assert_eq!(me_status(&app, &access_token(&elsewhere)).await, 200);
}

#[tokio::test]
async fn logout_needs_a_valid_access_token() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    for token in ["null", "not-a-token", &susan.refresh_token] {
        logout(&app, token).await.assert_error(401);
    }
    assert_eq!(me_status(&app, &susan.access_token).await, 200);
}
