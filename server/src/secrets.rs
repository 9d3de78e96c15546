//! Secrets at rest: TOTP secrets and signing keys are stored sealed with
//! XChaCha20-Poly1305 under a key-encryption key from the configuration (`SECRET_KEY`), so
//! that a copy of the database alone yields neither.
//!
//! A sealed value reads `v1.<key id>.<base64url(nonce ‖ ciphertext)>`. The key id (the
//! first bytes of the key's SHA-256) says which key sealed it, so the key can be rotated:
//! with the old key as `SECRET_KEY_PREVIOUS`, values sealed under either open, and
//! [`reseal_all`] seals every stored value again under the current key. Each value is bound
//! to what it protects (the associated data names the row), so a sealed value copied into
//! another row does not open there.

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::db::Db;

const PREFIX: &str = "v1";
const NONCE_LEN: usize = 24;

/// One key-encryption key and its id.
#[derive(Clone)]
struct Kek {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl Kek {
    fn new(key: &[u8; 32]) -> Self {
        let id = hex::encode(&Sha256::digest(key)[..4]);
        Self {
            id,
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }
}

/// Seals and opens secrets at rest.
#[derive(Clone)]
pub struct Sealer {
    current: Kek,
    previous: Option<Kek>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("current", &self.current.id)
            .field("previous", &self.previous.as_ref().map(|k| &k.id))
            .finish()
    }
}

/// Parses a key: 32 bytes, as 64 hex digits or as base64 (standard or URL-safe, padded
/// or not).
pub fn parse_key(text: &str) -> anyhow::Result<[u8; 32]> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).context("not hex")?
    } else {
        let unpadded = text
            .trim_end_matches('=')
            .replace('+', "-")
            .replace('/', "_");
        URL_SAFE_NO_PAD
            .decode(unpadded)
            .context("neither 64 hex digits nor base64")?
    };
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| anyhow::anyhow!("{} bytes where 32 are needed", b.len()))
}

/// A new random key, as base64 (what `cargo xtask run` writes on first start).
pub fn generate_key() -> String {
    let key = XChaCha20Poly1305::generate_key(&mut OsRng);
    base64::engine::general_purpose::STANDARD.encode(key)
}

impl Sealer {
    pub fn new(current: &[u8; 32], previous: Option<&[u8; 32]>) -> Self {
        Self {
            current: Kek::new(current),
            previous: previous.map(Kek::new),
        }
    }

    /// Seals `secret`, bound to `context` (what row it belongs to).
    pub fn seal(&self, secret: &[u8], context: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .current
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: secret,
                    aad: context.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory input");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!(
            "{PREFIX}.{}.{}",
            self.current.id,
            URL_SAFE_NO_PAD.encode(out)
        )
    }

    /// Opens what [`Sealer::seal`] made for the same `context`, under the current or the
    /// previous key.
    pub fn open(&self, sealed: &str, context: &str) -> anyhow::Result<Vec<u8>> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(PREFIX), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            bail!("not a sealed value");
        };
        let kek = [Some(&self.current), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|k| k.id == id)
            .with_context(|| format!("sealed under key {id}, which is not configured"))?;
        let bytes = URL_SAFE_NO_PAD.decode(body).context("not base64url")?;
        if bytes.len() < NONCE_LEN {
            bail!("too short");
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        kek.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("does not open: wrong key or altered"))
    }

    /// Whether a stored value is sealed under the current key (else it is plaintext from
    /// before encryption, or sealed under the previous key).
    pub fn is_current(&self, stored: &str) -> bool {
        stored.starts_with(&format!("{PREFIX}.{}.", self.current.id))
    }

    fn is_sealed(stored: &str) -> bool {
        stored.starts_with(&format!("{PREFIX}."))
    }
}

/// Seals again, under the current key, every stored secret that is not: plaintext TOTP
/// secrets from before encryption, and values sealed under the previous key. Run at every
/// start (cheap when there is nothing to do) and by `server rotate-secret-key`. Returns how
/// many values were rewritten.
pub async fn reseal_all(db: &Db, sealer: &Sealer) -> anyhow::Result<u64> {
    let mut done = 0;
    let mut tx = db.begin().await?;
    for (user_id, stored) in crate::db::two_factor::all_secrets(&mut tx).await? {
        if sealer.is_current(&stored) {
            continue;
        }
        let context = totp_context(user_id);
        let plain = if Sealer::is_sealed(&stored) {
            sealer.open(&stored, &context)?
        } else {
            stored.into_bytes()
        };
        crate::db::two_factor::set_secret(&mut tx, user_id, &sealer.seal(&plain, &context)).await?;
        done += 1;
    }
    for (kid, stored) in crate::db::signing_keys::all_private(&mut tx).await? {
        if sealer.is_current(&stored) {
            continue;
        }
        let context = signing_key_context(&kid);
        let plain = sealer.open(&stored, &context)?;
        crate::db::signing_keys::set_private(&mut tx, &kid, &sealer.seal(&plain, &context)).await?;
        done += 1;
    }
    tx.commit().await?;
    Ok(done)
}

/// The associated data of a user's TOTP secret.
pub fn totp_context(user_id: i64) -> String {
    format!("totp-secret:{user_id}")
}

/// The associated data of a signing key's private half.
pub fn signing_key_context(kid: &str) -> String {
    format!("signing-key:{kid}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 32] = [7; 32];
    const B: [u8; 32] = [9; 32];

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_context() {
        let sealer = Sealer::new(&A, None);
        let sealed = sealer.seal(b"JBSWY3DPEHPK3PXP", "totp-secret:1");
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(
            sealer.open(&sealed, "totp-secret:1").unwrap(),
            b"JBSWY3DPEHPK3PXP"
        );
        assert!(sealer.open(&sealed, "totp-secret:2").is_err());
        assert!(
            Sealer::new(&B, None)
                .open(&sealed, "totp-secret:1")
                .is_err()
        );
        // Two seals of one secret differ (random nonces).
        assert_ne!(sealed, sealer.seal(b"JBSWY3DPEHPK3PXP", "totp-secret:1"));
    }

    #[test]
    fn during_a_rotation_values_under_the_previous_key_still_open() {
        let old = Sealer::new(&A, None);
        let sealed = old.seal(b"secret", "ctx");
        let rotating = Sealer::new(&B, Some(&A));
        assert!(!rotating.is_current(&sealed));
        assert_eq!(rotating.open(&sealed, "ctx").unwrap(), b"secret");
        assert!(rotating.is_current(&rotating.seal(b"secret", "ctx")));
    }

    #[test]
    fn altered_or_foreign_values_do_not_open() {
        let sealer = Sealer::new(&A, None);
        let sealed = sealer.seal(b"secret", "ctx");
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert!(
            sealer
                .open(&String::from_utf8(altered).unwrap(), "ctx")
                .is_err()
        );
        for junk in ["", "v1", "v1.x.y", "plaintext", "v1.00000000.AAAA"] {
            assert!(sealer.open(junk, "ctx").is_err(), "{junk}");
        }
    }

    #[test]
    fn keys_parse_from_hex_or_base64() {
        assert_eq!(parse_key(&"07".repeat(32)).unwrap(), A);
        let b64 = base64::engine::general_purpose::STANDARD.encode(A);
        assert_eq!(parse_key(&b64).unwrap(), A);
        assert_eq!(parse_key(&generate_key()).unwrap().len(), 32);
        assert!(parse_key("too short").is_err());
    }
}
