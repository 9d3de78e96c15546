//! Changing the email (the channel reset links go to) is a credential change: it needs the
//! current password, kills outstanding reset links, and tells the old address.

use serde_json::json;

use crate::account::{description, spawn_mail_app};
use crate::helpers::{PASSWORD, spawn_app};

const EMAIL_CHANGED: &str = "Your Microblog email was changed";

#[tokio::test]
async fn a_bearer_token_alone_cannot_change_the_email() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    for body in [
        json!({"email": "thief@evil.example"}),
        json!({"email": "thief@evil.example", "old_password": ""}),
    ] {
        let refused = app
            .put("/api/me")
            .bearer(&susan.access_token)
            .json(&body)
            .send()
            .await;
        refused.assert_error(400);
        assert_eq!(refused.field_errors("old_password").len(), 1, "{body}");
    }
    let wrong = app
        .put("/api/me")
        .bearer(&susan.access_token)
        .json(&json!({"email": "thief@evil.example", "old_password": "a wrong guess"}))
        .send()
        .await;
    assert_eq!(
        wrong.field_errors("old_password"),
        ["The current password is wrong."]
    );
    let me = app.get("/api/me").bearer(&susan.access_token).send().await;
    assert_eq!(me.body["email"], "susan@example.com");
}

#[tokio::test]
async fn the_same_email_needs_no_password_as_the_reference_client_sends_it_with_every_edit() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let saved = app
        .put("/api/me")
        .bearer(&susan.access_token)
        .json(&json!({"username": "susan", "email": "Susan@Example.com", "about_me": "hi"}))
        .send()
        .await;
    saved.assert_status(200);
    assert_eq!(saved.body["about_me"], "hi");
}

#[tokio::test]
async fn a_new_email_with_the_password_is_saved_the_old_address_told_and_old_links_killed() {
    let app = spawn_mail_app(&[]).await;
    let susan = app.user("susan").await;
    let old_link = app.reset_token("susan@example.com").await;

    let saved = app
        .put("/api/me")
        .bearer(&susan.access_token)
        .json(&json!({"email": "susan@new.example", "old_password": PASSWORD}))
        .send()
        .await;
    saved.assert_status(200);
    assert_eq!(saved.body["email"], "susan@new.example");

    let notice = app.wait_for(EMAIL_CHANGED, 1).await;
    assert_eq!(notice[0].to, "susan@example.com");
    assert!(notice[0].text.contains("susan@new.example"), "{notice:?}");

    let stale = app
        .put("/api/tokens/reset")
        .json(&json!({"token": old_link, "new_password": "a brand new passphrase"}))
        .send()
        .await;
    stale.assert_error(400);
    assert!(description(&stale).contains("invalid"), "{stale:?}");
    app.login("susan", PASSWORD).await.assert_status(200);
}

#[tokio::test]
async fn wrong_current_passwords_are_throttled_per_session() {
    let app = crate::helpers::spawn_app_with(&[("THROTTLE_REAUTH", "2/60")]).await;
    let susan = app.user("susan").await;
    let change = |token: String, old: &'static str| {
        let app = &app;
        async move {
            app.put("/api/me")
                .bearer(&token)
                .json(&json!({"email": "thief@evil.example", "old_password": old}))
                .send()
                .await
        }
    };
    for _ in 0..2 {
        change(susan.access_token.clone(), "a wrong guess")
            .await
            .assert_error(400);
    }
    // The right password waits too in this session: the answer must not confirm a guess.
    change(susan.access_token.clone(), PASSWORD)
        .await
        .assert_error(429);
    // The owner's other session is not held up.
    let other = app.login("susan", PASSWORD).await;
    let token = other.body["access_token"].as_str().unwrap().to_owned();
    change(token, PASSWORD).await.assert_status(200);
}
