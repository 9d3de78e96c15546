//! The `crash` stage: the release server killed with SIGKILL at a random moment of
//! concurrent writes (posts, follows, refresh rotations), on SQLite (WAL) and PostgreSQL,
//! then started again: every write whose 2xx answer a client received is there, nothing
//! else but the one request each client had in flight, and every acknowledged refresh
//! token still works. Then SIGTERM with requests inside their handlers: each finishes
//! with its answer, new connections are refused, and the process exits cleanly.

use super::http::{self, RawResponse};
use super::{Server, Session, agent, login, refresh_cookie, register, sqlite_url};
use crate::pg;
use crate::proc::{self, Counts, Ctx};
use anyhow::{Context, Result, bail, ensure};
use std::collections::HashSet;
use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const WRITERS: usize = 8;

pub fn run(ctx: &Ctx) -> Result<Counts> {
    let mut checks = super::Checks::default();
    checks.run("kill -9 during writes, SQLite (WAL)", || {
        let dir = proc::temp_dir("microblog-crash-sqlite")?;
        let result = kill_during_writes(ctx, &sqlite_url(&dir), &dir, true);
        let _ = std::fs::remove_dir_all(&dir);
        result
    });
    checks.run("kill -9 during writes, PostgreSQL", || {
        let cluster = pg::Cluster::start(ctx)?;
        let dir = proc::temp_dir("microblog-crash-pg")?;
        let result = kill_during_writes(ctx, &cluster.url(), &dir, false);
        let _ = std::fs::remove_dir_all(&dir);
        drop(cluster);
        result
    });
    checks.run("SIGTERM with requests in flight", || {
        let dir = proc::temp_dir("microblog-sigterm")?;
        let result = sigterm_in_flight(ctx, &dir);
        let _ = std::fs::remove_dir_all(&dir);
        result
    });
    checks.finish()
}

/// What one writer knows at the end: what the server acknowledged, and the one request
/// it had sent when the server died (its outcome is unknown).
#[derive(Debug, Default)]
struct WriterLog {
    posts: Vec<(i64, String)>,
    /// Whether the writer follows its neighbour, as last acknowledged.
    follows: bool,
    session: Option<Session>,
    in_flight: Option<Op>,
    /// Statuses no write should get, and transport errors before the kill.
    unexpected: Vec<String>,
}

#[derive(Debug, Clone)]
enum Op {
    Post(String),
    Follow(bool),
    Refresh,
}

/// A seed for the moment of the kill, printed so a failure can be replayed by reading it.
fn random_below(n: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut x = (u64::from(nanos) ^ (u64::from(std::process::id()) << 32)) | 1;
    // xorshift64*
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    x.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
}

fn kill_during_writes(ctx: &Ctx, url: &str, dir: &std::path::Path, sqlite: bool) -> Result<()> {
    // A rotation in flight at the kill may have committed: its predecessor (the token the
    // client holds) must still work after the restart, however long the restart takes.
    let mut server = Server::start(ctx, url, dir, &[("REFRESH_GRACE_SECS", "3600")])?;
    let base = server.base.clone();
    let setup = agent();
    let names: Vec<String> = (0..WRITERS).map(|i| format!("writer{i}")).collect();
    let ids = names
        .iter()
        .map(|n| register(&setup, &base, n))
        .collect::<Result<Vec<i64>>>()?;
    let sessions = names
        .iter()
        .map(|n| login(&setup, &base, n))
        .collect::<Result<Vec<Session>>>()?;

    let target = 60 + random_below(340);
    println!("    killing after {target} acknowledged writes");
    let acked = AtomicU64::new(0);
    let killed = AtomicBool::new(false);
    let logs: Vec<WriterLog> = std::thread::scope(|s| -> Result<Vec<WriterLog>> {
        let handles: Vec<_> = (0..WRITERS)
            .map(|w| {
                let session = sessions[w].clone();
                let neighbour = ids[(w + 1) % WRITERS];
                let (base, acked, killed) = (&base, &acked, &killed);
                s.spawn(move || writer(w, base, session, neighbour, acked, killed))
            })
            .collect();
        while acked.load(Ordering::SeqCst) < target {
            if handles.iter().all(|h| h.is_finished()) {
                break;
            }
            std::thread::yield_now();
        }
        killed.store(true, Ordering::SeqCst);
        let status = server.signal_and_wait("KILL")?;
        println!(
            "    SIGKILL after {} acknowledged writes ({status})",
            acked.load(Ordering::SeqCst)
        );
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| anyhow::anyhow!("a writer panicked")))
            .collect()
    })?;
    ensure!(
        acked.load(Ordering::SeqCst) >= target,
        "the writers stopped before the kill: {:?}",
        logs.iter().flat_map(|l| &l.unexpected).collect::<Vec<_>>()
    );
    for (w, log) in logs.iter().enumerate() {
        ensure!(
            log.unexpected.is_empty(),
            "writer {w}: {}",
            log.unexpected.join("; ")
        );
    }

    server.restart(ctx)?;
    let agent = agent();
    let mut in_flight_seen = 0;
    for (w, log) in logs.iter().enumerate() {
        let reader = login(&agent, &base, &names[w])?;
        // Posts: every acknowledged one, with its text; nothing but the one in flight.
        let stored = all_posts(&agent, &base, &reader.access, ids[w])?;
        let stored_ids: HashSet<i64> = stored.iter().map(|(id, _)| *id).collect();
        for (id, text) in &log.posts {
            ensure!(
                stored.contains(&(*id, text.clone())),
                "writer {w}: acknowledged post {id} ({text:?}) is missing after the restart"
            );
        }
        let acked_ids: HashSet<i64> = log.posts.iter().map(|(id, _)| *id).collect();
        for (id, text) in &stored {
            if acked_ids.contains(id) {
                continue;
            }
            match &log.in_flight {
                Some(Op::Post(sent)) if sent == text => in_flight_seen += 1,
                _ => bail!("writer {w}: post {id} ({text:?}) was never acknowledged nor in flight"),
            }
        }
        ensure!(
            stored_ids.len() == stored.len(),
            "writer {w}: duplicate posts"
        );
        // Follows: as acknowledged, or as the request in flight wanted.
        let follows = following(&agent, &base, &reader.access, ids[(w + 1) % WRITERS])?;
        let allowed = match log.in_flight {
            Some(Op::Follow(wanted)) => follows == log.follows || follows == wanted,
            _ => follows == log.follows,
        };
        ensure!(
            allowed,
            "writer {w}: follows its neighbour = {follows}, acknowledged {} (in flight {:?})",
            log.follows,
            log.in_flight
        );
        // The refresh token last acknowledged still refreshes: the chain is unbroken.
        let session = log.session.as_ref().context("no session")?;
        let resp = refresh(&agent, &base, &session.refresh)?;
        ensure!(
            resp.status().as_u16() == 200,
            "writer {w}: the acknowledged refresh token answers {} after the restart",
            resp.status()
        );
    }
    println!("    every acknowledged write is there ({in_flight_seen} in-flight posts landed too)");
    if sqlite {
        integrity_check(dir)?;
    }
    Ok(())
}

