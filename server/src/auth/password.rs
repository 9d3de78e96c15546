//! Password hashing with Argon2id (the `argon2` crate's defaults: m=19456 KiB, t=2, p=1).
//!
//! Hashing is deliberately slow, so it runs on threads of its own and never on the async
//! runtime: one per core but one, so that a flood of logins cannot starve every other
//! request of CPU. Each thread allocates the 19 MiB one hash works in once, and reuses
//! it. (On tokio's blocking pool every hash allocated it anew on whichever thread ran it,
//! and the allocator kept a freed buffer in each of its per-thread arenas: a 10-minute
//! soak saw the server's memory grow by 19 MiB steps to 600 MB.)
//!
//! The queue in front of the threads is bounded: past [`QUEUE_DEPTH`] waiting hashes, a
//! request is turned away at once (503 with `Retry-After`) instead of queueing behind
//! thousands of others, each of which would have made every later login wait longer.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use anyhow::{Context, anyhow};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

use crate::error::ApiError;

/// Hashes that may wait for a thread. At about 50 ms a hash on one core, the last of them
/// waits under two seconds.
pub const QUEUE_DEPTH: usize = 32;

/// A hash to verify against when the user does not exist, so that an unknown user and a
/// wrong password take the same time (docs/security.md, "Passwords"). A constant, with the
/// same parameters as every stored hash: computed lazily, it made the first unknown-user
/// login of each process cost two hashes instead of one. No password matches it (random
/// salt and output).
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$xVgo/vEOP9t3Hbc0Q9USHA$PcK7ARPunvsxQLd0dRlSv3D3OnzFSHSlb9qOe6Q9EWM";

/// Work for a hashing thread, given the thread's memory.
type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// Hands hashes to the hashing threads through a bounded queue. Clones share the threads;
/// they end when the last clone is dropped.
#[derive(Clone, Debug)]
pub struct Hasher {
    jobs: SyncSender<Job>,
}

impl Default for Hasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new(cores.saturating_sub(1).max(1), QUEUE_DEPTH)
    }
}

impl Hasher {
    /// `parallel` threads hashing at a time, and at most `queue_depth` hashes waiting.
    pub fn new(parallel: usize, queue_depth: usize) -> Self {
        let (jobs, queue) = mpsc::sync_channel::<Job>(queue_depth);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..parallel.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || work(&queue))
                .expect("spawn a password hashing thread");
        }
        Self { jobs }
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: &str) -> Result<String, ApiError> {
        let password = password.to_owned();
        self.run(move |memory| hash_now(memory, &password)).await
    }

    /// Checks a password against a stored hash, or against the dummy hash when there is
    /// none (unknown user, or an OAuth-only account): the answer is then always false.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, ApiError> {
        let password = password.to_owned();
        let stored = stored.map(str::to_owned);
        self.run(move |memory| {
            let (hash, real) = match &stored {
                Some(h) => (h.as_str(), true),
                None => (DUMMY_HASH, false),
            };
            Ok(verify_now(memory, &password, hash)? && real)
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Memory) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            // The request went away while this waited (the client closed the connection):
            // no one would read the answer.
            if !answer.is_closed() {
                let _ = answer.send(f(memory));
            }
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(ApiError::Unavailable {
                    retry_after_secs: 1,
                });
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(anyhow!("the password hashing threads are gone").into());
            }
        }
        Ok(answered.await.context("password hashing failed")??)
    }
}

/// A hashing thread: takes jobs until every [`Hasher`] is gone. A job that panics loses
/// its answer (its request gets a 500), not the thread.
fn work(queue: &Mutex<Receiver<Job>>) {
    let mut memory = Memory::default();
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
    }
}

/// The memory one hash with the default parameters works in, kept by its thread.
struct Memory {
    blocks: Vec<Block>,
}

impl Default for Memory {
    fn default() -> Self {
        Self {
            blocks: vec![Block::default(); Params::default().block_count()],
        }
    }
}

