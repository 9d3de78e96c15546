//! `/api/tokens`: login, refresh with rotation and reuse detection, logout; the cookie.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures::future::join_all;
use reqwest::header::HeaderValue;
use serde_json::json;

use crate::helpers::{Answer, PASSWORD, TestApp, TestUser, spawn_app, spawn_app_with};

fn access_token(answer: &Answer) -> String {
    answer.body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token in {}", answer.body))
        .to_owned()
}

async fn me_status(app: &TestApp, access_token: &str) -> u16 {
    app.get("/api/me")
        .bearer(access_token)
        .send()
        .await
        .status
        .as_u16()
}

/// The attributes of a `Set-Cookie` value after `name=value`, in order.
fn cookie_attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_owned())
        .collect()
}

/// Whether the user's session family is still alive (not revoked).
async fn live_sessions(app: &TestApp, user: &TestUser) -> i64 {
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
    // The refresh cookie and the session hint, nothing else.
    assert_eq!(answer.headers.get_all("set-cookie").iter().count(), 2);
}

/// Every `Set-Cookie` of an answer for `name`, whole.
fn set_cookies_named(answer: &Answer, name: &str) -> Vec<String> {
    answer
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_owned)
        .collect()
}

fn max_age(set_cookie: &str) -> u64 {
    cookie_attributes(set_cookie)
        .iter()
        .find_map(|a| a.strip_prefix("Max-Age="))
        .unwrap_or_else(|| panic!("no Max-Age in {set_cookie}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_script_readable_session_hint_is_set_and_cleared_with_the_refresh_cookie() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    // Set by a login and by each rotation, for as long as the refresh cookie lives.
    let login = app.login(&susan.username, &susan.password).await;
    let rotated = app.refresh(&login.refresh_cookie().unwrap()).await;
    for (what, answer) in [("login", &login), ("refresh", &rotated)] {
        answer.assert_status(200);
        let hints = set_cookies_named(answer, "session_hint");
        assert_eq!(hints.len(), 1, "{what}: {hints:?}");
        let hint = &hints[0];
        assert!(hint.starts_with("session_hint=1;"), "{what}: {hint}");
        let attributes = cookie_attributes(hint);
        assert_eq!(
            attributes[..3],
            ["Secure", "SameSite=Strict", "Path=/"],
            "{what}: {hint}"
        );
        // Readable by the page's script, and it carries no token.
        assert!(!hint.contains("HttpOnly"), "{what}: {hint}");
        assert!(
            !hint.to_ascii_lowercase().contains("domain"),
            "{what}: {hint}"
        );
        let refresh = answer.set_cookie().unwrap();
        assert!(!hint.contains(&answer.refresh_cookie().unwrap()), "{what}");
        assert!(
            max_age(hint).abs_diff(max_age(&refresh)) <= 1,
            "{what}: {hint} vs {refresh}"
        );
    }

    // Cleared by a logout and by a refused refresh, like the refresh cookie.
    let access = access_token(&rotated);
    let logout = app
        .delete("/api/tokens")
        .bearer(&access)
        .json(&json!({}))
        .send()
        .await;
    logout.assert_status(204);
    let refused = app.refresh("no-such-token").await;
    for (what, answer) in [("logout", &logout), ("refused refresh", &refused)] {
        let hints = set_cookies_named(answer, "session_hint");
        assert_eq!(
            hints,
            ["session_hint=; Secure; SameSite=Strict; Path=/; Max-Age=0"],
            "{what}"
        );
        let refresh = set_cookies_named(answer, "refresh_token");
        assert_eq!(refresh.len(), 1, "{what}: {refresh:?}");
        assert!(refresh[0].contains("Max-Age=0"), "{what}: {refresh:?}");
    }
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

// --- PUT /api/tokens ------------------------------------------------------------------

#[tokio::test]
async fn refresh_with_the_cookie_alone_rotates_it() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = app.refresh(&susan.refresh_token).await;

    answer.assert_status(200);
    assert_eq!(answer.body["refresh_token"], json!(null));
    let new_refresh = answer.refresh_cookie().unwrap();
    assert_ne!(new_refresh, susan.refresh_token);
    let new_access = access_token(&answer);
    assert_ne!(new_access, susan.access_token);
    assert_eq!(me_status(&app, &new_access).await, 200);
    app.refresh(&new_refresh).await.assert_status(200);
}

#[tokio::test]
async fn refresh_accepts_an_empty_body_and_nulls() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let mut refresh_token = susan.refresh_token.clone();

    for body in ["", "{}", r#"{"access_token": null, "refresh_token": null}"#] {
        let answer = app
            .put("/api/tokens")
            .cookie(&refresh_token)
            .raw_body("application/json", body)
            .send()
            .await;

        answer.assert_status(200);
        refresh_token = answer.refresh_cookie().unwrap();
    }
}

#[tokio::test]
async fn refresh_with_the_refresh_token_in_the_body_and_no_cookie() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = app
        .put("/api/tokens")
        .json(&json!({"refresh_token": susan.refresh_token}))
        .send()
        .await;

    answer.assert_status(200);
    assert_eq!(me_status(&app, &access_token(&answer)).await, 200);
}

