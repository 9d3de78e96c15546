//! What an OpenID conformance suite throws at a relying party: each is refused with a 4xx
//! JSON error, and no session, no account and no refresh cookie come of it.

use serde_json::{Value, json};

use crate::fake_provider::{FakeProvider, Key, Signing};
use crate::helpers::{Answer, TestApp};
use crate::oauth::{begin, finish, setup, sign_in};

/// Asserts a refusal that left nothing behind.
async fn refused(app: &TestApp, answer: &Answer, status: u16) {
    answer.assert_error(status);
    assert!(answer.refresh_cookie().is_none(), "no refresh cookie");
    assert!(answer.body.get("access_token").is_none());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions").await,
        0,
        "no session"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users").await,
        0,
        "no account"
    );
}

/// A sign-in whose ID token carries `claims` over the right ones.
async fn with_claims(claims: Value) -> (FakeProvider, TestApp, Answer) {
    let (fake, app) = setup().await;
    fake.set(|b| {
        for (k, v) in claims.as_object().unwrap() {
            b.overrides.insert(k.clone(), v.clone());
        }
    });
    let answer = sign_in(&fake, &app, "fake").await;
    (fake, app, answer)
}

async fn with_signing(signing: Signing) -> (FakeProvider, TestApp, Answer) {
    let (fake, app) = setup().await;
    fake.set(|b| b.signing = signing);
    let answer = sign_in(&fake, &app, "fake").await;
    (fake, app, answer)
}

fn now() -> i64 {
    server::db::now_micros() / 1_000_000
}

#[tokio::test]
async fn a_wrong_state_is_refused() {
    let (fake, app) = setup().await;
    let flow = begin(&app, "fake").await;
    let code = fake.authorize(&flow.url);
    let answer = finish(&app, "fake", &code, "not-the-state", Some(&flow.cookie)).await;
    refused(&app, &answer, 401).await;
    // Nor was the code sent to the provider.
    assert!(fake.token_requests().is_empty());
}

#[tokio::test]
async fn a_state_without_the_browsers_cookie_is_refused() {
    let (fake, app) = setup().await;
    // The attacker's own flow, finished in the victim's browser (login CSRF): the
    // victim's browser holds no cookie for it, or one of another flow.
    let attackers = begin(&app, "fake").await;
    let victims = begin(&app, "fake").await;
    let code = fake.authorize(&attackers.url);
    let answer = finish(&app, "fake", &code, &attackers.state, None).await;
    refused(&app, &answer, 401).await;
    let answer = finish(&app, "fake", &code, &attackers.state, Some(&victims.cookie)).await;
    refused(&app, &answer, 401).await;
    assert!(fake.token_requests().is_empty());
}

#[tokio::test]
async fn a_replayed_state_is_refused() {
    let (fake, app) = setup().await;
    let flow = begin(&app, "fake").await;
    let code = fake.authorize(&flow.url);
    finish(&app, "fake", &code, &flow.state, Some(&flow.cookie))
        .await
        .assert_status(200);
    let again = finish(&app, "fake", &code, &flow.state, Some(&flow.cookie)).await;
    again.assert_error(401);
    assert!(again.refresh_cookie().is_none());
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
}

#[tokio::test]
async fn a_failed_attempt_spends_the_state_too() {
    let (fake, app) = setup().await;
    fake.set(|b| b.signing = Signing::None);
    let flow = begin(&app, "fake").await;
    let code = fake.authorize(&flow.url);
    finish(&app, "fake", &code, &flow.state, Some(&flow.cookie))
        .await
        .assert_error(401);
    fake.set(|b| b.signing = Signing::Good);
    let code = fake.authorize(&flow.url);
    let again = finish(&app, "fake", &code, &flow.state, Some(&flow.cookie)).await;
    refused(&app, &again, 401).await;
}

#[tokio::test]
async fn an_expired_flow_is_refused() {
    let (fake, app) = setup().await;
    let flow = begin(&app, "fake").await;
    let code = fake.authorize(&flow.url);
    execute(&app, "UPDATE oauth_flows SET expires_at = 1").await;
    let answer = finish(&app, "fake", &code, &flow.state, Some(&flow.cookie)).await;
    refused(&app, &answer, 401).await;
}

#[tokio::test]
async fn a_flow_of_another_provider_is_refused() {
    let (fake, app) = setup().await;
    let flow = begin(&app, "github").await;
    let code = fake.authorize(&flow.url);
    let answer = finish(&app, "fake", &code, &flow.state, Some(&flow.cookie)).await;
    refused(&app, &answer, 401).await;
}

#[tokio::test]
async fn a_code_issued_for_another_pkce_challenge_is_refused() {
    let (fake, app) = setup().await;
    // A code stolen from another flow (code injection): the provider bound it to that
    // flow's challenge, and our verifier does not match it.
    let other = begin(&app, "fake").await;
    let stolen = fake.authorize(&other.url);
    let mine = begin(&app, "fake").await;
    let answer = finish(&app, "fake", &stolen, &mine.state, Some(&mine.cookie)).await;
    refused(&app, &answer, 401).await;
    // The verifier was sent: without it the provider would not have compared.
    assert!(fake.token_requests()[0].contains_key("code_verifier"));
}

