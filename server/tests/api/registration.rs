//! Registration tells nothing about which emails have accounts unless the request could
//! have created one, and it is throttled per address.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

async fn register(app: &TestApp, body: Value) -> crate::helpers::Answer {
    app.post("/api/users").json(&body).send().await
}

#[tokio::test]
async fn an_invalid_registration_answers_the_same_whether_or_not_its_email_is_taken() {
    let app = spawn_app().await;
    app.user("susan").await;
    let taken = register(
        &app,
        json!({"username": "", "email": "susan@example.com", "password": ""}),
    )
    .await;
    let free = register(
        &app,
        json!({"username": "", "email": "nobody@example.com", "password": ""}),
    )
    .await;
    taken.assert_error(400);
    free.assert_error(400);
    assert_eq!(taken.body, free.body);
    assert!(
        taken.body["errors"]["json"]["email"].is_null(),
        "{}",
        taken.body
    );
}

#[tokio::test]
async fn a_valid_registration_still_says_the_email_is_taken() {
    let app = spawn_app().await;
    app.user("susan").await;
    let taken = register(
        &app,
        json!({"username": "other", "email": "susan@example.com", "password": "a long passphrase"}),
    )
    .await;
    assert_eq!(taken.field_errors("email"), ["Use a different email."]);
}

#[tokio::test]
async fn registrations_are_throttled_per_address() {
    let app = spawn_app_with(&[("THROTTLE_REGISTER_ADDRESS", "3/3600")]).await;
    for i in 0..3 {
        let body = json!({"username": format!("u{i}"), "email": "", "password": ""});
        register(&app, body).await.assert_error(400);
    }
    let refused = register(
        &app,
        json!({"username": "late", "email": "late@example.com", "password": "a long passphrase"}),
    )
    .await;
    refused.assert_error(429);
    let wait: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
}
