//! A copy of the database alone yields no TOTP secret and no signing key: both are sealed
//! under SECRET_KEY, which can be rotated.

use sqlx::Connection;

use crate::account::{answer_challenge, challenge, code, enable_2fa, execute, settle_step};
use crate::helpers::{TestApp, spawn_app_with};

const KEY_A: &str = "0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a";
const KEY_B: &str = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b";

/// One text value from the test's database.
pub async fn text(app: &TestApp, sql: &str) -> String {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .expect("database connection");
    sqlx::query_scalar(sql)
        .fetch_one(&mut conn)
        .await
        .expect("one text value")
}

#[tokio::test]
async fn the_raw_rows_hold_no_usable_totp_secret_or_signing_key() {
    let app = spawn_app_with(&[("SECRET_KEY", KEY_A)]).await;
    let susan = app.user("susan").await;
    let (secret, _) = enable_2fa(&app, &susan).await;
    let stored = text(&app, "SELECT secret FROM totp_secrets").await;
    assert!(stored.starts_with("v1."), "{stored}");
    assert!(!stored.contains(&secret) && !stored.to_lowercase().contains(&secret.to_lowercase()));
    let private = text(&app, "SELECT private_key FROM signing_keys").await;
    assert!(private.starts_with("v1."), "{private}");
    // Under another key, nothing opens.
    let other = server::secrets::Sealer::new(&server::secrets::parse_key(KEY_B).unwrap(), None);
    let user_id = susan.id;
    assert!(
        other
            .open(&stored, &server::secrets::totp_context(user_id))
            .is_err()
    );
}

#[tokio::test]
async fn plaintext_secrets_from_before_are_sealed_at_the_next_start() {
    let app = spawn_app_with(&[("SECRET_KEY", KEY_A)]).await;
    let susan = app.user("susan").await;
    let (secret, _) = enable_2fa(&app, &susan).await;
    // As an earlier version stored it.
    execute(
        &app,
        &format!("UPDATE totp_secrets SET secret = '{secret}'"),
    )
    .await;
    let restarted = app.another_instance(&[("SECRET_KEY", KEY_A)]).await;
    let stored = text(&app, "SELECT secret FROM totp_secrets").await;
    assert!(
        stored.starts_with("v1.") && !stored.contains(&secret),
        "{stored}"
    );
    settle_step().await;
    let c = challenge(&restarted, &susan).await;
    answer_challenge(&restarted, &c, &code(&secret, 0))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn the_secret_key_rotates_with_the_old_one_accepted_meanwhile() {
    let app = spawn_app_with(&[("SECRET_KEY", KEY_A)]).await;
    let susan = app.user("susan").await;
    let (secret, _) = enable_2fa(&app, &susan).await;
    let under_a = text(&app, "SELECT secret FROM totp_secrets").await;

    // Restarted with the new key, the old one as previous: everything is sealed again.
    let rotating = app
        .another_instance(&[("SECRET_KEY", KEY_B), ("SECRET_KEY_PREVIOUS", KEY_A)])
        .await;
    let under_b = text(&app, "SELECT secret FROM totp_secrets").await;
    assert_ne!(under_a, under_b);
    drop(rotating);

    // Then the new key alone is enough, and sessions and 2FA carry on.
    let rotated = app.another_instance(&[("SECRET_KEY", KEY_B)]).await;
    rotated
        .get("/api/me")
        .bearer(&susan.access_token)
        .send()
        .await
        .assert_status(200);
    settle_step().await;
    let c = challenge(&rotated, &susan).await;
    answer_challenge(&rotated, &c, &code(&secret, 0))
        .await
        .assert_status(200);

    // The old key alone no longer opens anything.
    let err = server::startup::Application::build(
        server::config::Config::from_lookup(|k| match k {
            "SECRET_KEY" => Some(KEY_A.to_owned()),
            "DATABASE_URL" => Some(app.database_url.clone()),
            "PORT" => Some("0".to_owned()),
            _ => None,
        })
        .unwrap(),
    )
    .await;
    assert!(err.is_err(), "a server with only the old key started");
}
