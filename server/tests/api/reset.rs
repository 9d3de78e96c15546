//! Password reset by email (docs/security.md, "Password reset").

use std::time::{Duration, Instant};

use serde_json::json;

use crate::account::{CHANGED_SUBJECT, RESET_SUBJECT, description, execute, spawn_mail_app};
use crate::helpers::PASSWORD;

const NEW_PASSWORD: &str = "a brand new passphrase";
const BAD_TOKEN: &str = "This reset link is invalid, expired or already used. Request a new one.";

#[tokio::test]
async fn the_emailed_link_sets_a_new_password() {
    let app = spawn_mail_app(&[]).await;
    let susan = app.user("susan").await;

    let asked = app
        .post("/api/tokens/reset")
        .json(&json!({ "email": "SUSAN@example.com" }))
        .send()
        .await;
    asked.assert_status(204);
    assert!(asked.body.is_null());

    let mail = &app.wait_for(RESET_SUBJECT, 1).await[0];
    assert_eq!(mail.to, "susan@example.com");
    assert!(
        mail.link()
            .starts_with("http://localhost:8080/reset?token="),
        "{}",
        mail.link()
    );
    let reset = app
        .put("/api/tokens/reset")
        .json(&json!({ "token": mail.token(), "new_password": NEW_PASSWORD }))
        .send()
        .await;
    reset.assert_status(204);

    app.login("susan", PASSWORD).await.assert_error(401);
    app.login("susan", NEW_PASSWORD).await.assert_status(200);
    let _ = susan;
}

#[tokio::test]
async fn unknown_and_known_addresses_get_the_same_answer() {
    let app = spawn_mail_app(&[]).await;
    app.user("susan").await;

    let started = Instant::now();
    let unknown = app
        .post("/api/tokens/reset")
        .json(&json!({ "email": "nobody@example.com" }))
        .send()
        .await;
    let unknown_time = started.elapsed();
    let started = Instant::now();
    let known = app
        .post("/api/tokens/reset")
        .json(&json!({ "email": "susan@example.com" }))
        .send()
        .await;
    let known_time = started.elapsed();

    assert_eq!(unknown.status, known.status);
    assert_eq!(unknown.status.as_u16(), 204);
    assert_eq!(unknown.body, known.body);
    let names = |a: &crate::helpers::Answer| {
        let mut n: Vec<String> = a.headers.keys().map(|k| k.to_string()).collect();
        n.sort();
        n
    };
    assert_eq!(names(&unknown), names(&known));
    // Both answer before any lookup happens (a background worker does that), so the
    // times differ only by noise. Loosely: neither waits on mail or hashing.
    assert!(
        unknown_time < Duration::from_secs(2) && known_time < Duration::from_secs(2),
        "unknown {unknown_time:?}, known {known_time:?}"
    );

    app.wait_for(RESET_SUBJECT, 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mails = app.mails();
    assert_eq!(mails.len(), 1, "only the known address gets mail");
    assert_eq!(mails[0].to, "susan@example.com");
}

#[tokio::test]
async fn the_link_comes_from_public_url_whatever_the_host_header() {
    let app = spawn_mail_app(&[("PUBLIC_URL", "https://blog.example.com")]).await;
    app.user("susan").await;
    app.post("/api/tokens/reset")
        .header("Host", "evil.example.net")
        .header("X-Forwarded-Host", "evil.example.net")
        .json(&json!({ "email": "susan@example.com" }))
        .send()
        .await
        .assert_status(204);
    let mail = &app.wait_for(RESET_SUBJECT, 1).await[0];
    assert!(
        mail.link()
            .starts_with("https://blog.example.com/reset?token="),
        "{}",
        mail.link()
    );
    assert!(!mail.text.contains("evil"), "{}", mail.text);
}

#[tokio::test]
async fn a_token_works_once() {
    let app = spawn_mail_app(&[]).await;
    app.user("susan").await;
    let token = app.reset_token("susan@example.com").await;
    let reset = |password: &'static str| {
        app.put("/api/tokens/reset")
            .json(&json!({ "token": token, "new_password": password }))
            .send()
    };
    reset(NEW_PASSWORD).await.assert_status(204);
    let again = reset("yet another passphrase").await;
    again.assert_error(400);
    assert_eq!(description(&again), BAD_TOKEN);
    app.login("susan", NEW_PASSWORD).await.assert_status(200);
}

#[tokio::test]
async fn a_token_expires() {
    let app = spawn_mail_app(&[("RESET_TOKEN_TTL_SECS", "1")]).await;
    app.user("susan").await;
    let token = app.reset_token("susan@example.com").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let late = app
        .put("/api/tokens/reset")
        .json(&json!({ "token": token, "new_password": NEW_PASSWORD }))
        .send()
        .await;
    late.assert_error(400);
    assert_eq!(description(&late), BAD_TOKEN);
    app.login("susan", PASSWORD).await.assert_status(200);
}

#[tokio::test]
async fn a_newer_request_kills_the_older_token() {
    let app = spawn_mail_app(&[]).await;
    app.user("susan").await;
    let first = app.reset_token("susan@example.com").await;
    let second = app.reset_token("susan@example.com").await;
    assert_ne!(first, second);
    let reset = |token: &str| {
        app.put("/api/tokens/reset")
            .json(&json!({ "token": token, "new_password": NEW_PASSWORD }))
            .send()
    };
    reset(&first).await.assert_error(400);
    reset(&second).await.assert_status(204);
}

