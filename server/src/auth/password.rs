//! Password hashing with Argon2id (the `argon2` crate's defaults: m=19456 KiB, t=2, p=1).
//!
//! Hashing is deliberately slow, so it runs on the blocking pool and never on the async
//! runtime; a semaphore lets at most one hash run per core but one, so that a flood of
//! logins cannot starve every other request of CPU. The queue in front of it is bounded:
//! past [`QUEUE_DEPTH`] waiting hashes, a request is turned away at once (503 with
//! `Retry-After`) instead of queueing behind thousands of others, each of which would
//! have made every later login wait longer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// Hashes that may wait for a permit. At about 50 ms a hash on one core, the last of them
/// waits under two seconds.
pub const QUEUE_DEPTH: usize = 32;

/// A hash to verify against when the user does not exist, so that an unknown user and a
/// wrong password take the same time (docs/security.md, "Passwords"). A constant, with the
/// same parameters as every stored hash: computed lazily, it made the first unknown-user
/// login of each process cost two hashes instead of one. No password matches it (random
/// salt and output).
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$xVgo/vEOP9t3Hbc0Q9USHA$PcK7ARPunvsxQLd0dRlSv3D3OnzFSHSlb9qOe6Q9EWM";

/// Runs hashes off the async runtime, a bounded number at a time, with a bounded queue.
#[derive(Clone, Debug)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    queued: Arc<AtomicUsize>,
    queue_depth: usize,
}

impl Default for Hasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new(cores.saturating_sub(1).max(1), QUEUE_DEPTH)
    }
}

impl Hasher {
    /// `parallel` hashes at a time, and at most `queue_depth` waiting for their turn.
    pub fn new(parallel: usize, queue_depth: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(parallel.max(1))),
            queued: Arc::new(AtomicUsize::new(0)),
            queue_depth,
        }
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: &str) -> Result<String, ApiError> {
        let password = password.to_owned();
        self.run(move || hash_now(&password)).await
    }

    /// Checks a password against a stored hash, or against the dummy hash when there is
    /// none (unknown user, or an OAuth-only account): the answer is then always false.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, ApiError> {
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
    ) -> Result<T, ApiError> {
        let _permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                let _place = QueuePlace::take(&self.queued, self.queue_depth).ok_or(
                    ApiError::Unavailable {
                        retry_after_secs: 1,
                    },
                )?;
                self.permits
                    .clone()
                    .acquire_owned()
                    .await
                    .context("hasher closed")?
            }
        };
        Ok(tokio::task::spawn_blocking(f)
            .await
            .context("password hashing task failed")??)
    }
}

/// A place in the queue for a permit, given back when dropped (the permit came, or the
/// request was cancelled while waiting).
struct QueuePlace<'a>(&'a AtomicUsize);

impl<'a> QueuePlace<'a> {
    fn take(queued: &'a AtomicUsize, depth: usize) -> Option<Self> {
        queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < depth).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(queued))
    }
}

impl Drop for QueuePlace<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_turns_requests_away_at_once() {
        let hasher = Hasher::new(1, 2);
        let hash = hasher.hash("correct horse").await.unwrap();
        // The one permit is busy: the next two requests wait, the third is turned away.
        let busy = hasher.permits.clone().try_acquire_owned().unwrap();
        let waiting: Vec<_> = (0..2)
            .map(|_| {
                let (hasher, hash) = (hasher.clone(), hash.clone());
                tokio::spawn(async move { hasher.verify("wrong horse", Some(&hash)).await })
            })
            .collect();
        while hasher.queued.load(Ordering::Acquire) < 2 {
            tokio::task::yield_now().await;
        }
        match hasher.verify("wrong horse", Some(&hash)).await {
            Err(ApiError::Unavailable { retry_after_secs }) => assert_eq!(retry_after_secs, 1),
            other => panic!("expected to be turned away, got {other:?}"),
        }
        drop(busy);
        for w in waiting {
            assert!(matches!(w.await.unwrap(), Ok(false)));
        }
        assert_eq!(hasher.queued.load(Ordering::Acquire), 0);
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