fn writer(
    w: usize,
    base: &str,
    session: Session,
    neighbour: i64,
    acked: &AtomicU64,
    killed: &AtomicBool,
) -> WriterLog {
    let agent = agent();
    let mut log = WriterLog {
        session: Some(session),
        ..WriterLog::default()
    };
    for i in 0u64.. {
        let session = log.session.clone().expect("a session");
        let op = match i % 3 {
            0 => Op::Post(format!("writer {w}, post {i}")),
            1 => Op::Follow(!log.follows),
            _ => Op::Refresh,
        };
        log.in_flight = Some(op.clone());
        let bearer = format!("Bearer {}", session.access);
        let result = match &op {
            Op::Post(text) => agent
                .post(format!("{base}/api/posts"))
                .header("Authorization", &bearer)
                .send_json(wire::PostText { text: text.clone() }),
            Op::Follow(true) => agent
                .post(format!("{base}/api/me/following/{neighbour}"))
                .header("Authorization", &bearer)
                .send_empty(),
            Op::Follow(false) => agent
                .delete(format!("{base}/api/me/following/{neighbour}"))
                .header("Authorization", &bearer)
                .call(),
            Op::Refresh => refresh(&agent, base, &session.refresh),
        };
        let mut resp = match result {
            Ok(resp) => resp,
            Err(e) => {
                if !killed.load(Ordering::SeqCst) {
                    log.unexpected
                        .push(format!("{op:?} failed before the kill: {e}"));
                }
                return log;
            }
        };
        let status = resp.status().as_u16();
        match (&op, status) {
            (Op::Post(text), 201) => match resp.body_mut().read_json::<wire::Post>() {
                Ok(post) => log.posts.push((post.id, text.clone())),
                Err(e) => {
                    if !killed.load(Ordering::SeqCst) {
                        log.unexpected.push(format!("reading a post: {e}"));
                    }
                    return log;
                }
            },
            (Op::Follow(wanted), 204) => log.follows = *wanted,
            (Op::Refresh, 200) => {
                let Some(cookie) = refresh_cookie(&resp) else {
                    log.unexpected.push("a refresh without a new cookie".into());
                    return log;
                };
                match resp.body_mut().read_json::<wire::Token>() {
                    Ok(token) => {
                        log.session = Some(Session {
                            access: token.access_token,
                            refresh: cookie,
                        });
                    }
                    Err(e) => {
                        if !killed.load(Ordering::SeqCst) {
                            log.unexpected.push(format!("reading a token: {e}"));
                        }
                        return log;
                    }
                }
            }
            _ => {
                log.unexpected.push(format!("{op:?} answered {status}"));
                return log;
            }
        }
        log.in_flight = None;
        acked.fetch_add(1, Ordering::SeqCst);
    }
    log
}

fn refresh(
    agent: &ureq::Agent,
    base: &str,
    cookie: &str,
) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
    agent
        .put(format!("{base}/api/tokens"))
        .header("Cookie", format!("refresh_token={cookie}"))
        .header("Content-Type", "application/json")
        .send("{}")
}

