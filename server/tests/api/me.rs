//! `/me`: one's own record, and changing it.

use futures::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{Answer, PASSWORD, TestApp, spawn_app};

#[tokio::test]
async fn me_is_the_callers_own_record_with_email() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = app.get("/api/me").bearer(&susan.access_token).send().await;

    answer.assert_status(200);
    assert_eq!(answer.body["id"], susan.id);
    assert_eq!(answer.body["email"], "susan@example.com");
    assert_eq!(answer.body["has_password"], true);
    assert!(answer.body["last_seen"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn me_needs_a_valid_access_token() {
    let app = spawn_app().await;

    for header in [
        None,
        Some("Bearer null"),
        Some("Bearer "),
        Some("Basic abc"),
    ] {
        let call = app.get("/api/me");
        let call = match header {
            Some(h) => call.header("Authorization", h),
            None => call,
        };

        call.send().await.assert_error(401);
    }
}

// --- PUT /api/me ----------------------------------------------------------------------

async fn put_me(app: &TestApp, token: &str, body: &Value) -> Answer {
    app.put("/api/me").bearer(token).json(body).send().await
}

pub async fn me(app: &TestApp, token: &str) -> Value {
    let answer = app.get("/api/me").bearer(token).send().await;
    answer.assert_status(200);
    answer.body
}

#[tokio::test]
async fn put_me_changes_only_the_fields_sent() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = put_me(&app, &susan.access_token, &json!({"about_me": "Hello."})).await;

    answer.assert_status(200);
    assert_eq!(answer.body["about_me"], "Hello.");
    assert_eq!(answer.body["username"], "susan");
    assert_eq!(answer.body["email"], "susan@example.com");
    assert_eq!(me(&app, &susan.access_token).await["about_me"], "Hello.");
}

#[tokio::test]
async fn put_me_with_an_empty_body_changes_nothing() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let before = me(&app, &susan.access_token).await;

    let answer = put_me(&app, &susan.access_token, &json!({})).await;

    answer.assert_status(200);
    assert_eq!(answer.body, before);
}

#[tokio::test]
async fn put_me_changes_username_and_email() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = put_me(
        &app,
        &susan.access_token,
        &json!({"username": "susanna", "email": "susanna@example.org", "old_password": PASSWORD}),
    )
    .await;

    answer.assert_status(200);
    assert_eq!(answer.body["username"], "susanna");
    assert_eq!(answer.body["email"], "susanna@example.org");
    app.login("susanna", PASSWORD).await.assert_status(200);
    app.login("susanna@example.org", PASSWORD)
        .await
        .assert_status(200);
    app.login("susan", PASSWORD).await.assert_error(401);
}

#[tokio::test]
async fn put_me_may_change_the_case_of_ones_own_username() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = put_me(
        &app,
        &susan.access_token,
        &json!({"username": "Susan", "email": "SUSAN@example.com"}),
    )
    .await;

    answer.assert_status(200);
    assert_eq!(answer.body["username"], "Susan");
}

#[tokio::test]
async fn put_me_refuses_a_username_or_email_taken_by_another_whatever_its_case() {
    let app = spawn_app().await;
    app.user("john").await;
    let susan = app.user("susan").await;
    let cases = [
        ("username", "JOHN", "Use a different username."),
        ("email", "John@Example.com", "Use a different email."),
    ];
    for (field, value, message) in cases {
        let answer = put_me(&app, &susan.access_token, &json!({ field: value })).await;

        assert_eq!(answer.field_errors(field), [message]);
    }
    let after = me(&app, &susan.access_token).await;
    assert_eq!(
        (after["username"].as_str(), after["email"].as_str()),
        (Some("susan"), Some("susan@example.com"))
    );
}

#[tokio::test]
async fn concurrent_renames_to_one_name_leave_one_winner_and_no_500() {
    let app = spawn_app().await;
    let mut users = Vec::new();
    for name in ["alice", "bob", "carol", "dave"] {
        users.push(app.user(name).await);
    }
    let rename = json!({"username": "winner"});

    let answers = join_all(users.iter().map(|u| put_me(&app, &u.access_token, &rename))).await;

    let statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    for answer in answers.iter().filter(|a| a.status != 200) {
        assert_eq!(
            answer.field_errors("username"),
            ["Use a different username."]
        );
    }
}

