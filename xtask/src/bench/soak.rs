//! `cargo xtask soak --minutes N`: a mixed workload at 16 connections against the release
//! server, on SQLite and on PostgreSQL: register, log in, post, read the feed and explore,
//! follow and unfollow, refresh with rotation, log out, ask for password resets.
//!
//! It reports per kind of request the rate, p50 and p99; every status the workload did not
//! expect; refresh chains that broke (a rotated token the server no longer honours); and
//! the server's memory every 30 s, resident and private (the resident rest is the files it
//! maps: SQLite's database, which grows as the workload writes). The goal for a 10-minute
//! run on an idle machine: no unexpected status, no broken chain, private memory after the
//! first minute growing by less than 10 %, and the last minute's p99 within 20 % of the
//! first minute's.

use crate::pg;
use crate::proc::{self, Ctx};
use crate::robust::{self, Server, Session, agent, login, refresh_cookie, register};
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub const CONNECTIONS: usize = 16;
const MEMORY_EVERY: Duration = Duration::from_secs(30);

pub struct Options {
    pub minutes: f64,
    pub databases: Vec<String>,
}

/// What a run found; `ok()` when nothing unexpected happened.
pub struct Outcome {
    pub unexpected: u64,
    pub broken_chains: u64,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.unexpected == 0 && self.broken_chains == 0
    }
}

pub fn run(ctx: &Ctx, opts: &Options) -> Result<bool> {
    let mut all_ok = true;
    for db in &opts.databases {
        let dir = proc::temp_dir("microblog-soak")?;
        let outcome = match db.as_str() {
            "sqlite" => soak(ctx, &robust::sqlite_url(&dir), &dir, "SQLite", opts.minutes),
            "postgres" => {
                let cluster = pg::Cluster::start(ctx)?;
                let outcome = soak(ctx, &cluster.url(), &dir, "PostgreSQL", opts.minutes);
                drop(cluster);
                outcome
            }
            other => bail!("unknown database `{other}`: sqlite or postgres"),
        };
        let _ = std::fs::remove_dir_all(&dir);
        all_ok &= outcome?.ok();
    }
    Ok(all_ok)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Register,
    Login,
    Post,
    Feed,
    Explore,
    Follow,
    Refresh,
    Logout,
    Reset,
}

impl Kind {
    /// The report's name of a kind. A logout is timed with the login that gives the
    /// worker a session again, so its row says both (and waits for Argon2 like a login).
    fn label(self) -> &'static str {
        match self {
            Kind::Register => "register",
            Kind::Login => "login",
            Kind::Post => "post",
            Kind::Feed => "feed",
            Kind::Explore => "explore",
            Kind::Follow => "follow",
            Kind::Refresh => "refresh",
            Kind::Logout => "logout+login",
            Kind::Reset => "reset",
        }
    }
}

/// How often each kind comes up, out of 100.
const MIX: &[(Kind, u32)] = &[
    (Kind::Feed, 30),
    (Kind::Explore, 18),
    (Kind::Post, 14),
    (Kind::Follow, 12),
    (Kind::Refresh, 14),
    (Kind::Login, 3),
    (Kind::Logout, 3),
    (Kind::Register, 3),
    (Kind::Reset, 3),
];

#[derive(Default)]
struct Stats {
    /// (seconds since start, latency in µs) per kind.
    samples: BTreeMap<Kind, Vec<(u32, u32)>>,
    unexpected: BTreeMap<String, u64>,
    broken_chains: u64,
}

/// A worker's state: its account, its session, whom it follows.
struct Worker {
    id: usize,
    name: String,
    session: Session,
    peers: Vec<i64>,
    following: Vec<bool>,
    rng: u64,
    registered: u64,
}