#[tokio::test]
async fn refresh_with_the_access_token_of_the_same_session_as_the_reference_client() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = app
        .put("/api/tokens")
        .cookie(&susan.refresh_token)
        .json(&json!({"access_token": susan.access_token, "refresh_token": null}))
        .send()
        .await;

    answer.assert_status(200);
}

#[tokio::test]
async fn refresh_with_an_access_token_of_another_session_is_refused() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let john = app.user("john").await;
    let susan_elsewhere = access_token(&app.login(&susan.username, PASSWORD).await);

    for (whose, access) in [
        ("another user's", john.access_token.as_str()),
        (
            "another session's of the same user",
            susan_elsewhere.as_str(),
        ),
        ("an unknown", "not-a-token"),
    ] {
        let answer = app
            .put("/api/tokens")
            .cookie(&susan.refresh_token)
            .json(&json!({ "access_token": access }))
            .send()
            .await;

        answer.assert_error(401);
        assert!(answer.set_cookie().is_some(), "{whose}: cookie cleared");
    }
    // A mismatch proves nothing against the session: its refresh token still works.
    app.refresh(&susan.refresh_token).await.assert_status(200);
}

#[tokio::test]
async fn refresh_ignores_a_bad_bearer_header() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = app
        .put("/api/tokens")
        .header("Authorization", "Bearer expired-or-garbage")
        .cookie(&susan.refresh_token)
        .json(&json!({}))
        .send()
        .await;

    answer.assert_status(200);
}

#[tokio::test]
async fn refresh_without_a_token_or_with_an_unknown_one_is_401_clearing_the_cookie() {
    let app = spawn_app().await;

    let answers = [
        app.put("/api/tokens").json(&json!({})).send().await,
        app.refresh("no-such-token").await,
        app.refresh(&"A".repeat(43)).await,
    ];

    for answer in answers {
        answer.assert_error(401);
        let set_cookie = answer.set_cookie().unwrap();
        assert!(set_cookie.starts_with("refresh_token=;"), "{set_cookie}");
        assert!(set_cookie.contains("Max-Age=0"), "{set_cookie}");
    }
}

#[tokio::test]
async fn the_predecessor_within_the_grace_gets_the_same_current_token() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let first = app.refresh(&susan.refresh_token).await;
    let current = first.refresh_cookie().unwrap();

    // The same old cookie again, as from a request that raced the rotation.
    let raced = app.refresh(&susan.refresh_token).await;

    raced.assert_status(200);
    assert_eq!(raced.refresh_cookie().unwrap(), current, "one lineage");
    assert_eq!(me_status(&app, &access_token(&raced)).await, 200);
    app.refresh(&current).await.assert_status(200);
}

#[tokio::test]
async fn a_token_older_than_the_predecessor_revokes_the_family_even_within_the_grace() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let r1 = app
        .refresh(&susan.refresh_token)
        .await
        .refresh_cookie()
        .unwrap();
    let second = app.refresh(&r1).await;
    let r2 = second.refresh_cookie().unwrap();
    let a2 = access_token(&second);

    let reuse = app.refresh(&susan.refresh_token).await;

    reuse.assert_error(401);
    app.refresh(&r2).await.assert_error(401);
    assert_eq!(me_status(&app, &a2).await, 401);
    assert_eq!(live_sessions(&app, &susan).await, 0);
}

#[tokio::test]
async fn a_wrong_access_token_does_not_let_a_replayed_refresh_token_dodge_revocation() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let r1 = app
        .refresh(&susan.refresh_token)
        .await
        .refresh_cookie()
        .unwrap();
    let r2 = app.refresh(&r1).await.refresh_cookie().unwrap();

    let replay = app
        .put("/api/tokens")
        .cookie(&susan.refresh_token)
        .json(&json!({"access_token": "a guess"}))
        .send()
        .await;

    replay.assert_error(401);
    app.refresh(&r2).await.assert_error(401);
    assert_eq!(live_sessions(&app, &susan).await, 0);
}

