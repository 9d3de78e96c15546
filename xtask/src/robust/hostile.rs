//! The `hostile` stage: clients that try to exhaust the release server.
//!
//! - slow-loris heads (a header byte a second) and bodies sent a byte a second: everyone
//!   else keeps getting answers; the heads are cut off after the header timeout, the
//!   bodies with a JSON 408 after the request timeout;
//! - thousands of idle connections: everyone else keeps getting answers, the server's
//!   memory grows by a bounded amount per connection, and they are closed after the
//!   header timeout, like connections kept alive and left idle after an answer;
//! - request heads of 1 MiB, and heads with too many lines: refused (431) at once, without
//!   the server holding the megabyte.

use super::http::{self, RawResponse};
use super::{Server, agent, login, register, sqlite_url};
use crate::proc::{self, Counts, Ctx};
use anyhow::{Context, Result, bail, ensure};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The server's limits (server/src/serve.rs), with slack for a loaded machine.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
const SLACK: Duration = Duration::from_secs(10);
/// A bound for "everyone else keeps getting answers": far above an ordinary answer on a
/// loaded machine, far below any of the timeouts an attacker could make it wait for.
const ANSWER_WITHIN: Duration = Duration::from_secs(3);

const SLOW_HEADS: usize = 200;
const SLOW_BODIES: usize = 20;
const IDLE: usize = 4000;
/// Connections that send one request, read its answer, and then stay idle.
const KEPT_ALIVE: usize = 20;
/// What one idle connection may cost the server, at most.
const IDLE_BYTES_EACH: u64 = 64 * 1024;
const BIG_HEADS: usize = 20;

