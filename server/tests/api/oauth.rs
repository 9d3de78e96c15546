//! Signing in with a provider: the flow, accounts keyed by (provider, subject), 2FA after
//! the provider, linking and unlinking, and GitHub's mapping.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::account::{answer_challenge, code, enable_2fa};
use crate::fake_provider::{CLIENT_ID, FakeProvider};
use crate::helpers::{Answer, PASSWORD, TestApp, spawn_app, spawn_app_with};

/// A flow started in a browser: the provider's URL, its `state`, and the flow cookie.
pub struct Flow {
    pub url: String,
    pub state: String,
    pub cookie: String,
}

/// Starts a server with the fake provider on as `fake` (and GitHub, when asked).
pub async fn setup() -> (FakeProvider, TestApp) {
    let fake = FakeProvider::start().await;
    let mut env = fake.env("fake");
    env.extend(fake.github_env());
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let app = spawn_app_with(&pairs).await;
    (fake, app)
}

fn query(url: &str, key: &str) -> Option<String> {
    url::Url::parse(url)
        .expect("URL")
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn flow_cookie(answer: &Answer) -> Option<String> {
    answer
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("oauth2_flow="))
        .map(str::to_owned)
}

/// `GET /api/tokens/oauth2/{provider}`, as the browser's navigation.
pub async fn begin(app: &TestApp, provider: &str) -> Flow {
    let answer = app
        .get(&format!("/api/tokens/oauth2/{provider}"))
        .send()
        .await;
    answer.assert_status(302);
    flow_of(&answer, answer.headers["location"].to_str().unwrap())
}

fn flow_of(answer: &Answer, url: &str) -> Flow {
    let set = flow_cookie(answer).expect("flow cookie");
    let cookie = set
        .split(';')
        .next()
        .and_then(|p| p.strip_prefix("oauth2_flow="))
        .unwrap()
        .to_owned();
    Flow {
        url: url.to_owned(),
        state: query(url, "state").expect("state"),
        cookie,
    }
}

/// `POST /api/tokens/oauth2/{provider}`, as the callback page does.
pub async fn finish(
    app: &TestApp,
    provider: &str,
    code: &str,
    state: &str,
    cookie: Option<&str>,
) -> Answer {
    let mut call = app
        .post(&format!("/api/tokens/oauth2/{provider}"))
        .json(&json!({ "code": code, "state": state }));
    if let Some(cookie) = cookie {
        call = call.header("Cookie", &format!("oauth2_flow={cookie}"));
    }
    call.send().await
}

/// A whole sign-in through the fake provider, with the person agreeing.
pub async fn sign_in(fake: &FakeProvider, app: &TestApp, provider: &str) -> Answer {
    let flow = begin(app, provider).await;
    let code = fake.authorize(&flow.url);
    finish(app, provider, &code, &flow.state, Some(&flow.cookie)).await
}

async fn me(app: &TestApp, answer: &Answer) -> serde_json::Value {
    let token = answer.body["access_token"].as_str().expect("access token");
    let me = app.get("/api/me").bearer(token).send().await;
    me.assert_status(200);
    me.body
}

#[tokio::test]
async fn enabled_providers_are_listed_and_none_without_settings() {
    let (_fake, app) = setup().await;
    let list = app.get("/api/tokens/oauth2").send().await;
    list.assert_status(200);
    assert_eq!(
        list.body,
        json!([{"name": "github", "display_name": "GitHub"}, {"name": "fake", "display_name": "Fake"}])
    );
    let plain = spawn_app().await;
    let none = plain.get("/api/tokens/oauth2").send().await;
    assert_eq!(none.body, json!([]));
    plain
        .get("/api/tokens/oauth2/fake")
        .send()
        .await
        .assert_error(404);
}

