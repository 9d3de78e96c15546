//! Access tokens as JWTs (RFC 9068 profile) signed with Ed25519, and the key set that
//! signs and verifies them.
//!
//! A token carries `iss`, `aud`, `sub` (the user id), `exp`, `iat`, `jti` and `sid` (the
//! session), with `typ: at+jwt` and the signing key's `kid` in the header. Any service can
//! verify one with the public keys at `/.well-known/jwks.json` alone. This server also
//! checks that the session is live, so logout and revocation end a token at once.
//!
//! Verification pins the algorithm to EdDSA and picks the key by `kid` from our own set
//! only: `alg: none`, HMAC keyed with a public key, and `jku`, `x5u` or embedded `jwk`
//! headers get nowhere. Tokens longer than [`MAX_TOKEN_LEN`] are refused unread.
//!
//! Keys live in the database (`db::signing_keys`), private halves sealed with SECRET_KEY.
//! A new key is published [`crate::config::Config::signing_key_publish`] before it signs;
//! the key before it stays published until every token it signed has expired.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::token;
use crate::db::signing_keys::{self, StoredKey};
use crate::db::{Db, micros, now_micros};
use crate::secrets::{Sealer, signing_key_context};

/// The `typ` of an access token (RFC 9068).
pub const TOKEN_TYPE: &str = "at+jwt";
/// Longer than any token we sign by far: anything longer is refused before any work.
pub const MAX_TOKEN_LEN: usize = 2048;
/// Clock skew tolerated on `iat` between our instances, and the margin a retired key stays
/// published past its last token's expiry. Expiry itself gets no leeway here: our own
/// instances share one clock, give or take NTP.
const LEEWAY_SECS: u64 = 30;
/// How often an unknown `kid` may make us look for new keys in the database.
const UNKNOWN_KID_RELOAD: Duration = Duration::from_secs(10);

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id, as a string (RFC 7519 `sub` is a string).
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    /// The session the token belongs to.
    pub sid: i64,
}

impl Claims {
    pub fn user_id(&self) -> Option<i64> {
        self.sub.parse().ok()
    }
}

/// Who signs, for whom, for how long.
#[derive(Debug, Clone)]
pub struct Settings {
    pub issuer: String,
    pub audience: String,
    pub lifetime: Duration,
    /// How long a new key is published before it signs.
    pub publish_ahead: Duration,
}

/// A verifying key, and until when it must stay published.
struct Published {
    key: DecodingKey,
    x: String,
    /// Microseconds; `None` while no newer key has taken over.
    until: Option<i64>,
}

/// The keys as loaded from the database.
#[derive(Default)]
struct KeySet {
    /// Keys that may sign, oldest first: `(signs_from, kid, key)`.
    signers: Vec<(i64, String, EncodingKey)>,
    published: HashMap<String, Published>,
}

/// Signs and verifies access tokens; the key set is shared by every instance through the
/// database and reloaded from it.
pub struct Keys {
    settings: Settings,
    set: RwLock<KeySet>,
    last_reload: RwLock<Instant>,
    /// Tokens that passed every check, by SHA-256, kept until their `exp`. A client sends
    /// one token for its whole lifetime, and checking its signature again on each request
    /// cost 40% of `GET /api/me`'s throughput. Only verified tokens get in; emptied when
    /// the key set is read again, and when full.
    verified: Mutex<HashMap<[u8; 32], Claims>>,
}

/// Verified tokens remembered at most.
const VERIFIED_CACHE: usize = 10_000;

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Why a token was refused (for tests and logs; clients see one 401 for all).
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    TooLong,
    Malformed,
    WrongType,
    UnknownKey,
    Invalid,
}

impl Keys {
    /// Loads the key set, first creating a key if there is none.
    pub async fn load(db: &Db, sealer: &Sealer, settings: Settings) -> anyhow::Result<Self> {
        let mut tx = db.begin().await?;
        if signing_keys::count(&mut tx).await? == 0 {
            let now = now_micros();
            signing_keys::insert(&mut tx, &new_key(sealer, now)?, now).await?;
            tracing::info!("created the first access-token signing key");
        }
        tx.commit().await?;
        let keys = Self {
            settings,
            set: RwLock::new(KeySet::default()),
            last_reload: RwLock::new(Instant::now()),
            verified: Mutex::new(HashMap::new()),
        };
        keys.reload(db, sealer).await?;
        Ok(keys)
    }

