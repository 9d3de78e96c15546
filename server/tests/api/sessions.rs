//! The caller's sessions (devices): list, revoke one, revoke all others.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, spawn_app};

const FIREFOX_ON_WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0";
const SAFARI_ON_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/// Logs `name` in again with a user agent; returns (access token, refresh token).
async fn login_as(app: &TestApp, name: &str, user_agent: &str) -> (String, String) {
    let answer = app
        .post("/api/tokens")
        .basic(name, PASSWORD)
        .header("User-Agent", user_agent)
        .send()
        .await;
    answer.assert_status(200);
    (
        answer.body["access_token"].as_str().unwrap().to_owned(),
        answer.refresh_cookie().unwrap(),
    )
}

async fn list(app: &TestApp, access: &str) -> Vec<Value> {
    let answer = app.get("/api/me/sessions").bearer(access).send().await;
    answer.assert_status(200);
    answer.body.as_array().expect("a JSON array").clone()
}

#[tokio::test]
async fn the_list_shows_live_sessions_newest_first_and_marks_the_current_one() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let (firefox, _) = login_as(&app, "susan", FIREFOX_ON_WINDOWS).await;
    let (safari, _) = login_as(&app, "susan", SAFARI_ON_IOS).await;
    let john = app.user("john").await;

    let sessions = list(&app, &firefox).await;
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    let devices: Vec<&str> = sessions
        .iter()
        .map(|s| s["device"].as_str().unwrap())
        .collect();
    assert_eq!(devices[0], "Safari on iOS");
    assert_eq!(devices[1], "Firefox on Windows");
    let current: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["user_agent"], FIREFOX_ON_WINDOWS);
    let first = &sessions[0];
    assert_eq!(first["client_ip"], "127.0.0.1");
    for key in [
        "id",
        "created_at",
        "last_used_at",
        "client_ip",
        "user_agent",
        "device",
        "current",
    ] {
        assert!(first.get(key).is_some(), "{key} missing in {first}");
    }
    assert!(first["created_at"].as_str().unwrap().ends_with('Z'));

    // Logging out removes a session from the list; other users' never appear.
    app.delete("/api/tokens")
        .bearer(&safari)
        .json(&json!({}))
        .send()
        .await
        .assert_status(204);
    let sessions = list(&app, &susan.access_token).await;
    assert_eq!(sessions.len(), 2);
    assert!(sessions.iter().all(|s| s["user_agent"] != SAFARI_ON_IOS));
    assert_eq!(list(&app, &john.access_token).await.len(), 1);
}

#[tokio::test]
async fn revoking_a_session_ends_its_tokens_at_once() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let (other_access, other_refresh) = login_as(&app, "susan", FIREFOX_ON_WINDOWS).await;
    let sessions = list(&app, &susan.access_token).await;
    let other = sessions.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_i64()
        .unwrap();

    app.delete(&format!("/api/me/sessions/{other}"))
        .bearer(&susan.access_token)
        .send()
        .await
        .assert_status(204);
    app.get("/api/me/sessions")
        .bearer(&other_access)
        .send()
        .await
        .assert_error(401);
    app.refresh(&other_refresh).await.assert_error(401);
    assert_eq!(list(&app, &susan.access_token).await.len(), 1);

    // Gone already, someone else's, or nonsense: 404.
    let john = app.user("john").await;
    let johns = list(&app, &john.access_token).await[0]["id"]
        .as_i64()
        .unwrap();
    for path in [
        format!("/api/me/sessions/{other}"),
        format!("/api/me/sessions/{johns}"),
        "/api/me/sessions/999999".to_owned(),
        "/api/me/sessions/abc".to_owned(),
    ] {
        app.delete(&path)
            .bearer(&susan.access_token)
            .send()
            .await
            .assert_error(404);
    }
    app.get("/api/me/sessions")
        .bearer(&john.access_token)
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn revoking_all_others_keeps_only_the_current_session() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let (a, a_refresh) = login_as(&app, "susan", FIREFOX_ON_WINDOWS).await;
    let (b, _) = login_as(&app, "susan", SAFARI_ON_IOS).await;

    let answer = app
        .delete("/api/me/sessions")
        .bearer(&susan.access_token)
        .send()
        .await;
    answer.assert_status(200);
    assert_eq!(answer.body, json!({ "revoked": 2 }));
    for token in [&a, &b] {
        app.get("/api/me/sessions")
            .bearer(token)
            .send()
            .await
            .assert_error(401);
    }
    app.refresh(&a_refresh).await.assert_error(401);
    let left = list(&app, &susan.access_token).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["current"], true);
    app.refresh(&susan.refresh_token).await.assert_status(200);
}

#[tokio::test]
async fn sessions_need_a_valid_access_token() {
    let app = spawn_app().await;
    app.get("/api/me/sessions").send().await.assert_error(401);
    app.delete("/api/me/sessions")
        .bearer("nonsense")
        .send()
        .await
        .assert_error(401);
}

/// Every 2FA change ends the account's other sessions (a thief's among them), as a new
/// password does; the session that made the change stays.
#[tokio::test]
async fn two_factor_changes_end_every_other_session() {
    use crate::account::{answer_challenge, code, enable_2fa};

    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let (thief_access, thief_refresh) = login_as(&app, "susan", FIREFOX_ON_WINDOWS).await;
    // Confirmed with the previous step's code, in a step that has a few seconds left.
    let (secret, recovery) = enable_2fa(&app, &susan).await;
    app.get("/api/me")
        .bearer(&thief_access)
        .send()
        .await
        .assert_error(401);
    app.refresh(&thief_refresh).await.assert_error(401);
    let mine = || app.get("/api/me").bearer(&susan.access_token).send();
    mine().await.assert_status(200);

    // A second device logs in with a code; new recovery codes end its session.
    let second = |step: i64| {
        let app = &app;
        let secret = &secret;
        async move {
            let c = app.login("susan", PASSWORD).await;
            c.assert_status(202);
            let c = c.body["challenge"].as_str().unwrap().to_owned();
            let answer = answer_challenge(app, &c, &code(secret, step)).await;
            answer.assert_status(200);
            answer.body["access_token"].as_str().unwrap().to_owned()
        }
    };
    let device = second(0).await;
    let regenerated = app
        .post("/api/me/2fa/recovery-codes")
        .bearer(&susan.access_token)
        .json(&json!({"password": PASSWORD, "code": recovery[0]}))
        .send()
        .await;
    regenerated.assert_status(200);
    app.get("/api/me")
        .bearer(&device)
        .send()
        .await
        .assert_error(401);
    mine().await.assert_status(200);

    // And turning 2FA off ends it too.
    let device = second(1).await;
    let new_code = regenerated.body["recovery_codes"][0].as_str().unwrap();
    app.delete("/api/me/2fa")
        .bearer(&susan.access_token)
        .json(&json!({"password": PASSWORD, "code": new_code}))
        .send()
        .await
        .assert_status(204);
    app.get("/api/me")
        .bearer(&device)
        .send()
        .await
        .assert_error(401);
    mine().await.assert_status(200);
}