#[tokio::test]
async fn the_redirect_carries_pkce_state_nonce_and_the_exact_redirect_uri() {
    let (fake, app) = setup().await;
    let answer = app.get("/api/tokens/oauth2/fake").send().await;
    answer.assert_status(302);
    let url = answer.headers["location"].to_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/authorize?", fake.issuer)),
        "{url}"
    );
    assert_eq!(query(url, "response_type").as_deref(), Some("code"));
    assert_eq!(query(url, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(
        query(url, "redirect_uri").as_deref(),
        Some("http://localhost:8080/oauth2/fake/callback")
    );
    assert!(
        query(url, "scope")
            .unwrap()
            .split(' ')
            .any(|s| s == "openid")
    );
    assert_eq!(query(url, "code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(query(url, "code_challenge").unwrap().len(), 43);
    assert!(query(url, "nonce").unwrap().len() >= 43);
    let state = query(url, "state").unwrap();
    assert!(state.len() >= 43);
    // The client secret never goes to the browser.
    assert!(!url.contains("test-client-secret"));
    let cookie = flow_cookie(&answer).unwrap();
    for part in ["HttpOnly", "Secure", "Path=/api/tokens", "Max-Age=600"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    // The cookie holds the state's hash, not the state.
    assert!(cookie.starts_with(&format!(
        "oauth2_flow={}",
        hex::encode(Sha256::digest(state.as_bytes()))
    )));
    assert_eq!(answer.headers["cache-control"], "no-store");
    // Every flow has its own state and challenge.
    let again = begin(&app, "fake").await;
    assert_ne!(again.state, state);
    assert_ne!(
        query(&again.url, "code_challenge"),
        query(url, "code_challenge")
    );
}

#[tokio::test]
async fn a_first_sign_in_creates_an_account_and_the_next_one_signs_in_to_it() {
    let (fake, app) = setup().await;
    let first = sign_in(&fake, &app, "fake").await;
    first.assert_status(200);
    assert!(first.refresh_cookie().is_some());
    let cleared = flow_cookie(&first).unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let user = me(&app, &first).await;
    assert_eq!(user["username"], "person");
    assert_eq!(user["email"], "person@example.com");
    assert_eq!(user["has_password"], false);
    // The token request proved possession of the PKCE verifier.
    let requests = fake.token_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["code_verifier"].len(), 43);
    assert_eq!(
        requests[0]["redirect_uri"],
        "http://localhost:8080/oauth2/fake/callback"
    );

    let second = sign_in(&fake, &app, "fake").await;
    second.assert_status(200);
    assert_eq!(me(&app, &second).await["id"], user["id"]);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_flows").await, 0);
}

#[tokio::test]
async fn usernames_are_made_unique_and_a_provider_without_email_gets_a_placeholder() {
    let (fake, app) = setup().await;
    app.user("person").await;
    fake.set(|b| {
        b.subject = Some("subject-2".into());
        b.email = None;
        b.email_verified = None;
    });
    let answer = sign_in(&fake, &app, "fake").await;
    answer.assert_status(200);
    let user = me(&app, &answer).await;
    assert_eq!(user["username"], "person2");
    assert!(user["email"].as_str().unwrap().ends_with("@users.invalid"));
}

#[tokio::test]
async fn an_email_that_has_an_account_is_never_linked_silently() {
    let (fake, app) = setup().await;
    // A password account owns the address the provider gives.
    app.user("owner").await;
    fake.set(|b| b.email = Some("owner@example.com".into()));
    let answer = sign_in(&fake, &app, "fake").await;
    answer.assert_error(409);
    assert!(answer.refresh_cookie().is_none());
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_identities").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
    // Only the password login's session.
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
}

#[tokio::test]
async fn a_2fa_account_gets_its_challenge_after_the_provider() {
    let (fake, app) = setup().await;
    let susan = app.user("susan").await;
    link_fake(&fake, &app, &susan.access_token, Some(PASSWORD)).await;
    let (secret, _) = enable_2fa(&app, &susan).await;

    let answer = sign_in(&fake, &app, "fake").await;
    answer.assert_status(202);
    assert!(answer.body.get("access_token").is_none());
    assert!(answer.refresh_cookie().is_none());
    let challenge = answer.body["challenge"].as_str().unwrap();
    let done = answer_challenge(&app, challenge, &code(&secret, 0)).await;
    done.assert_status(200);
    assert_eq!(me(&app, &done).await["id"], susan.id);
}

/// Links the fake provider to the account of `token` from its settings.
async fn link_fake(fake: &FakeProvider, app: &TestApp, token: &str, password: Option<&str>) {
    let answer = start_link(app, token, password).await;
    answer.assert_status(200);
    let flow = flow_of(&answer, answer.body["url"].as_str().unwrap());
    let code = fake.authorize(&flow.url);
    let done = finish(app, "fake", &code, &flow.state, Some(&flow.cookie)).await;
    done.assert_status(201);
    assert_eq!(done.body["provider"], "fake");
    assert!(done.refresh_cookie().is_none(), "linking starts no session");
}

async fn start_link(app: &TestApp, token: &str, password: Option<&str>) -> Answer {
    let body = match password {
        Some(p) => json!({ "password": p }),
        None => json!({}),
    };
    app.post("/api/tokens/oauth2/fake/link")
        .bearer(token)
        .json(&body)
        .send()
        .await
}

#[tokio::test]
async fn linking_needs_the_password_and_then_the_provider_signs_in_to_that_account() {
    let (fake, app) = setup().await;
    let susan = app.user("susan").await;
    assert_eq!(
        start_link(&app, &susan.access_token, None)
            .await
            .field_errors("password"),
        ["Enter your password to link a provider."]
    );
    start_link(&app, &susan.access_token, Some("wrong password"))
        .await
        .field_errors("password");
    app.post("/api/tokens/oauth2/fake/link")
        .json(&json!({}))
        .send()
        .await
        .assert_error(401);

    link_fake(&fake, &app, &susan.access_token, Some(PASSWORD)).await;
    let linked = app
        .get("/api/me/oauth2")
        .bearer(&susan.access_token)
        .send()
        .await;
    linked.assert_status(200);
    assert_eq!(linked.body[0]["provider"], "fake");
    assert_eq!(linked.body[0]["display_name"], "Fake");

    let answer = sign_in(&fake, &app, "fake").await;
    answer.assert_status(200);
    assert_eq!(me(&app, &answer).await["id"], susan.id);

    // The same provider account cannot be linked to a second account.
    let bob = app.user("bob").await;
    let started = start_link(&app, &bob.access_token, Some(PASSWORD)).await;
    let flow = flow_of(&started, started.body["url"].as_str().unwrap());
    let code = fake.authorize(&flow.url);
    finish(&app, "fake", &code, &flow.state, Some(&flow.cookie))
        .await
        .assert_error(409);
}

#[tokio::test]
async fn the_last_sign_in_method_cannot_be_unlinked() {
    let (fake, app) = setup().await;
    let answer = sign_in(&fake, &app, "fake").await;
    let token = answer.body["access_token"].as_str().unwrap().to_owned();
    app.delete("/api/me/oauth2/fake")
        .bearer(&token)
        .send()
        .await
        .assert_error(409);
    app.delete("/api/me/oauth2/github")
        .bearer(&token)
        .send()
        .await
        .assert_error(404);
    // A password set (the sign-in is recent), the provider can go.
    app.put("/api/me")
        .bearer(&token)
        .json(&json!({ "password": "a brand new password" }))
        .send()
        .await
        .assert_status(200);
    app.delete("/api/me/oauth2/fake")
        .bearer(&token)
        .send()
        .await
        .assert_status(204);
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_identities").await, 0);
    app.login("person", "a brand new password")
        .await
        .assert_status(200);
}

#[tokio::test]
async fn github_gives_its_login_and_verified_primary_email() {
    let (fake, app) = setup().await;
    fake.set(|b| b.username = Some("octocat".into()));
    let flow = begin(&app, "github").await;
    assert!(
        flow.url
            .starts_with(&format!("{}/login/oauth/authorize?", fake.issuer))
    );
    assert!(query(&flow.url, "scope").unwrap().contains("user:email"));
    let code = fake.authorize(&flow.url);
    let answer = finish(&app, "github", &code, &flow.state, Some(&flow.cookie)).await;
    answer.assert_status(200);
    let user = me(&app, &answer).await;
    assert_eq!(user["username"], "octocat");
    assert_eq!(user["email"], "octocat@example.com");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM oauth_identities WHERE provider = 'github' AND subject = '583231'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn github_with_an_unverified_primary_email_is_refused() {
    let (fake, app) = setup().await;
    fake.set(|b| {
        b.github_emails = vec![
            json!({"email": "victim@example.com", "primary": true, "verified": false}),
            json!({"email": "other@example.com", "primary": false, "verified": true}),
        ];
    });
    let flow = begin(&app, "github").await;
    let code = fake.authorize(&flow.url);
    let answer = finish(&app, "github", &code, &flow.state, Some(&flow.cookie)).await;
    answer.assert_error(403);
    assert!(answer.refresh_cookie().is_none());
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
}