    /// Reads the key set again (another instance may have rotated).
    pub async fn reload(&self, db: &Db, sealer: &Sealer) -> anyhow::Result<()> {
        let stored = signing_keys::all(db.pool()).await?;
        let now = now_micros();
        let mut set = KeySet::default();
        for (i, key) in stored.iter().enumerate() {
            let until = stored
                .get(i + 1)
                .map(|next| self.published_until(next.signs_from));
            if until.is_some_and(|u| u <= now) {
                continue;
            }
            let raw = URL_SAFE_NO_PAD
                .decode(&key.public_key)
                .context("stored public key is not base64url")?;
            set.published.insert(
                key.kid.clone(),
                Published {
                    key: DecodingKey::from_ed_der(&raw),
                    x: key.public_key.clone(),
                    until,
                },
            );
            // Only the key signing now and any newer one are ever needed to sign.
            let retired = stored.get(i + 1).is_some_and(|next| next.signs_from <= now);
            if !retired {
                let der = sealer
                    .open(&key.sealed_private_key, &signing_key_context(&key.kid))
                    .with_context(|| format!("signing key {} does not open", key.kid))?;
                set.signers.push((
                    key.signs_from,
                    key.kid.clone(),
                    EncodingKey::from_ed_der(&der),
                ));
            }
        }
        *self.set.write().unwrap_or_else(|e| e.into_inner()) = set;
        self.verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        *self.last_reload.write().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        Ok(())
    }

    /// A key retired when a newer one starts signing stays published until the last token
    /// it signed has expired.
    fn published_until(&self, successor_signs_from: i64) -> i64 {
        successor_signs_from
            .saturating_add(micros(self.settings.lifetime))
            .saturating_add(micros(Duration::from_secs(LEEWAY_SECS)))
    }

    /// Signs an access token for a session.
    pub fn sign(&self, user_id: i64, session_id: i64) -> anyhow::Result<String> {
        let now = now_micros();
        let set = self.set.read().unwrap_or_else(|e| e.into_inner());
        let (_, kid, key) = set
            .signers
            .iter()
            .rev()
            .find(|(from, _, _)| *from <= now)
            .context("no signing key is active")?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(TOKEN_TYPE.to_owned());
        header.kid = Some(kid.clone());
        let iat = now / 1_000_000;
        let claims = Claims {
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
            sub: user_id.to_string(),
            iat,
            exp: iat.saturating_add(self.settings.lifetime.as_secs() as i64),
            jti: token::generate(),
            sid: session_id,
        };
        jsonwebtoken::encode(&header, &claims, key).context("signing an access token")
    }

