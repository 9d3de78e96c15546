//! The second step of a login for a 2FA account: challenges, codes, recovery codes.

use std::time::Duration;

use serde_json::{Value, json};

use crate::account::{
    answer_challenge, challenge, code, description, enable_2fa, spawn_mail_app, wrong_code,
};
use crate::helpers::{PASSWORD, spawn_app, spawn_app_with};

const CHALLENGE_GONE: &str =
    "This sign-in has expired or was already completed. Log in again with your password.";
const WRONG_CODE: &str = "The code is incorrect.";
const REPLAYED_CODE: &str =
    "This code was already used. Wait for the next code from your authenticator app.";

#[tokio::test]
async fn a_2fa_login_yields_only_a_challenge_then_tokens_for_a_code() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let (secret, _) = enable_2fa(&app, &susan).await;

    let first = app.login("susan", PASSWORD).await;
    first.assert_status(202);
    assert!(first.body.get("access_token").is_none(), "{}", first.body);
    assert!(
        first.set_cookie().is_none(),
        "no refresh cookie before the code"
    );
    let challenge = first.body["challenge"].as_str().unwrap();
    assert!(challenge.len() >= 43);
    let expires: wire::Timestamp = first.body["expires_at"].as_str().unwrap().parse().unwrap();
    let ttl = expires.as_micros() - server::db::now_micros();
    assert!(ttl > 0 && ttl <= 300_000_000, "{ttl}");
    // Only its hash is stored.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM login_challenges WHERE token_hash = '{challenge}'"
        ))
        .await,
        0
    );

    let done = answer_challenge(&app, challenge, &code(&secret, 0)).await;
    done.assert_status(200);
    let access = done.body["access_token"].as_str().unwrap();
    let cookie = done.set_cookie().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Path=/api/tokens"),
        "{cookie}"
    );
    app.get("/api/me/2fa")
        .bearer(access)
        .send()
        .await
        .assert_status(200);
    app.refresh(&done.refresh_cookie().unwrap())
        .await
        .assert_status(200);

    // Single use.
    let reused = answer_challenge(&app, challenge, &code(&secret, 1)).await;
    reused.assert_error(410);
    assert_eq!(description(&reused), CHALLENGE_GONE);
}

#[tokio::test]
async fn codes_of_the_adjacent_steps_pass_and_replays_fail() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    // Enabled with the code of step T-1.
    let (secret, _) = enable_2fa(&app, &susan).await;

    // T-1 again: a replay.
    let c = challenge(&app, &susan).await;
    let replay = answer_challenge(&app, &c, &code(&secret, -1)).await;
    replay.assert_error(401);
    assert_eq!(description(&replay), REPLAYED_CODE);
    // T+1: inside the window.
    answer_challenge(&app, &c, &code(&secret, 1))
        .await
        .assert_status(200);
    // T is now older than the last accepted step: refused as a replay.
    let c = challenge(&app, &susan).await;
    let older = answer_challenge(&app, &c, &code(&secret, 0)).await;
    older.assert_error(401);
    assert_eq!(description(&older), REPLAYED_CODE);
    // T+2 and T-2: outside the window.
    for offset in [2, -2] {
        let far = code(&secret, offset);
        if (-1..=1).any(|o| code(&secret, o) == far) {
            continue; // a one-in-a-million collision
        }
        let outside = answer_challenge(&app, &c, &far).await;
        outside.assert_error(401);
        assert_eq!(description(&outside), WRONG_CODE);
    }
}

#[tokio::test]
async fn a_wrong_code_leaves_the_challenge_usable_until_too_many_failures() {
    let app = spawn_app_with(&[("TWO_FACTOR_CHALLENGE_MAX_FAILURES", "2")]).await;
    let susan = app.user("susan").await;
    let (secret, _) = enable_2fa(&app, &susan).await;

    let c = challenge(&app, &susan).await;
    let wrong = answer_challenge(&app, &c, &wrong_code(&secret)).await;
    wrong.assert_error(401);
    assert_eq!(description(&wrong), WRONG_CODE);
    answer_challenge(&app, &c, &code(&secret, 0))
        .await
        .assert_status(200);

    let c = challenge(&app, &susan).await;
    for _ in 0..2 {
        answer_challenge(&app, &c, &wrong_code(&secret))
            .await
            .assert_error(401);
    }
    let late = answer_challenge(&app, &c, &code(&secret, 1)).await;
    late.assert_error(410);
    assert_eq!(description(&late), CHALLENGE_GONE);
}

