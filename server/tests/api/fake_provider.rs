//! An OAuth 2 / OpenID Connect provider for the tests, on a real loopback port: discovery,
//! a key set, a token endpoint that checks PKCE, and GitHub's user and email endpoints.
//! Each test decides what it answers, down to forging the ID token.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::ecdsa::SigningKey;
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "microblog-test-client";
pub const CLIENT_SECRET: &str = "test-client-secret";

/// How the next ID token is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signing {
    /// ES256 with the published key.
    Good,
    /// `alg: none`, no signature.
    None,
    /// ES256 with a key the key set does not have, under a `kid` it does not list.
    UnknownKey,
    /// ES256 with another key, under the published key's `kid`.
    WrongKeySameKid,
    /// HS256 with the published public key (its PEM) as the HMAC secret.
    HmacWithPublicKey,
}

/// One EC key, as the provider holds and publishes it.
pub struct Key {
    pub kid: String,
    signing: SigningKey,
}

impl Key {
    pub fn new(kid: &str) -> Self {
        Self {
            kid: kid.to_owned(),
            signing: SigningKey::random(&mut rand::rngs::OsRng),
        }
    }

    fn encoding(&self) -> EncodingKey {
        let der = self.signing.to_pkcs8_der().expect("PKCS#8 DER");
        EncodingKey::from_ec_der(der.as_bytes())
    }

    fn public_pem(&self) -> String {
        self.signing
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("public PEM")
    }

    pub fn jwk(&self) -> Value {
        let point = self.signing.verifying_key().to_encoded_point(false);
        json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(point.x().expect("x")),
            "y": URL_SAFE_NO_PAD.encode(point.y().expect("y")),
        })
    }
}

/// What the provider answers; tests change it between steps.
pub struct Behaviour {
    pub key: Key,
    /// Published in the key set besides `key` (empty: only `key`).
    pub published: Vec<Value>,
    pub signing: Signing,
    pub subject: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub username: Option<String>,
    /// Claims set last, over the defaults (`Null` removes one).
    pub overrides: serde_json::Map<String, Value>,
    /// GitHub: the user's numeric id and login, and their emails.
    pub github_id: i64,
    pub github_emails: Vec<Value>,
}

/// A code issued by the authorization step: its PKCE challenge and nonce.
struct Issued {
    challenge: String,
    nonce: Option<String>,
}

#[derive(Default)]
struct Log {
    codes: HashMap<String, Issued>,
    token_requests: Vec<HashMap<String, String>>,
    jwks_fetches: usize,
}

#[derive(Clone)]
struct Shared {
    issuer: String,
    behaviour: Arc<Mutex<Behaviour>>,
    log: Arc<Mutex<Log>>,
}

pub struct FakeProvider {
    pub issuer: String,
    shared: Shared,
}

impl FakeProvider {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("address");
        let issuer = format!("http://127.0.0.1:{}", addr.port());
        let shared = Shared {
            issuer: issuer.clone(),
            behaviour: Arc::new(Mutex::new(Behaviour {
                key: Key::new("key-1"),
                published: Vec::new(),
                signing: Signing::Good,
                subject: Some("subject-1".into()),
                email: Some("person@example.com".into()),
                email_verified: Some(true),
                username: Some("person".into()),
                overrides: serde_json::Map::new(),
                github_id: 583231,
                github_emails: vec![
                    json!({"email": "octocat@example.com", "primary": true, "verified": true}),
                ],
            })),
            log: Arc::new(Mutex::new(Log::default())),
        };
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .route("/login/oauth/access_token", post(github_token))
            .route("/api/user", get(github_user))
            .route("/api/user/emails", get(github_emails))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { issuer, shared }
    }

    /// Changes what the provider answers from now on.
    pub fn set(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut self.shared.behaviour.lock().unwrap());
    }

    /// The authorization step, as the provider's page would do it when the person agrees:
    /// a code bound to the request's PKCE challenge and nonce.
    pub fn authorize(&self, authorization_url: &str) -> String {
        let url = url::Url::parse(authorization_url).expect("authorization URL");
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(
            q.get("code_challenge_method").map(String::as_str),
            Some("S256")
        );
        let code = format!("code-{}", rand_token());
        self.shared.log.lock().unwrap().codes.insert(
            code.clone(),
            Issued {
                challenge: q["code_challenge"].clone(),
                nonce: q.get("nonce").cloned(),
            },
        );
        code
    }

    /// The token requests received, as form fields.
    pub fn token_requests(&self) -> Vec<HashMap<String, String>> {
        self.shared.log.lock().unwrap().token_requests.clone()
    }

    pub fn jwks_fetches(&self) -> usize {
        self.shared.log.lock().unwrap().jwks_fetches
    }

    /// The server settings that turn this provider on as `name` (generic OpenID Connect).
    pub fn env(&self, name: &str) -> Vec<(String, String)> {
        let upper = name.to_ascii_uppercase();
        vec![
            (format!("OAUTH2_{upper}_CLIENT_ID"), CLIENT_ID.into()),
            (
                format!("OAUTH2_{upper}_CLIENT_SECRET"),
                CLIENT_SECRET.into(),
            ),
            (format!("OAUTH2_{upper}_ISSUER"), self.issuer.clone()),
        ]
    }

    /// The settings that make this provider stand in for GitHub.
    pub fn github_env(&self) -> Vec<(String, String)> {
        vec![
            ("OAUTH2_GITHUB_CLIENT_ID".into(), CLIENT_ID.into()),
            ("OAUTH2_GITHUB_CLIENT_SECRET".into(), CLIENT_SECRET.into()),
            ("OAUTH2_GITHUB_URL".into(), self.issuer.clone()),
            (
                "OAUTH2_GITHUB_API_URL".into(),
                format!("{}/api", self.issuer),
            ),
        ]
    }
}