impl Worker {
    fn next(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    fn pick(&mut self) -> Kind {
        let total: u32 = MIX.iter().map(|(_, w)| w).sum();
        let mut roll = (self.next() % u64::from(total)) as u32;
        for (kind, weight) in MIX {
            if roll < *weight {
                return *kind;
            }
            roll -= weight;
        }
        Kind::Feed
    }
}

fn soak(ctx: &Ctx, url: &str, dir: &std::path::Path, label: &str, minutes: f64) -> Result<Outcome> {
    let server = Server::start(
        ctx,
        url,
        dir,
        &[
            ("THROTTLE_RESET_EMAIL", "1000000/900"),
            ("THROTTLE_REAUTH", "1000000/900"),
        ],
    )?;
    let base = server.base.clone();
    let setup = agent();
    println!("soak: {label}: {CONNECTIONS} connections for {minutes} min against {base}");
    // Every worker has an account, and some posts to read from the start.
    let mut ids = Vec::new();
    for w in 0..CONNECTIONS {
        ids.push(register(&setup, &base, &format!("soaker{w}"))?);
    }
    let mut workers = Vec::new();
    for w in 0..CONNECTIONS {
        let name = format!("soaker{w}");
        let session = login(&setup, &base, &name)?;
        for i in 0..20 {
            let resp = setup
                .post(format!("{base}/api/posts"))
                .header("Authorization", format!("Bearer {}", session.access))
                .send_json(wire::PostText {
                    text: format!("{name} says hello, {i}"),
                })?;
            if resp.status().as_u16() != 201 {
                bail!("seeding posts: {}", resp.status());
            }
        }
        let peers: Vec<i64> = ids.iter().copied().filter(|&id| id != ids[w]).collect();
        workers.push(Worker {
            id: w,
            following: vec![false; peers.len()],
            peers,
            name,
            session,
            rng: 0x9e37_79b9_7f4a_7c15 ^ (w as u64 + 1).wrapping_mul(0x2545_f491_4f6c_dd1d),
            registered: 0,
        });
    }

    let pid = server.pid().context("no server")?;
    let stats = Mutex::new(Stats::default());
    let memory = Mutex::new(Vec::<Memory>::new());
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    let duration = Duration::from_secs_f64(minutes * 60.0);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut next = Duration::ZERO;
            while !stop.load(Ordering::Relaxed) {
                if start.elapsed() >= next {
                    if let Some(sample) = Memory::of(pid, start) {
                        memory.lock().unwrap().push(sample);
                    }
                    next += MEMORY_EVERY;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            if let Some(sample) = Memory::of(pid, start) {
                memory.lock().unwrap().push(sample);
            }
        });
        let handles: Vec<_> = workers
            .into_iter()
            .map(|mut worker| {
                let (base, stats) = (&base, &stats);
                s.spawn(move || {
                    let agent = agent();
                    let mut local = Stats::default();
                    while start.elapsed() < duration {
                        let kind = worker.pick();
                        let began = Instant::now();
                        let result = step(&agent, base, &mut worker, kind, &mut local);
                        let micros = u32::try_from(began.elapsed().as_micros()).unwrap_or(u32::MAX);
                        let at = u32::try_from(start.elapsed().as_secs()).unwrap_or(u32::MAX);
                        local.samples.entry(kind).or_default().push((at, micros));
                        if let Err(e) = result {
                            *local
                                .unexpected
                                .entry(format!("{kind:?}: {e:#}"))
                                .or_default() += 1;
                        }
                    }
                    let mut shared = stats.lock().unwrap();
                    for (k, v) in local.samples {
                        shared.samples.entry(k).or_default().extend(v);
                    }
                    for (k, v) in local.unexpected {
                        *shared.unexpected.entry(k).or_default() += v;
                    }
                    shared.broken_chains += local.broken_chains;
                })
            })
            .collect();
        for h in handles {
            let _ = h.join();
        }
        stop.store(true, Ordering::Relaxed);
    });
    let elapsed = start.elapsed().as_secs_f64();
    drop(server);
    let stats = stats.into_inner().unwrap();
    let memory = memory.into_inner().unwrap();
    Ok(report(label, elapsed, &stats, &memory))
}

