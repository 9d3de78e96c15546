//! Opaque tokens: 256 random bits from the OS CSPRNG, base64url; stored only as SHA-256.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new random token, 43 characters of base64url.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The form a token is stored and looked up in: lowercase hex SHA-256.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Seals `secret` under a key derived from `key_token`, so that only a holder of
/// `key_token` can open it. The pad is SHA-256 of a labelled `key_token`, used for this
/// one message only: a one-time pad over a 256-bit token. Both are our 43-character
/// tokens; anything else does not seal.
pub fn seal(secret: &str, key_token: &str) -> Option<String> {
    let secret = URL_SAFE_NO_PAD.decode(secret).ok()?;
    let pad = pad(key_token);
    if secret.len() != pad.len() {
        return None;
    }
    let sealed: Vec<u8> = secret.iter().zip(pad.iter()).map(|(a, b)| a ^ b).collect();
    Some(URL_SAFE_NO_PAD.encode(sealed))
}

/// Opens what [`seal`] made with the same `key_token`.
pub fn open(sealed: &str, key_token: &str) -> Option<String> {
    let sealed = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    let pad = pad(key_token);
    if sealed.len() != pad.len() {
        return None;
    }
    let secret: Vec<u8> = sealed.iter().zip(pad.iter()).map(|(a, b)| a ^ b).collect();
    Some(URL_SAFE_NO_PAD.encode(secret))
}

fn pad(key_token: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"microblog refresh seal v1\0");
    h.update(key_token.as_bytes());
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn sealed_token_opens_only_with_its_key() {
        let secret = generate();
        let key = generate();
        let sealed = seal(&secret, &key).unwrap();
        assert_ne!(sealed, secret);
        assert_eq!(open(&sealed, &key).as_deref(), Some(secret.as_str()));
        assert_ne!(open(&sealed, &generate()).as_deref(), Some(secret.as_str()));
        assert_eq!(seal("short", &key), None);
    }
}