#[tokio::test]
async fn the_predecessor_after_the_grace_revokes_the_whole_family() {
    let app = spawn_app_with(&[("REFRESH_GRACE_SECS", "1")]).await;
    let susan = app.user("susan").await;
    let rotated = app.refresh(&susan.refresh_token).await;
    let current_refresh = rotated.refresh_cookie().unwrap();
    let current_access = access_token(&rotated);
    // The behaviour under test is the passing of time: the grace must run out.
    tokio::time::sleep(Duration::from_millis(1_200)).await;

    let reuse = app.refresh(&susan.refresh_token).await;

    reuse.assert_error(401);
    assert!(reuse.set_cookie().unwrap().contains("Max-Age=0"));
    app.refresh(&current_refresh).await.assert_error(401);
    assert_eq!(me_status(&app, &current_access).await, 401);
    assert_eq!(me_status(&app, &susan.access_token).await, 401);
    assert_eq!(live_sessions(&app, &susan).await, 0);
}

#[tokio::test]
async fn reuse_revokes_only_that_login_not_the_users_other_sessions() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let elsewhere = app.login(&susan.username, PASSWORD).await;
    let r1 = app
        .refresh(&susan.refresh_token)
        .await
        .refresh_cookie()
        .unwrap();
    app.refresh(&r1).await.assert_status(200);

    app.refresh(&susan.refresh_token).await.assert_error(401);

    assert_eq!(me_status(&app, &access_token(&elsewhere)).await, 200);
    app.refresh(&elsewhere.refresh_cookie().unwrap())
        .await
        .assert_status(200);
}

#[tokio::test]
async fn parallel_refreshes_with_one_cookie_all_succeed_on_one_lineage() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answers = join_all((0..8).map(|_| app.refresh(&susan.refresh_token))).await;

    for answer in &answers {
        answer.assert_status(200);
    }
    let cookies: Vec<String> = answers
        .iter()
        .map(|a| a.refresh_cookie().unwrap())
        .collect();
    assert!(
        cookies.iter().all(|c| *c == cookies[0]),
        "one lineage: {cookies:?}"
    );
    for answer in &answers {
        assert_eq!(me_status(&app, &access_token(answer)).await, 200);
    }
    assert_eq!(live_sessions(&app, &susan).await, 1, "nobody logged out");
    app.refresh(&cookies[0]).await.assert_status(200);
}

#[tokio::test]
async fn an_expired_access_token_is_refused_and_a_refresh_brings_a_new_one() {
    let app = spawn_app_with(&[("ACCESS_TOKEN_TTL_SECS", "1")]).await;
    let susan = app.user("susan").await;
    // The behaviour under test is expiry: poll until the one-second token dies.
    let started = Instant::now();
    while me_status(&app, &susan.access_token).await == 200 {
        assert!(started.elapsed() < Duration::from_secs(5), "never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let answer = app
        .put("/api/tokens")
        .cookie(&susan.refresh_token)
        .json(&json!({"access_token": susan.access_token}))
        .send()
        .await;

    answer.assert_status(200);
    assert_eq!(me_status(&app, &access_token(&answer)).await, 200);
}

#[tokio::test]
async fn rotation_never_extends_the_refresh_tokens_absolute_lifetime() {
    let app = spawn_app_with(&[("REFRESH_TOKEN_TTL_SECS", "2")]).await;
    let susan = app.user("susan").await;
    let rotated = app.refresh(&susan.refresh_token).await;
    rotated.assert_status(200);
    let max_age = cookie_attributes(&rotated.set_cookie().unwrap())
        .iter()
        .find_map(|a| {
            a.strip_prefix("Max-Age=")
                .map(|v| v.parse::<u64>().unwrap())
        })
        .unwrap();
    assert!(max_age <= 2, "Max-Age {max_age}");
    // The behaviour under test is the session's end, two seconds after login.
    tokio::time::sleep(Duration::from_millis(2_100)).await;

    let late = app.refresh(&rotated.refresh_cookie().unwrap()).await;

    late.assert_error(401);
}

// --- DELETE /api/tokens ---------------------------------------------------------------

async fn logout(app: &TestApp, access_token: &str) -> Answer {
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