/// One request of `kind`; an error names a status the workload did not expect.
fn step(
    agent: &ureq::Agent,
    base: &str,
    w: &mut Worker,
    kind: Kind,
    stats: &mut Stats,
) -> Result<()> {
    let bearer = format!("Bearer {}", w.session.access);
    let expect = |resp: &ureq::http::Response<ureq::Body>, want: u16| -> Result<()> {
        let got = resp.status().as_u16();
        if got != want {
            bail!("status {got}, expected {want}");
        }
        Ok(())
    };
    match kind {
        Kind::Feed | Kind::Explore => {
            let path = if kind == Kind::Feed { "feed" } else { "posts" };
            let mut resp = agent
                .get(format!("{base}/api/{path}"))
                .header("Authorization", &bearer)
                .call()?;
            expect(&resp, 200)?;
            resp.body_mut().read_to_vec()?;
        }
        Kind::Post => {
            let n = w.next() % 1_000_000;
            let mut resp = agent
                .post(format!("{base}/api/posts"))
                .header("Authorization", &bearer)
                .send_json(wire::PostText {
                    text: format!("{} writes note {n}", w.name),
                })?;
            expect(&resp, 201)?;
            resp.body_mut().read_to_vec()?;
        }
        Kind::Follow => {
            let i = (w.next() % w.peers.len() as u64) as usize;
            let url = format!("{base}/api/me/following/{}", w.peers[i]);
            let resp = if w.following[i] {
                agent.delete(url).header("Authorization", &bearer).call()?
            } else {
                agent
                    .post(url)
                    .header("Authorization", &bearer)
                    .send_empty()?
            };
            expect(&resp, 204)?;
            w.following[i] = !w.following[i];
        }
        Kind::Refresh => {
            let mut resp = agent
                .put(format!("{base}/api/tokens"))
                .header("Cookie", format!("refresh_token={}", w.session.refresh))
                .header("Content-Type", "application/json")
                .send("{}")?;
            if resp.status().as_u16() == 401 {
                stats.broken_chains += 1;
                w.session = login(agent, base, &w.name)?;
                bail!("a refresh token the server had just issued was refused");
            }
            expect(&resp, 200)?;
            let cookie = refresh_cookie(&resp).context("a refresh without a cookie")?;
            let token: wire::Token = resp.body_mut().read_json()?;
            w.session = Session {
                access: token.access_token,
                refresh: cookie,
            };
        }
        Kind::Login => {
            w.session = login(agent, base, &w.name)?;
        }
        Kind::Logout => {
            let resp = agent
                .delete(format!("{base}/api/tokens"))
                .header("Authorization", &bearer)
                .header("Content-Type", "application/json")
                .call()?;
            expect(&resp, 204)?;
            w.session = login(agent, base, &w.name)?;
        }
        Kind::Register => {
            w.registered += 1;
            let name = format!("soaker{}x{}", w.id, w.registered);
            register(agent, base, &name)?;
        }
        Kind::Reset => {
            let resp =
                agent
                    .post(format!("{base}/api/tokens/reset"))
                    .send_json(wire::ResetRequest {
                        email: format!("{}@example.com", w.name),
                    })?;
            expect(&resp, 204)?;
        }
    }
    Ok(())
}

/// One sample of the server's memory.
struct Memory {
    /// Seconds since the start.
    at: u64,
    /// Resident, KiB (`VmRSS`).
    rss: u64,
    /// Of which private, KiB (`RssAnon`): what a leak would grow. The rest is files the
    /// server maps, SQLite's database among them, and grows with the database.
    private: u64,
}

