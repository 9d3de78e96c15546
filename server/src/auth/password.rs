//! Password hashing with Argon2id (the `argon2` crate's defaults: m=19456 KiB, t=2, p=1).
//!
//! Hashing is deliberately slow, so it runs on the blocking pool and never on the async
//! runtime; a semaphore lets at most one hash run per core but one, so that a flood of
//! logins cannot starve every other request of CPU.

use std::sync::Arc;

use anyhow::Context;
use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tokio::sync::Semaphore;

/// A hash to verify against when the user does not exist, so that an unknown user and a
/// wrong password take the same time (auth rule 20). A constant, with the same parameters
/// as every stored hash: computed lazily, it made the first unknown-user login of each
/// process cost two hashes instead of one. No password matches it (random salt and output).
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$xVgo/vEOP9t3Hbc0Q9USHA$PcK7ARPunvsxQLd0dRlSv3D3OnzFSHSlb9qOe6Q9EWM";

/// Runs hashes off the async runtime, a bounded number at a time.
#[derive(Clone, Debug)]
pub struct Hasher {
    permits: Arc<Semaphore>,
}

impl Default for Hasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            permits: Arc::new(Semaphore::new(cores.saturating_sub(1).max(1))),
        }
    }
}

impl Hasher {
    /// Hashes a new password.
    pub async fn hash(&self, password: &str) -> anyhow::Result<String> {
        let password = password.to_owned();
        self.run(move || hash_now(&password)).await
    }

    /// Checks a password against a stored hash, or against the dummy hash when there is
    /// none (unknown user, or an OAuth-only account): the answer is then always false.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> anyhow::Result<bool> {
        let password = password.to_owned();
        let stored = stored.map(str::to_owned);
        self.run(move || {
            let (hash, real) = match &stored {
                Some(h) => (h.as_str(), true),
                None => (DUMMY_HASH, false),
            };
            let parsed = PasswordHash::new(hash).context("stored password hash is malformed")?;
            let ok = Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            Ok(ok && real)
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = self.permits.acquire().await.context("hasher closed")?;
        tokio::task::spawn_blocking(f)
            .await
            .context("password hashing task failed")?
    }
}

fn hash_now(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_its_own_hashes_with_argon2id_defaults() {
        let hasher = Hasher::default();
        let hash = hasher.hash("correct horse").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(hasher.verify("correct horse", Some(&hash)).await.unwrap());
        assert!(!hasher.verify("wrong horse", Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn the_dummy_hash_costs_what_a_real_one_costs() {
        let hash = Hasher::default().hash("correct horse").await.unwrap();
        let params = |h: &str| h.rsplitn(3, '$').nth(2).unwrap().to_owned();
        assert_eq!(params(DUMMY_HASH), params(&hash));
        let dummy = PasswordHash::new(DUMMY_HASH).unwrap();
        let real = PasswordHash::new(&hash).unwrap();
        assert_eq!(dummy.hash.unwrap().len(), real.hash.unwrap().len());
    }

    #[tokio::test]
    async fn unknown_users_never_verify() {
        let hasher = Hasher::default();
        assert!(
            !hasher
                .verify("dummy password for timing equality", None)
                .await
                .unwrap()
        );
    }
}
