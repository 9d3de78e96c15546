//! Access tokens are JWTs that anyone verifies with the published keys, and that this
//! server refuses in every forged form.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};
use server::secrets::{Sealer, parse_key, signing_key_context};

use crate::account::execute;
use crate::helpers::{TestApp, TestUser, spawn_app_with};

/// A fixed key, so the tests can open what the server sealed.
const SECRET_KEY: &str = "0101010101010101010101010101010101010101010101010101010101010101";
const ISSUER: &str = "http://localhost:8080";
const AUDIENCE: &str = "http://localhost:8080/api";

async fn app() -> TestApp {
    spawn_app_with(&[("SECRET_KEY", SECRET_KEY)]).await
}

fn part(token: &str, index: usize) -> Value {
    let encoded = token.split('.').nth(index).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded).expect("base64url")).expect("JSON")
}

async fn jwks(app: &TestApp) -> Value {
    let answer = app.get("/.well-known/jwks.json").send().await;
    answer.assert_status(200);
    answer.body
}

/// The server's current signing key, opened from the database (a test may; a thief with
/// the database alone may not: see `secrets_at_rest`).
async fn our_key(app: &TestApp, kid: &str) -> EncodingKey {
    let sealed = crate::secrets_at_rest::text(
        app,
        &format!("SELECT private_key FROM signing_keys WHERE kid = '{kid}'"),
    )
    .await;
    let sealer = Sealer::new(&parse_key(SECRET_KEY).unwrap(), None);
    EncodingKey::from_ed_der(&sealer.open(&sealed, &signing_key_context(kid)).unwrap())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims(user: &TestUser, token: &str) -> Value {
    let mut c = part(token, 1);
    c["sub"] = json!(user.id.to_string());
    c
}

fn sign(header: &Header, claims: &Value, key: &EncodingKey) -> String {
    jsonwebtoken::encode(header, claims, key).unwrap()
}

fn header(kid: &str) -> Header {
    let mut h = Header::new(Algorithm::EdDSA);
    h.typ = Some("at+jwt".into());
    h.kid = Some(kid.to_owned());
    h
}

/// Every protected endpoint we sample answers 401 to `token`.
async fn refused_everywhere(app: &TestApp, token: &str, what: &str) {
    for (method, path) in [
        (reqwest::Method::GET, "/api/me"),
        (reqwest::Method::GET, "/api/feed"),
        (reqwest::Method::GET, "/api/me/sessions"),
        (reqwest::Method::POST, "/api/posts"),
        (reqwest::Method::DELETE, "/api/tokens"),
    ] {
        let answer = app
            .call(method.clone(), path)
            .bearer(token)
            .json(&json!({"text": "forged"}))
            .send()
            .await;
        assert_eq!(
            answer.status, 401,
            "{what}: {method} {path} gave {answer:?}"
        );
    }
}

#[tokio::test]
async fn an_access_token_is_a_jwt_that_the_published_keys_verify() {
    let app = app().await;
    let susan = app.user("susan").await;
    let header = part(&susan.access_token, 0);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "at+jwt");
    let kid = header["kid"].as_str().unwrap();

    let answer = app.get("/.well-known/jwks.json").send().await;
    assert_eq!(answer.headers["cache-control"], "public, max-age=300");
    let key = answer.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .expect("the signing key is published")
        .clone();
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str()),
        (Some("OKP"), Some("Ed25519"))
    );
    assert!(key.get("d").is_none(), "a private part is published: {key}");

    // Verified with the JWK alone, as another service would.
    let decoding = DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    let data = jsonwebtoken::decode::<Value>(&susan.access_token, &decoding, &validation)
        .expect("verifies with the JWKS alone");
    let c = data.claims;
    assert_eq!(c["sub"], susan.id.to_string());
    assert!(c["sid"].as_i64().is_some() && c["jti"].as_str().is_some_and(|j| j.len() >= 22));
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 900);
}

