//! Guesses sent in parallel: each attempt is reserved before the password or code is
//! checked, so no burst verifies more than the limit allows.
//!
//! The harness connects from 127.0.0.1; other addresses come through `X-Forwarded-For`,
//! honoured with `TRUST_PROXY=true`.

use futures::future::join_all;
use serde_json::json;

use crate::account::{answer_challenge, code, enable_2fa, settle_step, wrong_code};
use crate::helpers::{Answer, PASSWORD, spawn_app_with};
use crate::throttle::login_from;

fn statuses(answers: &[Answer]) -> (usize, usize) {
    let refused = answers.iter().filter(|a| a.status == 429).count();
    for a in answers.iter().filter(|a| a.status == 429) {
        assert!(a.headers.contains_key("retry-after"), "{a:?}");
    }
    (answers.len() - refused, refused)
}

#[tokio::test]
async fn forty_parallel_wrong_passwords_are_verified_at_most_up_to_the_limit() {
    let app = spawn_app_with(&[("THROTTLE_LOGIN_PAIR", "5/900")]).await;
    app.user("susan").await;
    let answers = join_all((0..40).map(|_| app.login("susan", "a wrong guess"))).await;
    let (verified, refused) = statuses(&answers);
    assert!(verified <= 5, "{verified} guesses were verified");
    assert_eq!(verified + refused, 40);
    assert!(answers.iter().all(|a| a.status == 401 || a.status == 429));
}

#[tokio::test]
async fn parallel_wrong_current_passwords_are_verified_at_most_up_to_the_limit() {
    let app = spawn_app_with(&[("THROTTLE_REAUTH", "3/900")]).await;
    let susan = app.user("susan").await;
    let answers = join_all((0..20).map(|_| {
        app.put("/api/me")
            .bearer(&susan.access_token)
            .json(&json!({"password": "a brand new secret", "old_password": "a wrong guess"}))
            .send()
    }))
    .await;
    let (verified, _) = statuses(&answers);
    assert!(verified <= 3, "{verified} guesses were verified");
}

#[tokio::test]
async fn parallel_wrong_codes_are_checked_at_most_up_to_the_limit() {
    let app = spawn_app_with(&[
        ("TRUST_PROXY", "true"),
        ("THROTTLE_TWO_FACTOR_ACCOUNT", "3/900"),
        ("TWO_FACTOR_CHALLENGE_MAX_FAILURES", "100"),
    ])
    .await;
    let susan = app.user("susan").await;
    let (secret, _) = enable_2fa(&app, &susan).await;
    // A thief with the password, from an address Susan never used.
    let challenge = login_from(&app, "198.51.100.7", "susan", PASSWORD).await;
    challenge.assert_status(202);
    let c = challenge.body["challenge"].as_str().unwrap().to_owned();
    let wrong = wrong_code(&secret);
    let answers = join_all((0..20).map(|_| {
        app.post("/api/tokens/2fa")
            .header("X-Forwarded-For", "198.51.100.7")
            .json(&json!({"challenge": c, "code": wrong}))
            .send()
    }))
    .await;
    let (checked, _) = statuses(&answers);
    assert!(checked <= 3, "{checked} codes were checked");
}

#[tokio::test]
async fn ipv6_guessers_are_counted_by_their_64() {
    let app = spawn_app_with(&[("TRUST_PROXY", "true"), ("THROTTLE_LOGIN_PAIR", "3/900")]).await;
    app.user("susan").await;
    for i in 1..=3 {
        login_from(&app, &format!("2001:db8:7:7::{i}"), "susan", "guess")
            .await
            .assert_error(401);
    }
    login_from(&app, "2001:db8:7:7:ffff::1", "susan", PASSWORD)
        .await
        .assert_error(429);
    // Another /64 is another subscriber.
    login_from(&app, "2001:db8:7:8::1", "susan", PASSWORD)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_thief_guessing_codes_does_not_lock_the_owner_out_at_her_usual_address() {
    let app = spawn_app_with(&[
        ("TRUST_PROXY", "true"),
        ("THROTTLE_TWO_FACTOR_ACCOUNT", "3/900"),
    ])
    .await;
    // Susan logs in from her usual address (127.0.0.1, as the proxy reports it).
    let susan = app.user("susan").await;
    let (secret, _) = enable_2fa(&app, &susan).await;
    let thief = login_from(&app, "198.51.100.7", "susan", PASSWORD).await;
    let c = thief.body["challenge"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        app.post("/api/tokens/2fa")
            .header("X-Forwarded-For", "198.51.100.7")
            .json(&json!({"challenge": c, "code": wrong_code(&secret)}))
            .send()
            .await
            .assert_error(401);
    }
    // The thief is held up now...
    let held = app
        .post("/api/tokens/2fa")
        .header("X-Forwarded-For", "198.51.100.7")
        .json(&json!({"challenge": c, "code": code(&secret, 0)}))
        .send()
        .await;
    held.assert_error(429);
    // ...and Susan, at home, gets in with her code.
    settle_step().await;
    let mine = login_from(&app, "127.0.0.1", "susan", PASSWORD).await;
    mine.assert_status(202);
    let mine = mine.body["challenge"].as_str().unwrap().to_owned();
    answer_challenge(&app, &mine, &code(&secret, 1))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn wrong_current_passwords_do_not_hold_up_2fa_codes() {
    let app = spawn_app_with(&[
        ("TRUST_PROXY", "true"),
        ("THROTTLE_REAUTH", "2/900"),
        ("THROTTLE_TWO_FACTOR_ACCOUNT", "2/900"),
    ])
    .await;
    let susan = app.user("susan").await;
    let (secret, _) = enable_2fa(&app, &susan).await;
    for _ in 0..3 {
        app.put("/api/me")
            .bearer(&susan.access_token)
            .json(&json!({"password": "a brand new secret", "old_password": "a wrong guess"}))
            .send()
            .await;
    }
    // From a new address, where the account-wide code limit applies.
    settle_step().await;
    let c = login_from(&app, "198.51.100.9", "susan", PASSWORD).await;
    c.assert_status(202);
    let c = c.body["challenge"].as_str().unwrap().to_owned();
    app.post("/api/tokens/2fa")
        .header("X-Forwarded-For", "198.51.100.9")
        .json(&json!({"challenge": c, "code": code(&secret, 1)}))
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_password_alone_mints_a_limited_number_of_challenges() {
    let app = spawn_app_with(&[
        ("TRUST_PROXY", "true"),
        ("THROTTLE_TWO_FACTOR_CHALLENGE", "3/900"),
    ])
    .await;
    let susan = app.user("susan").await;
    enable_2fa(&app, &susan).await;
    for _ in 0..3 {
        login_from(&app, "198.51.100.7", "susan", PASSWORD)
            .await
            .assert_status(202);
    }
    login_from(&app, "198.51.100.7", "susan", PASSWORD)
        .await
        .assert_error(429);
    // Not at the address Susan completed a login from.
    login_from(&app, "127.0.0.1", "susan", PASSWORD)
        .await
        .assert_status(202);
}