#[tokio::test]
async fn put_me_refuses_invalid_fields_and_changes_nothing() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let before = me(&app, &susan.access_token).await;
    let cases: &[(&str, Value)] = &[
        ("username", json!("no spaces allowed")),
        ("username", json!("12345")),
        ("email", json!("not-an-email")),
        ("about_me", json!("x".repeat(141))),
        ("about_me", json!(5)),
        ("username", json!(["susan"])),
        ("is_admin", json!(true)),
    ];
    for (field, value) in cases {
        // A valid change alongside: all or nothing.
        let mut body = json!({"about_me": "Changed?"});
        body[*field] = value.clone();

        let answer = put_me(&app, &susan.access_token, &body).await;

        assert_eq!(answer.field_errors(field).len(), 1, "{field}={value}");
    }
    assert_eq!(me(&app, &susan.access_token).await, before);
}

#[tokio::test]
async fn put_me_is_all_or_nothing_when_one_field_is_taken() {
    let app = spawn_app().await;
    app.user("john").await;
    let susan = app.user("susan").await;

    let answer = put_me(
        &app,
        &susan.access_token,
        &json!({"username": "susanna", "email": "john@example.com", "about_me": "new"}),
    )
    .await;

    assert_eq!(answer.field_errors("email"), ["Use a different email."]);
    let after = me(&app, &susan.access_token).await;
    assert_eq!(after["username"], "susan");
    assert_eq!(after["about_me"], "");
}

#[tokio::test]
async fn put_me_refuses_a_new_password_without_the_old_one() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = put_me(
        &app,
        &susan.access_token,
        &json!({"password": "a brand new secret"}),
    )
    .await;

    assert_eq!(answer.field_errors("old_password").len(), 1);
    app.login("susan", PASSWORD).await.assert_status(200);
    app.login("susan", "a brand new secret")
        .await
        .assert_error(401);
}

#[tokio::test]
async fn put_me_refuses_a_new_password_with_a_wrong_old_one() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = put_me(
        &app,
        &susan.access_token,
        &json!({"password": "a brand new secret", "old_password": "not my password",
                "about_me": "changed?"}),
    )
    .await;

    assert_eq!(
        answer.field_errors("old_password"),
        ["The current password is wrong."]
    );
    app.login("susan", PASSWORD).await.assert_status(200);
    assert_eq!(me(&app, &susan.access_token).await["about_me"], "");
}

#[tokio::test]
async fn put_me_applies_the_password_policy_to_a_new_password() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    for weak in ["short", "password1"] {
        let answer = put_me(
            &app,
            &susan.access_token,
            &json!({"password": weak, "old_password": PASSWORD}),
        )
        .await;

        assert_eq!(answer.field_errors("password").len(), 1, "{weak}");
    }
    app.login("susan", PASSWORD).await.assert_status(200);
}

#[tokio::test]
async fn put_me_changes_the_password() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = put_me(
        &app,
        &susan.access_token,
        &json!({"password": "a brand new secret", "old_password": PASSWORD}),
    )
    .await;

    answer.assert_status(200);
    app.login("susan", "a brand new secret")
        .await
        .assert_status(200);
    app.login("susan", PASSWORD).await.assert_error(401);
}

#[tokio::test]
async fn a_new_password_logs_out_every_other_session_but_keeps_this_one() {
    let app = spawn_app().await;
    let susan = app.user("susan").await; // this device
    let other = app.login("susan", PASSWORD).await; // another device
    let other_access = other.body["access_token"].as_str().unwrap().to_owned();
    let other_refresh = other.refresh_cookie().unwrap();

    put_me(
        &app,
        &susan.access_token,
        &json!({"password": "a brand new secret", "old_password": PASSWORD}),
    )
    .await
    .assert_status(200);

    app.get("/api/me")
        .bearer(&other_access)
        .send()
        .await
        .assert_error(401);
    app.refresh(&other_refresh).await.assert_error(401);
    app.get("/api/me")
        .bearer(&susan.access_token)
        .send()
        .await
        .assert_status(200);
    app.refresh(&susan.refresh_token).await.assert_status(200);
}

#[tokio::test]
async fn other_changes_keep_other_sessions() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let other = app.login("susan", PASSWORD).await;
    let other_access = other.body["access_token"].as_str().unwrap().to_owned();

    put_me(
        &app,
        &susan.access_token,
        &json!({"about_me": "Still logged in elsewhere."}),
    )
    .await
    .assert_status(200);

    app.get("/api/me")
        .bearer(&other_access)
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn put_me_needs_a_valid_access_token() {
    let app = spawn_app().await;

    let answer = app
        .put("/api/me")
        .header("Authorization", "Bearer null")
        .json(&json!({"about_me": "x"}))
        .send()
        .await;

    answer.assert_error(401);
}

// --- GET /api/avatars/{id} ------------------------------------------------------------