#[tokio::test]
async fn a_challenge_expires() {
    let app = spawn_app_with(&[("TWO_FACTOR_CHALLENGE_TTL_SECS", "1")]).await;
    let susan = app.user("susan").await;
    let (secret, _) = enable_2fa(&app, &susan).await;
    let c = challenge(&app, &susan).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let late = answer_challenge(&app, &c, &code(&secret, 0)).await;
    late.assert_error(410);
    assert_eq!(description(&late), CHALLENGE_GONE);
}

#[tokio::test]
async fn recovery_codes_log_in_once_each() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let (_, codes) = enable_2fa(&app, &susan).await;

    let c = challenge(&app, &susan).await;
    let done = app
        .post("/api/tokens/2fa")
        .json(&json!({ "challenge": c, "recovery_code": codes[3].to_uppercase() }))
        .send()
        .await;
    done.assert_status(200);
    let access = done.body["access_token"].as_str().unwrap();
    let status = app.get("/api/me/2fa").bearer(access).send().await;
    assert_eq!(status.body["recovery_codes_left"], 9);

    let c = challenge(&app, &susan).await;
    let again = app
        .post("/api/tokens/2fa")
        .json(&json!({ "challenge": c, "recovery_code": codes[3] }))
        .send()
        .await;
    again.assert_error(401);
    assert_eq!(
        description(&again),
        "The recovery code is incorrect or was already used."
    );
}

#[tokio::test]
async fn the_second_step_wants_exactly_one_well_formed_code() {
    let app = spawn_app().await;
    for body in [
        json!({ "challenge": "c" }),
        json!({ "challenge": "c", "code": "123456", "recovery_code": "abcd-efgh-ijkl-mnop" }),
    ] {
        let answer = app.post("/api/tokens/2fa").json(&body).send().await;
        assert!(!answer.field_errors("_schema").is_empty(), "{body}");
    }
    let short = app
        .post("/api/tokens/2fa")
        .json(&json!({ "challenge": "c", "code": "12345" }))
        .send()
        .await;
    assert!(!short.field_errors("code").is_empty());
    let unknown = answer_challenge(&app, "no-such-challenge", "123456").await;
    unknown.assert_error(410);
    assert_eq!(description(&unknown), CHALLENGE_GONE);
}

#[tokio::test]
async fn wrong_codes_are_throttled_per_account_from_addresses_it_never_logged_in_from() {
    let app = spawn_app_with(&[
        ("TRUST_PROXY", "true"),
        ("THROTTLE_TWO_FACTOR_ACCOUNT", "3/60"),
    ])
    .await;
    let susan = app.user("susan").await;
    let (secret, _) = enable_2fa(&app, &susan).await;
    let from = |body: Value| {
        app.post("/api/tokens/2fa")
            .header("X-Forwarded-For", "198.51.100.7")
            .json(&body)
            .send()
    };
    let c = app
        .post("/api/tokens")
        .basic("susan", PASSWORD)
        .header("X-Forwarded-For", "198.51.100.7")
        .send()
        .await;
    c.assert_status(202);
    let c = c.body["challenge"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        from(json!({"challenge": c, "code": wrong_code(&secret)}))
            .await
            .assert_error(401);
    }
    // Even the right code waits now.
    let refused = from(json!({"challenge": c, "code": code(&secret, 0)})).await;
    refused.assert_error(429);
    let retry: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
}

#[tokio::test]
async fn a_password_reset_does_not_bypass_2fa() {
    let app = spawn_mail_app(&[]).await;
    let susan = app.user("susan").await;
    let (secret, _) = enable_2fa(&app, &susan).await;
    let pending = challenge(&app, &susan).await;

    let token = app.reset_token("susan@example.com").await;
    app.put("/api/tokens/reset")
        .json(&json!({ "token": token, "new_password": "a brand new passphrase" }))
        .send()
        .await
        .assert_status(204);

    // The challenge the old password opened is gone.
    let stale = answer_challenge(&app, &pending, &code(&secret, 0)).await;
    stale.assert_error(410);
    assert_eq!(description(&stale), CHALLENGE_GONE);
    // The new password still leads to a challenge, not to tokens.
    let login = app.login("susan", "a brand new passphrase").await;
    login.assert_status(202);
    assert!(login.set_cookie().is_none());
    answer_challenge(
        &app,
        login.body["challenge"].as_str().unwrap(),
        &code(&secret, 0),
    )
    .await
    .assert_status(200);
}