#[tokio::test]
async fn a_password_change_kills_the_token() {
    let app = spawn_mail_app(&[]).await;
    let susan = app.user("susan").await;
    let token = app.reset_token("susan@example.com").await;
    // Any path that sets the password writes a new salted hash; the token was bound to
    // the old one. (Here the change is made in the database, as any endpoint would.)
    let other_hash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$7Hq2kRFgxoDw9cNqUAMMxAVMdrQ3qUx9mPdaUV8JAc0";
    execute(
        &app,
        &format!(
            "UPDATE users SET password_hash = '{other_hash}' WHERE id = {}",
            susan.id
        ),
    )
    .await;
    let reset = app
        .put("/api/tokens/reset")
        .json(&json!({ "token": token, "new_password": NEW_PASSWORD }))
        .send()
        .await;
    reset.assert_error(400);
    assert_eq!(description(&reset), BAD_TOKEN);
}

#[tokio::test]
async fn a_reset_revokes_every_session_and_tells_the_owner() {
    let app = spawn_mail_app(&[]).await;
    let susan = app.user("susan").await;
    let other = app.login("susan", PASSWORD).await;
    other.assert_status(200);
    let token = app.reset_token("susan@example.com").await;

    app.put("/api/tokens/reset")
        .json(&json!({ "token": token, "new_password": NEW_PASSWORD }))
        .send()
        .await
        .assert_status(204);

    app.get("/api/me/sessions")
        .bearer(&susan.access_token)
        .send()
        .await
        .assert_error(401);
    app.get("/api/me/sessions")
        .bearer(other.body["access_token"].as_str().unwrap())
        .send()
        .await
        .assert_error(401);
    app.refresh(&susan.refresh_token).await.assert_error(401);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE user_id = {} AND revoked_at IS NULL",
            susan.id
        ))
        .await,
        0
    );

    let notice = &app.wait_for(CHANGED_SUBJECT, 1).await[0];
    assert_eq!(notice.to, "susan@example.com");
    assert!(!notice.text.contains("token="), "{}", notice.text);
}

#[tokio::test]
async fn a_weak_password_is_a_field_error_and_keeps_the_token() {
    let app = spawn_mail_app(&[]).await;
    app.user("susan").await;
    let token = app.reset_token("susan@example.com").await;
    let weak = app
        .put("/api/tokens/reset")
        .json(&json!({ "token": token, "new_password": "short" }))
        .send()
        .await;
    assert!(!weak.field_errors("new_password").is_empty());
    app.put("/api/tokens/reset")
        .json(&json!({ "token": token, "new_password": NEW_PASSWORD }))
        .send()
        .await
        .assert_status(204);
}

#[tokio::test]
async fn bad_tokens_and_bad_input_get_clear_errors() {
    let app = spawn_mail_app(&[]).await;
    let bad = app
        .put("/api/tokens/reset")
        .json(&json!({ "token": "not-a-token", "new_password": NEW_PASSWORD }))
        .send()
        .await;
    bad.assert_error(400);
    assert_eq!(description(&bad), BAD_TOKEN);

    let not_email = app
        .post("/api/tokens/reset")
        .json(&json!({ "email": "not an email" }))
        .send()
        .await;
    assert!(!not_email.field_errors("email").is_empty());
    let extra = app
        .post("/api/tokens/reset")
        .json(&json!({ "email": "a@example.com", "admin": true }))
        .send()
        .await;
    assert!(!extra.field_errors("admin").is_empty());
}

#[tokio::test]
async fn reset_requests_are_throttled_for_known_and_unknown_addresses_alike() {
    let app = spawn_mail_app(&[("THROTTLE_RESET_EMAIL", "2/60")]).await;
    app.user("susan").await;
    for email in ["susan@example.com", "nobody@example.com"] {
        for _ in 0..2 {
            app.post("/api/tokens/reset")
                .json(&json!({ "email": email }))
                .send()
                .await
                .assert_status(204);
        }
        let refused = app
            .post("/api/tokens/reset")
            .json(&json!({ "email": email }))
            .send()
            .await;
        refused.assert_error(429);
        let retry: u64 = refused.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        assert!(description(&refused).contains("Try again in"));
    }
}

#[tokio::test]
async fn changing_the_password_in_the_profile_kills_the_token() {
    let app = spawn_mail_app(&[]).await;
    let susan = app.user("susan").await;
    let token = app.reset_token("susan@example.com").await;
    app.put("/api/me")
        .bearer(&susan.access_token)
        .json(&json!({ "password": "changed in the profile", "old_password": PASSWORD }))
        .send()
        .await
        .assert_status(200);
    let reset = app
        .put("/api/tokens/reset")
        .json(&json!({ "token": token, "new_password": NEW_PASSWORD }))
        .send()
        .await;
    reset.assert_error(400);
    assert_eq!(description(&reset), BAD_TOKEN);
    app.login("susan", "changed in the profile")
        .await
        .assert_status(200);
}
