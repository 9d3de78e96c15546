//! The benchmark's database: users, a follow graph and posts, written through the server's
//! own API from a deterministic plan.

use super::{PASSWORD, agent, expect_status, login, start_server};
use crate::proc::{self, Ctx};
use anyhow::Result;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

pub(super) const USERS: usize = 1_000;
pub(super) const POSTS: usize = 50_000;
/// Mean follows per user is about 25; the bench user follows at least this many.
const BENCH_USER_FOLLOWS: usize = 60;
/// Concurrent HTTP clients while seeding (the server serialises password hashing anyway).
const SEED_CLIENTS: usize = 4;

/// A small deterministic PRNG (SplitMix64): the same database on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// Picks indices with probabilities proportional to Zipf-like weights over a random
/// ranking: a few users are very popular (or prolific), most are not.
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(rng: &mut Rng, n: usize, exponent: f64) -> Zipf {
        let mut ranks: Vec<usize> = (0..n).collect();
        rng.shuffle(&mut ranks);
        let mut total = 0.0;
        let cumulative = ranks
            .iter()
            .map(|rank| {
                total += 1.0 / ((rank + 1) as f64).powf(exponent);
                total
            })
            .collect();
        Zipf { cumulative }
    }

    fn pick(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.unit() * total;
        self.cumulative
            .partition_point(|c| *c <= x)
            .min(self.cumulative.len() - 1)
    }

    /// The most likely index.
    fn top(&self, k: usize) -> Vec<usize> {
        let mut weights: Vec<(f64, usize)> = self
            .cumulative
            .iter()
            .enumerate()
            .map(|(i, c)| (c - if i == 0 { 0.0 } else { self.cumulative[i - 1] }, i))
            .collect();
        weights.sort_by(|a, b| b.0.total_cmp(&a.0));
        weights.into_iter().take(k).map(|(_, i)| i).collect()
    }
}

struct Plan {
    follows: Vec<(usize, usize)>,
    /// (author, text), in the order they are posted.
    posts: Vec<(usize, String)>,
}

const WORDS: &[&str] = &[
    "rust", "coffee", "morning", "deploy", "weekend", "garden", "release", "river", "music",
    "book", "train", "bread", "compiler", "bug", "friday", "sunset", "walk", "review", "cat",
    "tea", "rain", "build", "today", "finally", "again", "tiny", "great", "quiet", "long", "new",
    "old", "server", "browser", "test", "idea", "city", "lunch", "snow", "code", "fix",
];

fn plan() -> Plan {
    let mut rng = Rng(0x6d69_6372_6f62_6c6f);
    // Follows: out-degree log-normal (median 15, mean about 25, a few follow hundreds),
    // targets by popularity.
    let popularity = Zipf::new(&mut rng, USERS, 0.9);
    let mut follows = Vec::new();
    for user in 0..USERS {
        let wanted = (15.0 * (rng.normal()).exp()).round().clamp(1.0, 300.0) as usize;
        let wanted = if user == 0 {
            wanted.max(BENCH_USER_FOLLOWS)
        } else {
            wanted
        };
        let mut chosen = std::collections::BTreeSet::new();
        if user == 0 {
            // The bench user follows the most popular accounts, as real people do.
            chosen.extend(
                popularity
                    .top(BENCH_USER_FOLLOWS / 2)
                    .into_iter()
                    .filter(|&t| t != 0),
            );
        }
        let mut tries = 0;
        while chosen.len() < wanted && tries < wanted * 20 {
            let target = popularity.pick(&mut rng);
            if target != user {
                chosen.insert(target);
            }
            tries += 1;
        }
        follows.extend(chosen.into_iter().map(|t| (user, t)));
    }
    rng.shuffle(&mut follows);
    // Posts: prolific and quiet authors; 3 to 40 words each (at most 280 characters).
    let activity = Zipf::new(&mut rng, USERS, 0.8);
    let posts = (0..POSTS)
        .map(|_| {
            let author = activity.pick(&mut rng);
            let words = 3 + rng.below(38);
            let mut text = String::new();
            for _ in 0..words {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(WORDS[rng.below(WORDS.len())]);
            }
            text.truncate(280);
            (author, text)
        })
        .collect();
    Plan { follows, posts }
}

