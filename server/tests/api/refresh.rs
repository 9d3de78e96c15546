//! `PUT /api/tokens`: refresh with rotation and reuse detection.

use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app, spawn_app_with};
use crate::tokens::{access_token, cookie_attributes, live_sessions, me_status};

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