#[tokio::test]
async fn forged_and_misused_tokens_are_refused() {
    let app = app().await;
    let susan = app.user("susan").await;
    let kid = part(&susan.access_token, 0)["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    let ours = our_key(&app, &kid).await;
    let good = claims(&susan, &susan.access_token);
    // Sanity: our own signature over the same claims is accepted.
    let resigned = sign(&header(&kid), &good, &ours);
    app.get("/api/me")
        .bearer(&resigned)
        .send()
        .await
        .assert_status(200);

    let mut forged: Vec<(String, &str)> = Vec::new();
    // alg: none, unsigned.
    let none_header =
        URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","typ":"at+jwt","kid":"{kid}"}}"#));
    let body = URL_SAFE_NO_PAD.encode(good.to_string());
    forged.push((format!("{none_header}.{body}."), "alg none"));
    // HS256 keyed with our public key.
    let x = jwks(&app).await["keys"][0]["x"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut hs = Header::new(Algorithm::HS256);
    hs.typ = Some("at+jwt".into());
    hs.kid = Some(kid.clone());
    for secret in [x.as_bytes().to_vec(), URL_SAFE_NO_PAD.decode(&x).unwrap()] {
        forged.push((
            sign(&hs, &good, &EncodingKey::from_secret(&secret)),
            "HS256 with the public key",
        ));
    }
    // A valid signature by a key that is not ours: unknown kid, and our kid.
    let theirs = SigningKey::generate(&mut rand::rngs::OsRng);
    let theirs_key = EncodingKey::from_ed_der(theirs.to_pkcs8_der().unwrap().as_bytes());
    forged.push((
        sign(&header("attacker-key"), &good, &theirs_key),
        "unknown kid",
    ));
    forged.push((
        sign(&header(&kid), &good, &theirs_key),
        "another key under our kid",
    ));
    // Headers that point at the attacker's key: ignored, never fetched.
    let attacker_x = URL_SAFE_NO_PAD.encode(theirs.verifying_key().as_bytes());
    let mut jku = header(&kid);
    jku.jku = Some("http://127.0.0.1:9/jwks.json".into());
    forged.push((sign(&jku, &good, &theirs_key), "jku"));
    let mut x5u = header(&kid);
    x5u.x5u = Some("http://127.0.0.1:9/cert.pem".into());
    forged.push((sign(&x5u, &good, &theirs_key), "x5u"));
    let mut embedded = header(&kid);
    embedded.jwk = Some(
        serde_json::from_value(
            json!({"kty": "OKP", "crv": "Ed25519", "x": attacker_x, "kid": kid}),
        )
        .unwrap(),
    );
    forged.push((sign(&embedded, &good, &theirs_key), "embedded jwk"));
    // Our key, but claims or header that are wrong.
    let with = |field: &str, value: Value| {
        let mut c = good.clone();
        c[field] = value;
        sign(&header(&kid), &c, &ours)
    };
    forged.push((with("exp", json!(now() - 120)), "expired"));
    forged.push((with("nbf", json!(now() + 600)), "not yet valid"));
    forged.push((with("iat", json!(now() + 600)), "issued in the future"));
    forged.push((with("iss", json!("https://evil.example")), "wrong iss"));
    forged.push((with("aud", json!("https://other.example/api")), "wrong aud"));
    forged.push((
        with("sub", json!("999999")),
        "another user's id on this session",
    ));
    let mut jwt_typ = header(&kid);
    jwt_typ.typ = Some("JWT".into());
    forged.push((sign(&jwt_typ, &good, &ours), "typ JWT"));
    let mut no_typ = header(&kid);
    no_typ.typ = None;
    forged.push((sign(&no_typ, &good, &ours), "no typ"));
    // Damaged signatures.
    let (signed, signature) = resigned.rsplit_once('.').unwrap();
    forged.push((
        format!("{signed}.{}", &signature[..signature.len() - 4]),
        "truncated signature",
    ));
    let raw = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let padded = base64::engine::general_purpose::URL_SAFE.encode(&raw);
    forged.push((
        format!("{signed}.{padded}"),
        "re-encoded signature (padded)",
    ));
    let standard = base64::engine::general_purpose::STANDARD.encode(&raw);
    if standard != signature {
        forged.push((
            format!("{signed}.{standard}"),
            "re-encoded signature (standard)",
        ));
    }
    // Oversized: past the longest token the server reads, yet within what the HTTP layer
    // takes in a request head (a larger head is refused there, with 431).
    let mut huge = good.clone();
    huge["pad"] = json!("x".repeat(16 * 1024));
    forged.push((sign(&header(&kid), &huge, &ours), "oversized"));
    // Other kinds of token presented as an access token.
    forged.push((susan.refresh_token.clone(), "a refresh token"));

    for (token, what) in &forged {
        refused_everywhere(&app, token, what).await;
    }
    app.get("/api/me")
        .bearer(&susan.access_token)
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn an_access_token_dies_with_its_session_at_once() {
    let app = app().await;
    let susan = app.user("susan").await;
    crate::tokens::logout(&app, &susan.access_token)
        .await
        .assert_status(204);
    refused_everywhere(&app, &susan.access_token, "after logout").await;
}

#[tokio::test]
async fn an_access_token_is_not_a_refresh_token() {
    let app = app().await;
    let susan = app.user("susan").await;
    app.refresh(&susan.access_token).await.assert_error(401);
    app.refresh(&susan.refresh_token).await.assert_status(200);
}

#[tokio::test]
async fn a_rotation_publishes_the_new_key_first_and_keeps_the_old_until_its_tokens_expire() {
    let app = app().await;
    let susan = app.user("susan").await;
    let old_kid = part(&susan.access_token, 0)["kid"]
        .as_str()
        .unwrap()
        .to_owned();

    // Rotate, as `server rotate-signing-key` does.
    let config = server::config::Config::from_lookup(|k| match k {
        "SECRET_KEY" => Some(SECRET_KEY.to_owned()),
        "DATABASE_URL" => Some(app.database_url.clone()),
        _ => None,
    })
    .unwrap();
    let db = server::db::Db::connect(&app.database_url).await.unwrap();
    let settings = server::startup::jwt_settings(&config);
    let sealer = server::startup::sealer(&config).unwrap();
    let new_kid = server::auth::jwt::rotate(&db, &sealer, &settings)
        .await
        .unwrap();

    // Published before it signs: an instance started now lists it, and signs with the old.
    let early = app.another_instance(&[("SECRET_KEY", SECRET_KEY)]).await;
    let kids: Vec<String> = jwks(&early).await["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        kids.contains(&new_kid) && kids.contains(&old_kid),
        "{kids:?}"
    );
    let before = early.login("susan", crate::helpers::PASSWORD).await;
    let before = before.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(part(&before, 0)["kid"], old_kid.as_str());

    // Its time comes (as if SIGNING_KEY_PUBLISH_SECS had passed).
    let now = server::db::now_micros();
    execute(
        &app,
        &format!("UPDATE signing_keys SET signs_from = {now} WHERE kid = '{new_kid}'"),
    )
    .await;
    let later = app.another_instance(&[("SECRET_KEY", SECRET_KEY)]).await;
    let after = later.login("susan", crate::helpers::PASSWORD).await;
    let after = after.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(part(&after, 0)["kid"], new_kid.as_str());
    // Tokens of both keys work, and every live session with them.
    for token in [&susan.access_token, &before, &after] {
        later
            .get("/api/me")
            .bearer(token)
            .send()
            .await
            .assert_status(200);
    }
    later.refresh(&susan.refresh_token).await.assert_status(200);
}

/// The example verifier (`server/examples/verify_token.rs`), which the test build compiles
/// beside this binary, verifies a real token with the JWKS URL alone and refuses a forged one.
#[tokio::test]
async fn the_example_verifier_needs_only_the_jwks_url() {
    let app = app().await;
    let susan = app.user("susan").await;
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let verifier = profile_dir.join("examples").join("verify_token");
    assert!(verifier.is_file(), "{} was not built", verifier.display());
    let jwks_url = format!("{}/.well-known/jwks.json", app.address);
    let run = |token: String| {
        let (verifier, jwks_url) = (verifier.clone(), jwks_url.clone());
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(verifier)
                .args([
                    "--jwks", &jwks_url, "--iss", ISSUER, "--aud", AUDIENCE, &token,
                ])
                .output()
                .unwrap()
        })
    };
    let ok = run(susan.access_token.clone()).await.unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let claims: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(claims["sub"], susan.id.to_string());

    let theirs = SigningKey::generate(&mut rand::rngs::OsRng);
    let kid = part(&susan.access_token, 0)["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    let forged = sign(
        &header(&kid),
        &claims,
        &EncodingKey::from_ed_der(theirs.to_pkcs8_der().unwrap().as_bytes()),
    );
    let refused = run(forged).await.unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).starts_with("refused"));
}