pub(super) fn username(i: usize) -> String {
    format!("bench{i:04}")
}

fn parallel<T: Send>(
    what: &str,
    n: usize,
    clients: usize,
    f: impl Fn(&ureq::Agent, usize) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..n).map(|_| None).collect());
    let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..clients {
            s.spawn(|| {
                let agent = agent();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n || failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                        break;
                    }
                    match f(&agent, i) {
                        Ok(value) => {
                            if let Ok(mut r) = results.lock() {
                                r[i] = Some(value);
                            }
                            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                            if d.is_multiple_of((n / 5).max(1)) {
                                println!("bench: {what}: {d}/{n}");
                            }
                        }
                        Err(e) => {
                            if let Ok(mut f) = failure.lock() {
                                f.get_or_insert(e.context(format!("{what} #{i}")));
                            }
                            break;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    println!(
        "bench: {what}: {n} in {}",
        proc::fmt_duration(started.elapsed())
    );
    let results = results
        .into_inner()
        .map_err(|_| anyhow::anyhow!("poisoned"))?;
    Ok(results
        .into_iter()
        .map(|r| r.expect("every index ran"))
        .collect())
}

pub(super) fn seed(ctx: &Ctx, bin: &Path, db: &Path) -> Result<()> {
    std::fs::File::create(db)?;
    println!(
        "bench: seeding {USERS} users, {POSTS} posts and a follow graph through the API \
         (password hashing makes the first part slow; the result is cached)"
    );
    let plan = plan();
    let (server, base) = start_server(ctx, bin, db)?;
    let base = base.as_str();

    let ids = parallel("register users", USERS, SEED_CLIENTS, |agent, i| {
        let user = wire::NewUser {
            username: username(i),
            email: format!("{}@example.com", username(i)),
            password: PASSWORD.to_owned(),
            about_me: Some(format!("Benchmark account number {i}.")),
        };
        let mut resp = agent.post(format!("{base}/api/users")).send_json(&user)?;
        expect_status(&resp, 201, "POST /api/users")?;
        Ok(resp.body_mut().read_json::<wire::User>()?.id)
    })?;
    let tokens = parallel("log in", USERS, SEED_CLIENTS, |agent, i| {
        Ok(login(agent, base, &username(i))?.0)
    })?;
    parallel("follow", plan.follows.len(), SEED_CLIENTS, |agent, i| {
        let (follower, followee) = plan.follows[i];
        let resp = agent
            .post(format!("{base}/api/me/following/{}", ids[followee]))
            .header("Authorization", format!("Bearer {}", tokens[follower]))
            .send_empty()?;
        expect_status(&resp, 204, "POST /api/me/following/{id}")
    })?;
    parallel("post", plan.posts.len(), SEED_CLIENTS, |agent, i| {
        let (author, text) = &plan.posts[i];
        let resp = agent
            .post(format!("{base}/api/posts"))
            .header("Authorization", format!("Bearer {}", tokens[*author]))
            .send_json(wire::PostText { text: text.clone() })?;
        expect_status(&resp, 201, "POST /api/posts")
    })?;
    drop(server); // SIGTERM: a graceful stop checkpoints the database
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_plan_is_deterministic_and_realistic() {
        let a = plan();
        let b = plan();
        assert_eq!(a.follows, b.follows);
        assert_eq!(a.posts.len(), POSTS);
        assert!(a.posts.iter().all(|(_, t)| !t.is_empty() && t.len() <= 280));
        let mean = a.follows.len() as f64 / USERS as f64;
        assert!((10.0..60.0).contains(&mean), "mean follows {mean}");
        let bench_user = a.follows.iter().filter(|(f, _)| *f == 0).count();
        assert!(bench_user >= BENCH_USER_FOLLOWS);
        assert!(a.follows.iter().all(|(f, t)| f != t));
        // Popularity is skewed: the most followed user has far more followers than average.
        let mut followers = vec![0usize; USERS];
        for (_, t) in &a.follows {
            followers[*t] += 1;
        }
        let max = *followers.iter().max().unwrap();
        assert!(max as f64 > 5.0 * mean, "max followers {max}, mean {mean}");
    }
}
