//! Verifies a Microblog access token the way another service would: with the public keys
//! at the API's JWKS URL alone, no shared secret and no call to the API per token.
//!
//! ```sh
//! cargo run -p server --example verify_token -- \
//!     --jwks http://127.0.0.1:8080/.well-known/jwks.json \
//!     --iss http://127.0.0.1:8080 --aud http://127.0.0.1:8080/api  <token>
//! ```
//!
//! Prints the claims as JSON and exits 0, or says why the token is refused and exits 1.
//! Copy [`Verifier`] into a service: it caches the key set for the `max-age` the server
//! sends, fetches it again when a token names a key it does not know (at most once per
//! ten seconds, so forged `kid`s cannot make it hammer the API), accepts EdDSA only, and
//! checks `kid`, `typ`, `iss`, `aud` and `exp`. What it cannot know is whether the session
//! was ended since the token was signed: tokens live 15 minutes, and a service that must
//! honour a logout at once asks the API (`GET /api/me`) instead.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

/// How soon an unknown `kid` may trigger another fetch of the key set.
const REFETCH_AFTER: Duration = Duration::from_secs(10);

struct Verifier {
    jwks_url: String,
    issuer: String,
    audience: String,
    http: reqwest::Client,
    keys: HashMap<String, DecodingKey>,
    fetched: Option<Instant>,
    max_age: Duration,
}

impl Verifier {
    fn new(jwks_url: &str, issuer: &str, audience: &str) -> Self {
        Self {
            jwks_url: jwks_url.to_owned(),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            http: reqwest::Client::new(),
            keys: HashMap::new(),
            fetched: None,
            max_age: Duration::ZERO,
        }
    }

    /// Fetches the key set, keeping only Ed25519 signing keys meant for EdDSA.
    async fn fetch(&mut self) -> anyhow::Result<()> {
        let response = self
            .http
            .get(&self.jwks_url)
            .send()
            .await?
            .error_for_status()?;
        self.max_age = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').find_map(|d| d.trim().strip_prefix("max-age=")))
            .and_then(|s| s.parse().ok())
            .map_or(Duration::ZERO, Duration::from_secs);
        let jwks: Value = response.json().await?;
        self.keys.clear();
        for key in jwks["keys"].as_array().context("no keys in the JWKS")? {
            let fields = (
                key["kty"].as_str(),
                key["crv"].as_str(),
                key["alg"].as_str(),
                key["kid"].as_str(),
                key["x"].as_str(),
            );
            if let (Some("OKP"), Some("Ed25519"), Some("EdDSA"), Some(kid), Some(x)) = fields {
                self.keys
                    .insert(kid.to_owned(), DecodingKey::from_ed_components(x)?);
            }
        }
        self.fetched = Some(Instant::now());
        Ok(())
    }

    async fn verify(&mut self, token: &str) -> anyhow::Result<Value> {
        if token.len() > 4096 {
            bail!("the token is too long to be one of ours");
        }
        let header = jsonwebtoken::decode_header(token).context("not a JWT")?;
        // The algorithm is pinned: `alg` in the header only has to agree with it.
        if header.alg != Algorithm::EdDSA {
            bail!("algorithm {:?} is not allowed", header.alg);
        }
        if header.typ.as_deref() != Some("at+jwt") {
            bail!("not an access token (typ {:?})", header.typ);
        }
        // Keys come from our JWKS URL only: jku, x5u and jwk headers are never looked at.
        let kid = header.kid.context("no kid")?;
        let stale = self.fetched.is_none_or(|t| t.elapsed() >= self.max_age);
        let may_refetch = self.fetched.is_none_or(|t| t.elapsed() >= REFETCH_AFTER);
        if stale || (!self.keys.contains_key(&kid) && may_refetch) {
            self.fetch().await?;
        }
        let key = self.keys.get(&kid).context("unknown kid")?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        let data = jsonwebtoken::decode::<Value>(token, key, &validation)?;
        Ok(data.claims)
    }
}

#[tokio::main]
async fn main() {
    match run().await {
        Ok(claims) => println!("{claims:#}"),
        Err(e) => {
            eprintln!("refused: {e:#}");
            std::process::exit(1);
        }
    }
}

async fn run() -> anyhow::Result<Value> {
    let mut args = std::env::args().skip(1);
    let (mut jwks, mut iss, mut aud, mut token) = (None, None, None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--jwks" => jwks = args.next(),
            "--iss" => iss = args.next(),
            "--aud" => aud = args.next(),
            _ => token = Some(arg),
        }
    }
    let usage = "usage: verify_token --jwks URL --iss ISSUER --aud AUDIENCE TOKEN";
    let (Some(jwks), Some(iss), Some(aud), Some(token)) = (jwks, iss, aud, token) else {
        bail!(usage);
    };
    Verifier::new(&jwks, &iss, &aud).verify(token.trim()).await
}