impl Memory {
    /// Argon2 of `password` and `salt` into `out`, in this thread's memory when the
    /// parameters are the default ones (a hash stored with others gets memory of its own).
    fn argon2(
        &mut self,
        argon: &Argon2,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> argon2::Result<()> {
        if argon.params().block_count() == self.blocks.len() {
            argon.hash_password_into_with_memory(password, salt, out, &mut self.blocks)
        } else {
            argon.hash_password_into(password, salt, out)
        }
    }
}

fn hash_now(memory: &mut Memory, password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| anyhow!("password salt: {e}"))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    memory
        .argon2(&argon, password.as_bytes(), salt_bytes, &mut out)
        .map_err(|e| anyhow!("password hashing failed: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow!("hash parameters: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| anyhow!("hash output: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the stored PHC string `hash`, compared in constant time.
fn verify_now(memory: &mut Memory, password: &str, hash: &str) -> anyhow::Result<bool> {
    let parsed =
        PasswordHash::new(hash).map_err(|e| anyhow!("stored password hash is malformed: {e}"))?;
    let malformed = |e: &dyn std::fmt::Display| anyhow!("stored password hash is malformed: {e}");
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| malformed(&e))?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| malformed(&e))?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(|e| malformed(&e))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(anyhow!("stored password hash has no salt or no output"));
    };
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| malformed(&e))?;
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params);
    memory
        .argon2(&argon, password.as_bytes(), salt_bytes, &mut out)
        .map_err(|e| anyhow!("password hashing failed: {e}"))?;
    // `Output`'s equality is constant-time.
    Ok(Output::new(&out).map_err(|e| malformed(&e))? == expected)
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
    async fn hashes_of_the_library_and_ours_verify_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let hasher = Hasher::default();
        // Stored before our threads hashed: the library's own PHC strings.
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert!(hasher.verify("correct horse", Some(&theirs)).await.unwrap());
        assert!(!hasher.verify("wrong horse", Some(&theirs)).await.unwrap());
        let ours = hasher.hash("correct horse").await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"wrong horse", &parsed)
                .is_err()
        );
    }

    #[tokio::test]
    async fn a_hash_with_other_parameters_verifies_in_memory_of_its_own() {
        use argon2::password_hash::PasswordHasher;
        let params = Params::new(8192, 3, 1, None).unwrap();
        let salt = SaltString::generate(&mut OsRng);
        let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert!(
            other.starts_with("$argon2id$v=19$m=8192,t=3,p=1$"),
            "{other}"
        );
        let hasher = Hasher::default();
        assert!(hasher.verify("correct horse", Some(&other)).await.unwrap());
        assert!(!hasher.verify("wrong horse", Some(&other)).await.unwrap());
        // The thread's own memory still serves the default parameters afterwards.
        let ours = hasher.hash("correct horse").await.unwrap();
        assert!(hasher.verify("correct horse", Some(&ours)).await.unwrap());
    }

    #[tokio::test]
    async fn a_malformed_stored_hash_is_an_error_not_a_mismatch() {
        let hasher = Hasher::default();
        assert!(
            hasher
                .verify("correct horse", Some("$argon2id$v=19$nonsense"))
                .await
                .is_err()
        );
        assert!(
            hasher
                .verify("correct horse", Some("$bcrypt$abc"))
                .await
                .is_err()
        );
    }

    /// Polls `future` once, without waiting.
    async fn poll_once<F: Future + Unpin>(future: &mut F) -> std::task::Poll<F::Output> {
        std::future::poll_fn(|cx| std::task::Poll::Ready(std::pin::Pin::new(&mut *future).poll(cx)))
            .await
    }

    /// Keeps `hasher`'s one thread busy until the answered sender is sent to; answers once
    /// the thread has started on it. The task ends when the job does.
    async fn occupy(
        hasher: &Hasher,
    ) -> (
        tokio::task::JoinHandle<Result<(), ApiError>>,
        std::sync::mpsc::Sender<()>,
    ) {
        let (started, busy) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let blocker = tokio::spawn({
            let hasher = hasher.clone();
            async move {
                hasher
                    .run(move |_| {
                        started.send(()).unwrap();
                        released.recv().unwrap();
                        Ok(())
                    })
                    .await
            }
        });
        tokio::task::spawn_blocking(move || busy.recv().unwrap())
            .await
            .unwrap();
        (blocker, release)
    }

    #[tokio::test]
    async fn a_full_queue_turns_requests_away_at_once() {
        let hasher = Hasher::new(1, 2);
        let hash = hasher.hash("correct horse").await.unwrap();
        // The one thread is busy until `release`: the next two requests wait in the
        // queue, the third is turned away.
        let (blocker, release) = occupy(&hasher).await;
        let mut waiting: Vec<_> = (0..2)
            .map(|_| Box::pin(hasher.verify("wrong horse", Some(&hash))))
            .collect();
        for w in &mut waiting {
            assert!(
                poll_once(w).await.is_pending(),
                "a queued hash answered early"
            );
        }
        match hasher.verify("wrong horse", Some(&hash)).await {
            Err(ApiError::Unavailable { retry_after_secs }) => assert_eq!(retry_after_secs, 1),
            other => panic!("expected to be turned away, got {other:?}"),
        }
        release.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        for w in waiting {
            assert!(matches!(w.await, Ok(false)));
        }
        // The queue has room again.
        assert!(hasher.verify("correct horse", Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn a_request_that_went_away_is_not_hashed_and_a_panic_keeps_the_thread() {
        let hasher = Hasher::new(1, 4);
        let (blocker, release) = occupy(&hasher).await;
        // Queued, then abandoned by its request: the thread must skip it.
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut abandoned = Box::pin(hasher.run({
            let ran = ran.clone();
            move |_| {
                ran.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            }
        }));
        assert!(poll_once(&mut abandoned).await.is_pending());
        drop(abandoned);
        let panicking = hasher.run(|_| -> anyhow::Result<()> { panic!("a job that panics") });
        release.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        assert!(panicking.await.is_err());
        // The one thread survived the panic and took the next job after the skipped one.
        assert!(!hasher.verify("correct horse", None).await.unwrap());
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
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