impl Memory {
    fn of(pid: u32, start: Instant) -> Option<Self> {
        Some(Self {
            at: start.elapsed().as_secs(),
            rss: robust::rss_kib(pid)?,
            private: robust::private_kib(pid)?,
        })
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

fn report(label: &str, elapsed: f64, stats: &Stats, memory: &[Memory]) -> Outcome {
    println!(
        "\nsoak: {label}, {:.1} min, {CONNECTIONS} connections",
        elapsed / 60.0
    );
    // The first and the last minute (or the first and last fifth of a shorter run).
    let window = (elapsed / 5.0).min(60.0);
    let p99_between = |samples: &[(u32, u32)], from: f64, to: f64| {
        let mut lat: Vec<u32> = samples
            .iter()
            .filter(|(at, _)| f64::from(*at) >= from && f64::from(*at) < to)
            .map(|(_, l)| *l)
            .collect();
        lat.sort_unstable();
        percentile(&lat, 0.99)
    };
    println!(
        "  {:12} {:>9} {:>9} {:>9} {:>9} {:>11} {:>11}",
        "kind", "requests", "req/s", "p50 ms", "p99 ms", "p99 first", "p99 last"
    );
    let mut all: Vec<(u32, u32)> = Vec::new();
    for (kind, samples) in &stats.samples {
        let mut lat: Vec<u32> = samples.iter().map(|(_, l)| *l).collect();
        lat.sort_unstable();
        println!(
            "  {:12} {:>9} {:>9.1} {:>9.2} {:>9.2} {:>11.2} {:>11.2}",
            kind.label(),
            lat.len(),
            lat.len() as f64 / elapsed,
            percentile(&lat, 0.5),
            percentile(&lat, 0.99),
            p99_between(samples, 0.0, window),
            p99_between(samples, elapsed - window, elapsed + 1.0),
        );
        all.extend(samples);
    }
    let total = all.len();
    println!(
        "  {:12} {:>9} {:>9.1}",
        "all",
        total,
        total as f64 / elapsed
    );
    let first = p99_between(&all, 0.0, window);
    let last = p99_between(&all, elapsed - window, elapsed + 1.0);
    println!(
        "  p99 of all requests: first {window:.0} s {first:.2} ms, last {window:.0} s {last:.2} ms ({:+.0} %)",
        (last / first - 1.0) * 100.0
    );
    // Every window in turn: a trend shows as one, noise as noise.
    let windows = (elapsed / window).floor() as u32;
    let series: Vec<String> = (0..windows)
        .map(|i| {
            let from = f64::from(i) * window;
            format!("{:.0}", p99_between(&all, from, from + window))
        })
        .collect();
    println!(
        "  p99 of all requests, each {window:.0} s (ms): {}",
        series.join(" ")
    );
    println!("  server memory (KiB): resident, of which private (heap, stacks) and mapped files");
    for m in memory {
        println!(
            "    {:>5} s {:>8} {:>8} {:>8}",
            m.at,
            m.rss,
            m.private,
            m.rss.saturating_sub(m.private)
        );
    }
    if let (Some(warm), Some(end)) = (
        memory.iter().find(|m| m.at >= 60).or(memory.first()),
        memory.last(),
    ) {
        let growth = |a: u64, b: u64| (b as f64 / a as f64 - 1.0) * 100.0;
        println!(
            "  memory after warm-up, {} s -> {} s: private {} -> {} KiB ({:+.1} %), \
             resident {} -> {} KiB ({:+.1} %)",
            warm.at,
            end.at,
            warm.private,
            end.private,
            growth(warm.private, end.private),
            warm.rss,
            end.rss,
            growth(warm.rss, end.rss)
        );
    }
    let unexpected: u64 = stats.unexpected.values().sum();
    println!("  unexpected answers: {unexpected}");
    for (what, n) in &stats.unexpected {
        println!("    {n} × {what}");
    }
    println!("  broken refresh chains: {}", stats.broken_chains);
    Outcome {
        unexpected,
        broken_chains: stats.broken_chains,
    }
}
