//! Login throttling (docs/security.md, "Guessing passwords and codes"): 429 with
//! Retry-After, and no lockout of the victim.
//!
//! The harness connects from 127.0.0.1; other addresses come through `X-Forwarded-For`,
//! honoured only with `TRUST_PROXY=true`. The policy itself is unit-tested in `throttle.rs`.

use std::time::Duration;

use crate::account::description;
use crate::helpers::{Answer, PASSWORD, TestApp, spawn_app_with};

pub async fn login_from(app: &TestApp, ip: &str, name: &str, password: &str) -> Answer {
    app.post("/api/tokens")
        .basic(name, password)
        .header("X-Forwarded-For", ip)
        .send()
        .await
}

fn retry_after(answer: &Answer) -> u64 {
    answer.assert_error(429);
    answer.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn failed_logins_end_in_429_with_retry_after() {
    let app = spawn_app_with(&[("THROTTLE_LOGIN_PAIR", "3/60")]).await;
    app.user("susan").await;
    for _ in 0..3 {
        app.login("susan", "wrong password").await.assert_error(401);
    }
    // Even the right password waits now: the answer must not confirm a guess.
    let refused = app.login("susan", PASSWORD).await;
    let wait = retry_after(&refused);
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(
        description(&refused).contains(&format!("Try again in {wait} seconds")),
        "{}",
        refused.body
    );
}

#[tokio::test]
async fn unknown_names_are_throttled_like_real_accounts() {
    let app = spawn_app_with(&[("THROTTLE_LOGIN_PAIR", "3/60")]).await;
    for _ in 0..3 {
        app.login("nobody", "wrong password")
            .await
            .assert_error(401);
    }
    retry_after(&app.login("nobody", "wrong password").await);
}

#[tokio::test]
async fn a_success_clears_the_count_of_its_address() {
    let app = spawn_app_with(&[("THROTTLE_LOGIN_PAIR", "3/60")]).await;
    app.user("susan").await;
    for _ in 0..2 {
        for _ in 0..2 {
            app.login("susan", "wrong password").await.assert_error(401);
        }
        app.login("susan", PASSWORD).await.assert_status(200);
    }
}

#[tokio::test]
async fn an_attacker_elsewhere_does_not_lock_the_victim_out() {
    let app = spawn_app_with(&[("TRUST_PROXY", "true"), ("THROTTLE_LOGIN_PAIR", "3/900")]).await;
    app.user("susan").await;
    for _ in 0..3 {
        login_from(&app, "203.0.113.66", "susan", "guess")
            .await
            .assert_error(401);
    }
    retry_after(&login_from(&app, "203.0.113.66", "susan", PASSWORD).await);
    // The victim, from her own address, logs in.
    login_from(&app, "198.51.100.7", "susan", PASSWORD)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn guessing_from_many_addresses_locks_the_account_briefly_and_never_at_home() {
    let app = spawn_app_with(&[
        ("TRUST_PROXY", "true"),
        // Long enough for three password checks, slow in a debug build on a busy machine.
        ("THROTTLE_LOGIN_ACCOUNT", "3/20"),
    ])
    .await;
    // Susan logged in from 127.0.0.1 (the harness registers and logs in without a proxy).
    app.user("susan").await;
    for i in 1..=3 {
        login_from(&app, &format!("203.0.113.{i}"), "susan", "guess")
            .await
            .assert_error(401);
    }
    // From a new address she waits a short while...
    let wait = retry_after(&login_from(&app, "198.51.100.7", "susan", PASSWORD).await);
    assert!(wait <= 20, "{wait}");
    // ...but never at an address she logged in from before.
    app.login("susan", PASSWORD).await.assert_status(200);
    tokio::time::sleep(Duration::from_secs(wait)).await;
    login_from(&app, "198.51.100.7", "susan", PASSWORD)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn forwarded_for_is_ignored_unless_the_proxy_is_trusted() {
    let app = spawn_app_with(&[("THROTTLE_LOGIN_PAIR", "3/60")]).await;
    app.user("susan").await;
    for i in 1..=3 {
        login_from(&app, &format!("203.0.113.{i}"), "susan", "guess")
            .await
            .assert_error(401);
    }
    // All came from 127.0.0.1, whatever the header claimed.
    retry_after(&login_from(&app, "198.51.100.7", "susan", PASSWORD).await);
}

#[tokio::test]
async fn guessing_the_current_password_through_put_me_is_throttled() {
    let app = spawn_app_with(&[("THROTTLE_REAUTH", "3/60")]).await;
    let susan = app.user("susan").await;
    let change = |old: &'static str| {
        app.put("/api/me")
            .bearer(&susan.access_token)
            .json(&serde_json::json!({"password": "a brand new secret", "old_password": old}))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(
            change("a wrong guess")
                .await
                .field_errors("old_password")
                .len(),
            1
        );
    }
    // The right password waits too: the answer must not confirm a guess.
    let refused = change(PASSWORD).await;
    assert!(retry_after(&refused) >= 1);
    app.login("susan", PASSWORD).await.assert_status(200);
}

/// Everything the throttle table holds, as three numbers: rows, attempts counted, and the
/// latest end of a window (a row written again moves it).
async fn throttle_state(app: &TestApp) -> [i64; 3] {
    [
        app.count("SELECT COUNT(*) FROM throttle").await,
        app.count("SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM throttle")
            .await,
        app.count("SELECT CAST(COALESCE(MAX(ends_at), 0) AS BIGINT) FROM throttle")
            .await,
    ]
}

#[tokio::test]
async fn reads_writes_and_refreshes_leave_the_throttle_table_alone() {
    let app = spawn_app_with(&[]).await;
    let susan = app.user("susan").await;
    let john = app.user("john").await;
    // The logins above wrote their rows (a known address each); what follows must not.
    let before = throttle_state(&app).await;
    assert!(
        before[0] > 0,
        "the logins left no row: is the table still in use?"
    );
    let post = app
        .post("/api/posts")
        .bearer(&susan.access_token)
        .json(&serde_json::json!({"text": "hello"}))
        .send()
        .await;
    post.assert_status(201);
    app.post(&format!("/api/me/following/{}", john.id))
        .bearer(&susan.access_token)
        .send()
        .await
        .assert_status(204);
    for path in [
        "/api/me".to_owned(),
        "/api/feed".to_owned(),
        "/api/posts".to_owned(),
        "/api/users".to_owned(),
        format!("/api/users/{}", john.id),
        format!("/api/users/{}/posts", susan.id),
        format!("/api/users/{}/followers", john.id),
        format!("/api/posts/{}", post.body["id"]),
    ] {
        app.get(&path)
            .bearer(&susan.access_token)
            .send()
            .await
            .assert_status(200);
    }
    app.refresh(&susan.refresh_token).await.assert_status(200);
    assert_eq!(throttle_state(&app).await, before);
}