fn rand_token() -> String {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

async fn discovery(State(s): State<Shared>) -> Json<Value> {
    let i = &s.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "jwks_uri": format!("{i}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks(State(s): State<Shared>) -> Json<Value> {
    s.log.lock().unwrap().jwks_fetches += 1;
    let b = s.behaviour.lock().unwrap();
    let keys = if b.published.is_empty() {
        vec![b.key.jwk()]
    } else {
        b.published.clone()
    };
    Json(json!({ "keys": keys }))
}

/// Checks the code and its PKCE verifier as a provider must; the code works once.
fn redeem(s: &Shared, form: &HashMap<String, String>) -> Result<Option<String>, Value> {
    let mut log = s.log.lock().unwrap();
    log.token_requests.push(form.clone());
    let Some(issued) = form.get("code").and_then(|c| log.codes.remove(c)) else {
        return Err(json!({"error": "invalid_grant"}));
    };
    let Some(verifier) = form.get("code_verifier") else {
        return Err(
            json!({"error": "invalid_request", "error_description": "code_verifier required"}),
        );
    };
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != issued.challenge {
        return Err(json!({"error": "invalid_grant", "error_description": "PKCE mismatch"}));
    }
    Ok(issued.nonce)
}

async fn token(
    State(s): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> (axum::http::StatusCode, Json<Value>) {
    let nonce = match redeem(&s, &form) {
        Ok(nonce) => nonce,
        Err(e) => return (axum::http::StatusCode::BAD_REQUEST, Json(e)),
    };
    let b = s.behaviour.lock().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut claims = json!({
        "iss": s.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
        "sub": b.subject, "nonce": nonce, "email": b.email,
        "email_verified": b.email_verified, "preferred_username": b.username,
    });
    let map = claims.as_object_mut().unwrap();
    for (k, v) in &b.overrides {
        map.insert(k.clone(), v.clone());
    }
    map.retain(|_, v| !v.is_null());
    let id_token = sign(&b, &claims);
    (
        axum::http::StatusCode::OK,
        Json(json!({
            "access_token": "provider-access-token", "token_type": "Bearer",
            "expires_in": 300, "id_token": id_token,
        })),
    )
}

fn sign(b: &Behaviour, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(b.key.kid.clone());
    match b.signing {
        Signing::Good => jsonwebtoken::encode(&header, claims, &b.key.encoding()).unwrap(),
        Signing::UnknownKey => {
            let other = Key::new("key-unknown");
            header.kid = Some(other.kid.clone());
            jsonwebtoken::encode(&header, claims, &other.encoding()).unwrap()
        }
        Signing::WrongKeySameKid => {
            let other = Key::new(&b.key.kid);
            jsonwebtoken::encode(&header, claims, &other.encoding()).unwrap()
        }
        Signing::HmacWithPublicKey => {
            header.alg = Algorithm::HS256;
            let key = EncodingKey::from_secret(b.key.public_pem().as_bytes());
            jsonwebtoken::encode(&header, claims, &key).unwrap()
        }
        Signing::None => {
            let head = json!({"alg": "none", "typ": "JWT", "kid": b.key.kid});
            format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(head.to_string()),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            )
        }
    }
}

async fn github_token(
    State(s): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> (axum::http::StatusCode, Json<Value>) {
    if let Err(e) = redeem(&s, &form) {
        return (axum::http::StatusCode::BAD_REQUEST, Json(e));
    }
    (
        axum::http::StatusCode::OK,
        Json(
            json!({"access_token": "gho_test", "token_type": "bearer", "scope": "read:user,user:email"}),
        ),
    )
}

fn github_authorized(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("bearer gho_test"))
}

async fn github_user(
    State(s): State<Shared>,
    headers: axum::http::HeaderMap,
) -> (axum::http::StatusCode, Json<Value>) {
    if !github_authorized(&headers) {
        return (
            axum::http::StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Bad credentials"})),
        );
    }
    let b = s.behaviour.lock().unwrap();
    (
        axum::http::StatusCode::OK,
        Json(json!({"id": b.github_id, "login": b.username, "name": "The Octocat", "email": null})),
    )
}

async fn github_emails(
    State(s): State<Shared>,
    headers: axum::http::HeaderMap,
) -> (axum::http::StatusCode, Json<Value>) {
    if !github_authorized(&headers) {
        return (
            axum::http::StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Bad credentials"})),
        );
    }
    let b = s.behaviour.lock().unwrap();
    (
        axum::http::StatusCode::OK,
        Json(Value::Array(b.github_emails.clone())),
    )
}