    /// Verifies an access token: our key by `kid`, EdDSA only, `typ`, `iss`, `aud`, and
    /// `exp` unless `allow_expired` (a refresh may name its expired access token).
    pub async fn verify(
        &self,
        token: &str,
        allow_expired: bool,
        db: &Db,
        sealer: &Sealer,
    ) -> Result<Claims, Refused> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(Refused::TooLong);
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = now_micros() / 1_000_000;
        if let Some(claims) = self
            .verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&digest)
            .filter(|c| allow_expired || c.exp > now)
        {
            return Ok(claims.clone());
        }
        let claims = self.verify_now(token, allow_expired, db, sealer).await?;
        if claims.exp > now {
            let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            if verified.len() >= VERIFIED_CACHE {
                verified.retain(|_, c| c.exp > now);
                if verified.len() >= VERIFIED_CACHE {
                    verified.clear();
                }
            }
            verified.insert(digest, claims.clone());
        }
        Ok(claims)
    }

    /// [`Keys::verify`] without the cache: every check, every time.
    async fn verify_now(
        &self,
        token: &str,
        allow_expired: bool,
        db: &Db,
        sealer: &Sealer,
    ) -> Result<Claims, Refused> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Refused::Malformed)?;
        if header.typ.as_deref() != Some(TOKEN_TYPE) {
            return Err(Refused::WrongType);
        }
        let kid = header.kid.ok_or(Refused::UnknownKey)?;
        if !self.knows(&kid)
            && self.may_reload()
            && let Err(e) = self.reload(db, sealer).await
        {
            tracing::warn!(error = %e, "reloading signing keys failed");
        }
        let set = self.set.read().unwrap_or_else(|e| e.into_inner());
        let key = &set.published.get(&kid).ok_or(Refused::UnknownKey)?.key;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 0;
        validation.validate_nbf = true;
        validation.validate_exp = !allow_expired;
        let data = jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map_err(|_| Refused::Invalid)?;
        let now = now_micros() / 1_000_000;
        if data.claims.iat > now + LEEWAY_SECS as i64 {
            return Err(Refused::Invalid);
        }
        Ok(data.claims)
    }

    fn knows(&self, kid: &str) -> bool {
        self.set
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .published
            .contains_key(kid)
    }

    /// An unknown `kid` may mean another instance rotated; forged ones must not make every
    /// request a database read.
    fn may_reload(&self) -> bool {
        self.last_reload
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .elapsed()
            >= UNKNOWN_KID_RELOAD
    }

    /// The published keys as a JWK Set.
    pub fn jwks(&self) -> wire::Jwks {
        let now = now_micros();
        let set = self.set.read().unwrap_or_else(|e| e.into_inner());
        let mut keys: Vec<wire::Jwk> = set
            .published
            .iter()
            .filter(|(_, p)| p.until.is_none_or(|u| u > now))
            .map(|(kid, p)| wire::Jwk {
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                alg: "EdDSA".into(),
                key_use: "sig".into(),
                kid: kid.clone(),
                x: p.x.clone(),
            })
            .collect();
        keys.sort_by(|a, b| a.kid.cmp(&b.kid));
        wire::Jwks { keys }
    }
}

/// A new key pair, its private half sealed, signing from `signs_from`.
fn new_key(sealer: &Sealer, signs_from: i64) -> anyhow::Result<StoredKey> {
    let signing = SigningKey::generate(&mut rand::rngs::OsRng);
    let der = signing
        .to_pkcs8_der()
        .context("encoding the new signing key")?;
    let kid = token::generate()[..16].to_owned();
    Ok(StoredKey {
        sealed_private_key: sealer.seal(der.as_bytes(), &signing_key_context(&kid)),
        public_key: URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes()),
        kid,
        signs_from,
    })
}

/// Publishes a new key that starts signing `publish_ahead` from now; deletes keys that no
/// live token can need any more. Returns the new key's id.
pub async fn rotate(db: &Db, sealer: &Sealer, settings: &Settings) -> anyhow::Result<String> {
    let now = now_micros();
    let key = new_key(sealer, now.saturating_add(micros(settings.publish_ahead)))?;
    let mut tx = db.begin().await?;
    signing_keys::insert(&mut tx, &key, now).await?;
    tx.commit().await?;
    purge(db, settings).await?;
    Ok(key.kid)
}

/// Rotates when the signing key is older than `every` (the optional automatic schedule).
pub async fn rotate_if_due(
    db: &Db,
    sealer: &Sealer,
    settings: &Settings,
    every: Duration,
) -> anyhow::Result<Option<String>> {
    let newest = signing_keys::all(db.pool()).await?.pop();
    let due = newest.is_none_or(|k| now_micros() - k.signs_from >= micros(every));
    if !due {
        return Ok(None);
    }
    rotate(db, sealer, settings).await.map(Some)
}

/// Deletes keys retired for longer than a token lives.
pub async fn purge(db: &Db, settings: &Settings) -> anyhow::Result<u64> {
    let stored = signing_keys::all(db.pool()).await?;
    let now = now_micros();
    let grace = micros(settings.lifetime) + micros(Duration::from_secs(LEEWAY_SECS));
    let dead: Vec<String> = stored
        .windows(2)
        .filter(|w| w[1].signs_from.saturating_add(grace) <= now)
        .map(|w| w[0].kid.clone())
        .collect();
    let mut tx = db.begin().await?;
    signing_keys::delete(&mut tx, &dead).await?;
    tx.commit().await?;
    Ok(dead.len() as u64)
}