pub fn run(ctx: &Ctx) -> Result<Counts> {
    let dir = proc::temp_dir("microblog-hostile")?;
    let result = run_in(ctx, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_in(ctx: &Ctx, dir: &std::path::Path) -> Result<Counts> {
    let server = Server::start(ctx, &sqlite_url(dir), dir, &[])?;
    let addr = format!("127.0.0.1:{}", server.port);
    let agent = agent();
    register(&agent, &server.base, "bystander")?;
    let session = login(&agent, &server.base, "bystander")?;
    let others = Bystander {
        agent,
        base: server.base.clone(),
        bearer: format!("Bearer {}", session.access),
    };
    let mut checks = super::Checks::default();
    checks.run("slow-loris heads and slow bodies", || {
        slow_clients(&addr, &others, &session.access)
    });
    checks.run("thousands of idle connections", || {
        idle_connections(&server, &addr, &others)
    });
    checks.run("heads of 1 MiB and of too many lines", || {
        big_heads(&server, &addr, &others)
    });
    drop(server);
    checks.finish()
}

/// An ordinary client: it must keep getting answers, promptly.
struct Bystander {
    agent: ureq::Agent,
    base: String,
    bearer: String,
}

impl Bystander {
    fn check(&self, what: &str) -> Result<()> {
        for path in ["/api/health", "/api/feed", "/api/me"] {
            let started = Instant::now();
            let resp = self
                .agent
                .get(format!("{}{path}", self.base))
                .header("Authorization", &self.bearer)
                .call()
                .with_context(|| format!("GET {path} {what}"))?;
            let took = started.elapsed();
            ensure!(
                resp.status().as_u16() == 200,
                "GET {path} {what}: {}",
                resp.status()
            );
            ensure!(took <= ANSWER_WITHIN, "GET {path} {what} took {took:?}");
        }
        Ok(())
    }
}

/// Whether the server has closed `conn` (reads the end of the stream, or an answer
/// followed by the end).
fn closed_by_server(conn: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    let _ = conn.set_nonblocking(true);
    let closed = loop {
        match conn.read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break false,
            Err(_) => break true,
        }
    };
    let _ = conn.set_nonblocking(false);
    closed
}

fn slow_clients(addr: &str, others: &Bystander, access: &str) -> Result<()> {
    let started = Instant::now();
    let mut heads = Vec::new();
    for _ in 0..SLOW_HEADS {
        let mut conn = TcpStream::connect(addr)?;
        write!(conn, "GET /api/health HTTP/1.1\r\nHost: {addr}\r\nX-Slow: ")?;
        heads.push(Some(conn));
    }
    let body = r#"{"text":"sent one byte a second"}"#;
    let mut bodies = Vec::new();
    for _ in 0..SLOW_BODIES {
        let mut conn = TcpStream::connect(addr)?;
        write!(
            conn,
            "POST /api/posts HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {access}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )?;
        bodies.push((conn, 0usize, None::<RawResponse>));
    }
    // A byte a second on every connection, until the server has dealt with all of them.
    let mut closed_heads = 0;
    let mut answered_bodies = 0;
    while closed_heads < SLOW_HEADS || answered_bodies < SLOW_BODIES {
        ensure!(
            started.elapsed() <= REQUEST_TIMEOUT + SLACK,
            "after {:?}: {closed_heads} of {SLOW_HEADS} slow heads closed, \
             {answered_bodies} of {SLOW_BODIES} slow bodies answered",
            started.elapsed()
        );
        for slot in heads.iter_mut() {
            let Some(conn) = slot else { continue };
            if conn.write_all(b"a").is_err() || closed_by_server(conn) {
                ensure!(
                    started.elapsed() <= HEADER_TIMEOUT + SLACK,
                    "a slow head lived {:?}",
                    started.elapsed()
                );
                *slot = None;
                closed_heads += 1;
            }
        }
        for (conn, sent, answer) in bodies.iter_mut() {
            if answer.is_some() {
                continue;
            }
            if *sent < body.len() - 1 {
                let _ = conn.write_all(&body.as_bytes()[*sent..*sent + 1]);
                *sent += 1;
            }
            conn.set_read_timeout(Some(Duration::from_millis(10)))?;
            let mut peek = [0u8; 1];
            if matches!(conn.peek(&mut peek), Ok(n) if n > 0) {
                conn.set_read_timeout(Some(Duration::from_secs(10)))?;
                *answer = Some(http::read_response(conn)?);
                answered_bodies += 1;
            }
        }
        others.check("beside slow clients")?;
        std::thread::sleep(Duration::from_secs(1));
    }
    for (_, _, answer) in &bodies {
        let answer = answer.as_ref().context("no answer")?;
        ensure!(
            answer.status == 408,
            "a slow body answered {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        );
        let error: wire::ErrorBody =
            serde_json::from_slice(&answer.body).context("a 408 without the JSON error body")?;
        ensure!(error.code == 408, "408 body code {}", error.code);
    }
    println!(
        "    {SLOW_HEADS} slow heads closed and {SLOW_BODIES} slow bodies answered 408 in {:?}; \
         others answered throughout",
        started.elapsed()
    );
    Ok(())
}

fn idle_connections(server: &Server, addr: &str, others: &Bystander) -> Result<()> {
    let before = server.rss_kib().context("the server's memory")?;
    let mut idle = Vec::with_capacity(IDLE);
    for i in 0..IDLE {
        idle.push(
            TcpStream::connect(addr).with_context(|| format!("opening idle connection {i}"))?,
        );
    }
    // Connections kept alive after an answered request, then left idle: the server must
    // close those too, not only connections that never sent a byte.
    let mut kept_alive = Vec::with_capacity(KEPT_ALIVE);
    for i in 0..KEPT_ALIVE {
        let mut conn = TcpStream::connect(addr)
            .with_context(|| format!("opening kept-alive connection {i}"))?;
        conn.set_read_timeout(Some(Duration::from_secs(10)))?;
        conn.write_all(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\n\r\n")?;
        let answer = http::read_response(&mut conn)?;
        ensure!(
            answer.status == 200,
            "GET /api/health on a kept-alive connection answered {}",
            answer.status
        );
        kept_alive.push(conn);
    }
    // One answered request after them all: the server has accepted every one before it.
    others.check(&format!("beside {IDLE} idle connections"))?;
    let started = Instant::now();
    let during = server.rss_kib().context("the server's memory")?;
    let grown = during.saturating_sub(before) * 1024;
    println!(
        "    {IDLE} idle connections: server memory {before} KiB -> {during} KiB \
         ({} bytes each)",
        grown / IDLE as u64
    );
    ensure!(
        grown <= IDLE as u64 * IDLE_BYTES_EACH,
        "the server grew by {grown} bytes for {IDLE} idle connections"
    );
    // Closed by the server after the header timeout, the kept-alive ones too.
    let mut open: Vec<TcpStream> = idle;
    open.extend(kept_alive);
    while !open.is_empty() {
        ensure!(
            started.elapsed() <= HEADER_TIMEOUT + SLACK,
            "{} idle connections still open after {:?}",
            open.len(),
            started.elapsed()
        );
        open.retain_mut(|c| !closed_by_server(c));
        if !open.is_empty() {
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    println!("    closed by the server after {:?}", started.elapsed());
    others.check("after the idle connections")
}

fn big_heads(server: &Server, addr: &str, others: &Bystander) -> Result<()> {
    let before = server.rss_kib().context("the server's memory")?;
    let big = "a".repeat(1024 * 1024);
    let mut answers = Vec::new();
    std::thread::scope(|s| -> Result<()> {
        let handles: Vec<_> = (0..BIG_HEADS)
            .map(|i| {
                let big = &big;
                s.spawn(move || -> Result<RawResponse> {
                    let mut conn = TcpStream::connect(addr)?;
                    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
                    let head = if i % 2 == 0 {
                        format!("GET /api/health HTTP/1.1\r\nHost: {addr}\r\nX-Big: {big}\r\n\r\n")
                    } else {
                        let lines: String =
                            (0..1000).map(|n| format!("X-Line-{n}: {n}\r\n")).collect();
                        format!("GET /api/health HTTP/1.1\r\nHost: {addr}\r\n{lines}\r\n")
                    };
                    // The server stops reading early; a failed write is expected.
                    let mut writer = conn.try_clone()?;
                    let sender = std::thread::spawn(move || {
                        let _ = writer.write_all(head.as_bytes());
                    });
                    let answer = http::read_response(&mut conn);
                    let _ = sender.join();
                    answer
                })
            })
            .collect();
        for h in handles {
            answers.push(h.join().map_err(|_| anyhow::anyhow!("a client panicked"))?);
        }
        Ok(())
    })?;
    let after = server.rss_kib().context("the server's memory")?;
    for answer in answers {
        match answer {
            Ok(a) if a.status == 431 => {}
            Ok(a) => bail!("a huge head answered {}", a.status),
            Err(e) => bail!("a huge head got no answer: {e:#}"),
        }
    }
    println!(
        "    {BIG_HEADS} huge heads refused with 431; server memory {before} KiB -> {after} KiB"
    );
    ensure!(
        after.saturating_sub(before) < 16 * 1024,
        "the server grew by {} KiB for {BIG_HEADS} heads of 1 MiB",
        after.saturating_sub(before)
    );
    others.check("after huge heads")
}