#[tokio::test]
async fn a_wrong_nonce_is_refused() {
    let (_f, app, answer) = with_claims(json!({"nonce": "another-flows-nonce"})).await;
    refused(&app, &answer, 401).await;
}

#[tokio::test]
async fn a_missing_nonce_is_refused() {
    let (_f, app, answer) = with_claims(json!({"nonce": null})).await;
    refused(&app, &answer, 401).await;
}

#[tokio::test]
async fn a_wrong_issuer_is_refused() {
    let (_f, app, answer) = with_claims(json!({"iss": "https://evil.example"})).await;
    refused(&app, &answer, 401).await;
}

#[tokio::test]
async fn a_wrong_audience_is_refused() {
    let (_f, app, answer) = with_claims(json!({"aud": "another-client"})).await;
    refused(&app, &answer, 401).await;
}

#[tokio::test]
async fn an_id_token_for_another_client_is_refused() {
    let (_f, app, answer) = with_claims(json!({"azp": "another-client"})).await;
    refused(&app, &answer, 401).await;
    let (_f, app, answer) =
        with_claims(json!({"aud": [crate::fake_provider::CLIENT_ID, "another-client"]})).await;
    refused(&app, &answer, 401).await;
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    let t = now();
    let (_f, app, answer) = with_claims(json!({"iat": t - 4000, "exp": t - 3600})).await;
    refused(&app, &answer, 401).await;
}

#[tokio::test]
async fn an_id_token_from_the_future_is_refused() {
    let t = now();
    let (_f, app, answer) = with_claims(json!({"iat": t + 3600, "exp": t + 7200})).await;
    refused(&app, &answer, 401).await;
}

#[tokio::test]
async fn a_little_clock_skew_is_tolerated() {
    let t = now();
    let (_f, _app, answer) = with_claims(json!({"iat": t + 20, "exp": t - 20})).await;
    answer.assert_status(200);
}

#[tokio::test]
async fn alg_none_is_refused() {
    let (_f, app, answer) = with_signing(Signing::None).await;
    refused(&app, &answer, 401).await;
}

#[tokio::test]
async fn a_signature_by_an_unknown_key_is_refused_after_one_key_set_refresh() {
    let (fake, app, answer) = with_signing(Signing::UnknownKey).await;
    refused(&app, &answer, 401).await;
    // Discovery fetched the key set once; the unknown signature made us look again once.
    assert_eq!(fake.jwks_fetches(), 2);
}

#[tokio::test]
async fn a_signature_by_another_key_under_a_known_kid_is_refused() {
    let (_f, app, answer) = with_signing(Signing::WrongKeySameKid).await;
    refused(&app, &answer, 401).await;
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let (_f, app, answer) = with_signing(Signing::HmacWithPublicKey).await;
    refused(&app, &answer, 401).await;
}

#[tokio::test]
async fn a_missing_subject_is_refused() {
    let (fake, app) = setup().await;
    fake.set(|b| b.subject = None);
    let answer = sign_in(&fake, &app, "fake").await;
    refused(&app, &answer, 401).await;
}

#[tokio::test]
async fn an_unverified_email_is_refused() {
    let (_f, app, answer) = with_claims(json!({"email_verified": false})).await;
    refused(&app, &answer, 403).await;
    let (_f, app, answer) = with_claims(json!({"email_verified": null})).await;
    refused(&app, &answer, 403).await;
}

#[tokio::test]
async fn a_rotated_provider_key_is_fetched_and_accepted() {
    let (fake, app) = setup().await;
    sign_in(&fake, &app, "fake").await.assert_status(200);
    fake.set(|b| b.key = Key::new("key-2"));
    sign_in(&fake, &app, "fake").await.assert_status(200);
    assert_eq!(fake.jwks_fetches(), 2);
}

#[tokio::test]
async fn a_cross_site_finish_is_refused() {
    let (fake, app) = setup().await;
    let flow = begin(&app, "fake").await;
    let code = fake.authorize(&flow.url);
    let answer = app
        .post("/api/tokens/oauth2/fake")
        .header("Origin", "https://evil.example")
        .header("Cookie", &format!("oauth2_flow={}", flow.cookie))
        .json(&json!({"code": code, "state": flow.state}))
        .send()
        .await;
    refused(&app, &answer, 403).await;
}

#[tokio::test]
async fn malformed_bodies_are_validation_errors() {
    let (_fake, app) = setup().await;
    for body in [
        json!({}),
        json!({"code": "x"}),
        json!({"code": "x", "state": "y", "extra": 1}),
    ] {
        app.post("/api/tokens/oauth2/fake")
            .json(&body)
            .send()
            .await
            .assert_error(400);
    }
}

async fn execute(app: &TestApp, sql: &str) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .unwrap();
    sqlx::query(sql).execute(&mut conn).await.unwrap();
}