/// Every post of a user, through the API's pages.
fn all_posts(agent: &ureq::Agent, base: &str, access: &str, id: i64) -> Result<Vec<(i64, String)>> {
    let mut out = Vec::new();
    loop {
        let mut resp = agent
            .get(format!("{base}/api/users/{id}/posts?offset={}", out.len()))
            .header("Authorization", format!("Bearer {access}"))
            .call()?;
        let status = resp.status().as_u16();
        if status == 400 && !out.is_empty() {
            break; // offset past the end
        }
        ensure!(status == 200, "GET /api/users/{id}/posts answered {status}");
        let page: wire::Page<wire::Post> = resp.body_mut().read_json()?;
        out.extend(page.data.into_iter().map(|p| (p.id, p.text)));
        if i64::try_from(out.len())? >= page.pagination.total || page.pagination.count == 0 {
            break;
        }
    }
    Ok(out)
}

fn following(agent: &ureq::Agent, base: &str, access: &str, id: i64) -> Result<bool> {
    let resp = agent
        .get(format!("{base}/api/me/following/{id}"))
        .header("Authorization", format!("Bearer {access}"))
        .call()?;
    match resp.status().as_u16() {
        204 => Ok(true),
        404 => Ok(false),
        other => bail!("GET /api/me/following/{id} answered {other}"),
    }
}

/// `PRAGMA integrity_check` with the sqlite3 command-line tool, when it is installed.
fn integrity_check(dir: &std::path::Path) -> Result<()> {
    let db = dir.join("microblog.db");
    let out = match std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("PRAGMA integrity_check;")
        .output()
    {
        Ok(out) => out,
        Err(_) => {
            println!("    (sqlite3 is not installed: no PRAGMA integrity_check)");
            return Ok(());
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success() && text.trim() == "ok",
        "PRAGMA integrity_check: {text}"
    );
    println!("    PRAGMA integrity_check: ok");
    Ok(())
}

const IN_FLIGHT: usize = 16;

fn sigterm_in_flight(ctx: &Ctx, dir: &std::path::Path) -> Result<()> {
    let mut server = Server::start(ctx, &sqlite_url(dir), dir, &[])?;
    let base = server.base.clone();
    let addr = format!("127.0.0.1:{}", server.port);
    let agent = agent();
    let id = register(&agent, &base, "terminator")?;
    let session = login(&agent, &base, "terminator")?;
    let mut waiting = Vec::new();
    for i in 0..IN_FLIGHT {
        let mut conn = TcpStream::connect(&addr)?;
        conn.set_read_timeout(Some(Duration::from_secs(60)))?;
        // A complete exchange first: the server has accepted this connection.
        write!(conn, "GET /api/health HTTP/1.1\r\nHost: {addr}\r\n\r\n")?;
        let health = http::read_response(&mut conn)?;
        ensure!(health.status == 200, "health answered {}", health.status);
        // Then a post whose body the client holds back until the handler asks for it
        // (`100 Continue`): from then on, the request is inside the server.
        let body = format!(r#"{{"text":"in flight {i}"}}"#);
        write!(
            conn,
            "POST /api/posts HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            session.access,
            body.len()
        )?;
        let interim = http::read_response(&mut conn)?;
        ensure!(
            interim.status == 100,
            "expected 100 Continue, got {}",
            interim.status
        );
        waiting.push((conn, body));
    }
    let pid = server.pid().context("no server")?;
    proc::run(
        std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string()),
    )?;
    // New connections are refused once the server stops listening.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match TcpStream::connect(&addr) {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            Err(e) => bail!("connecting after SIGTERM: {e}"),
            Ok(_) if Instant::now() > deadline => {
                bail!("the server still accepts connections 20 s after SIGTERM")
            }
            Ok(_) => std::thread::yield_now(),
        }
    }
    // Each request in flight finishes with its answer: no reset, no lost request.
    for (i, (mut conn, body)) in waiting.into_iter().enumerate() {
        conn.write_all(body.as_bytes())
            .with_context(|| format!("request {i}: sending its body after SIGTERM"))?;
        let RawResponse { status, body, .. } = http::read_response(&mut conn)
            .with_context(|| format!("request {i}: reading its answer after SIGTERM"))?;
        ensure!(
            status == 201,
            "request {i} in flight answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let mut guard = server.guard.take().context("no server")?;
    let exit = guard.child.wait()?;
    ensure!(
        exit.success(),
        "the server exited with {exit} after SIGTERM"
    );
    println!("    {IN_FLIGHT} requests in flight finished; new connections refused; exit {exit}");
    // And what they wrote is there.
    server.restart(ctx)?;
    let reader = login(&agent, &base, "terminator")?;
    let posts = all_posts(&agent, &base, &reader.access, id)?;
    ensure!(
        posts.len() == IN_FLIGHT,
        "{} of {IN_FLIGHT} posts are there after the restart",
        posts.len()
    );
    Ok(())
}
