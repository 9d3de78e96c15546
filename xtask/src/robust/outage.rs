//! The `outage` stage: the database goes away under the release server.
//!
//! - PostgreSQL stopped mid-run (as a crash would): every request gets a JSON 503 with
//!   `Retry-After` in bounded time (the pool's acquire timeout), never a hang, a 500 or a
//!   dead process; PostgreSQL started again: the same server answers normally.
//! - A full disk under SQLite (the data folder on a small tmpfs, filled up): writes get a
//!   JSON 503 with `Retry-After`, reads still work; space freed: writes work again without
//!   a restart; and after a restart every acknowledged write is there, the file intact.

use super::{Server, agent, login, register};
use crate::pg;
use crate::proc::{self, Counts, Ctx};
use anyhow::{Context, Result, bail, ensure};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a request may take to be refused while the database is away: the pool's
/// acquire timeout (10 s on PostgreSQL) and some slack for a loaded machine.
const REFUSAL_WITHIN: Duration = Duration::from_secs(20);

pub fn run(ctx: &Ctx) -> Result<Counts> {
    let mut checks = super::Checks::default();
    checks.run("PostgreSQL stopped and started again", || {
        let cluster = pg::Cluster::start(ctx)?;
        let dir = proc::temp_dir("microblog-outage-pg")?;
        let result = postgres_outage(ctx, &cluster, &dir);
        let _ = std::fs::remove_dir_all(&dir);
        drop(cluster);
        result
    });
    checks.run("a full disk under SQLite", || {
        let dir = proc::temp_dir("microblog-outage-disk")?;
        let result = full_disk(ctx, &dir);
        let _ = std::fs::remove_dir_all(&dir);
        result
    });
    checks.finish()
}

type Response = ureq::http::Response<ureq::Body>;

/// A 503 as the contract has it: the JSON error body and `Retry-After`.
fn expect_unavailable(mut resp: Response, what: &str) -> Result<()> {
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    ensure!(status == 503, "{what}: expected 503, got {status}: {body}");
    ensure!(
        retry_after
            .as_deref()
            .is_some_and(|v| v.parse::<u64>().is_ok()),
        "{what}: a 503 without a Retry-After in seconds"
    );
    let error: wire::ErrorBody = serde_json::from_str(&body)
        .with_context(|| format!("{what}: not the JSON error body: {body}"))?;
    ensure!(error.code == 503, "{what}: body code {}", error.code);
    Ok(())
}

fn postgres_outage(ctx: &Ctx, cluster: &pg::Cluster, dir: &Path) -> Result<()> {
    let mut server = Server::start(ctx, &cluster.url(), dir, &[])?;
    let base = server.base.clone();
    let agent = agent();
    register(&agent, &base, "outage")?;
    let session = login(&agent, &base, "outage")?;
    let bearer = format!("Bearer {}", session.access);
    let post = |text: &str| {
        agent
            .post(format!("{base}/api/posts"))
            .header("Authorization", &bearer)
            .send_json(wire::PostText { text: text.into() })
    };
    ensure!(
        post("before")?.status().as_u16() == 201,
        "a post before the outage"
    );

    cluster.stop_now()?;
    println!("    PostgreSQL stopped");
    let request = |what: &str| -> Result<Response, ureq::Error> {
        match what {
            "GET /api/feed" => agent
                .get(format!("{base}/api/feed"))
                .header("Authorization", &bearer)
                .call(),
            "POST /api/posts" => post("during"),
            "POST /api/tokens" => {
                let credentials =
                    crate::bench::base64(format!("outage:{}", super::PASSWORD).as_bytes());
                agent
                    .post(format!("{base}/api/tokens"))
                    .header("Authorization", format!("Basic {credentials}"))
                    .send_empty()
            }
            _ => agent
                .put(format!("{base}/api/tokens"))
                .header("Cookie", format!("refresh_token={}", session.refresh))
                .header("Content-Type", "application/json")
                .send("{}"),
        }
    };
    // Twice, each round's requests side by side: the first round finds the pooled
    // connections dead, the second finds no database to connect to (and waits for the
    // pool's acquire timeout).
    for round in 0..2 {
        std::thread::scope(|s| -> Result<()> {
            let handles: Vec<_> = [
                "GET /api/feed",
                "POST /api/posts",
                "POST /api/tokens",
                "PUT /api/tokens",
            ]
            .into_iter()
            .map(|what| {
                let request = &request;
                s.spawn(move || -> Result<()> {
                    let started = Instant::now();
                    let resp = request(what)
                        .with_context(|| format!("{what} while the database is away"))?;
                    let took = started.elapsed();
                    expect_unavailable(resp, what)?;
                    ensure!(
                        took <= REFUSAL_WITHIN,
                        "{what} took {took:?} to be refused (round {round})"
                    );
                    println!("    {what}: 503 in {} ms", took.as_millis());
                    Ok(())
                })
            })
            .collect();
            for h in handles {
                h.join()
                    .map_err(|_| anyhow::anyhow!("a client panicked"))??;
            }
            Ok(())
        })?;
    }
    let health = agent.get(format!("{base}/api/health")).call()?;
    ensure!(
        health.status().as_u16() == 503,
        "health says {} without its database",
        health.status()
    );
    ensure!(
        server
            .guard
            .as_mut()
            .context("no server")?
            .child
            .try_wait()?
            .is_none(),
        "the server died while its database was away"
    );

    cluster.start_again()?;
    println!("    PostgreSQL started again");
    // The first request may still find a connection that died with the old cluster; the
    // server must be healthy again without a restart once the database answers.
    let deadline = Instant::now() + REFUSAL_WITHIN;
    loop {
        let status = agent
            .get(format!("{base}/api/health"))
            .call()?
            .status()
            .as_u16();
        if status == 200 {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "still unhealthy {REFUSAL_WITHIN:?} after PostgreSQL came back"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut resp = post("after")?;
    ensure!(
        resp.status().as_u16() == 201,
        "a post after the outage: {} {}",
        resp.status(),
        resp.body_mut().read_to_string().unwrap_or_default()
    );
    let feed = agent
        .get(format!("{base}/api/feed"))
        .header("Authorization", &bearer)
        .call()?;
    ensure!(
        feed.status().as_u16() == 200,
        "the feed after the outage: {}",
        feed.status()
    );
    let resp = agent
        .put(format!("{base}/api/tokens"))
        .header("Cookie", format!("refresh_token={}", session.refresh))
        .header("Content-Type", "application/json")
        .send("{}")?;
    ensure!(
        resp.status().as_u16() == 200,
        "the refresh token after the outage: {}",
        resp.status()
    );
    println!("    recovered without a restart");
    Ok(())
}

/// A tmpfs mounted for the test, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, size: &str) -> Result<Mount> {
        std::fs::create_dir_all(at)?;
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .context("running mount")?;
        if !status.success() {
            bail!(
                "mounting a {size} tmpfs failed ({status}): this check needs root (or CAP_SYS_ADMIN)"
            );
        }
        Ok(Mount(at.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// Fills the file system at `path` until it has no space left.
fn fill(path: &Path) -> Result<()> {
    let mut f = std::fs::File::create(path)?;
    let chunk = vec![0u8; 4096];
    loop {
        match f.write_all(&chunk) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
            Err(e) => return Err(e.into()),
        }
    }
    let _ = f.sync_all();
    Ok(())
}

fn full_disk(ctx: &Ctx, dir: &Path) -> Result<()> {
    let disk = dir.join("disk");
    let mount = Mount::tmpfs(&disk, "8m")?;
    let url = format!("sqlite://{}", disk.join("microblog.db").display());
    let mut server = Server::start(ctx, &url, dir, &[])?;
    let base = server.base.clone();
    let agent = agent();
    register(&agent, &base, "fuller")?;
    let session = login(&agent, &base, "fuller")?;
    let bearer = format!("Bearer {}", session.access);
    let post = |text: String| {
        agent
            .post(format!("{base}/api/posts"))
            .header("Authorization", &bearer)
            .send_json(wire::PostText { text })
    };
    let mut acked: Vec<String> = Vec::new();
    for i in 0..20 {
        let text = format!("before the disk filled up, {i}");
        ensure!(
            post(text.clone())?.status().as_u16() == 201,
            "post {i} before"
        );
        acked.push(text);
    }
    fill(&disk.join("filler"))?;
    println!("    the disk is full");
    // SQLite may still find room in its own free pages for a while: write until it
    // refuses, then it must keep refusing with 503 (never 500).
    let mut refused = 0;
    for i in 0..2000 {
        let text = format!("while the disk is full, {i}, {}", "x".repeat(200));
        let resp = post(text.clone())?;
        match resp.status().as_u16() {
            // SQLite may find a free page again after a refusal: fine, if it keeps it.
            201 => acked.push(text),
            503 => {
                expect_unavailable(resp, "POST /api/posts on a full disk")?;
                refused += 1;
                if refused == 5 {
                    break;
                }
            }
            other => {
                let body = resp.into_body().read_to_string().unwrap_or_default();
                bail!("POST /api/posts on a full disk answered {other}: {body}");
            }
        }
    }
    ensure!(refused > 0, "the full disk never refused a write");
    let feed = agent
        .get(format!("{base}/api/feed"))
        .header("Authorization", &bearer)
        .call()?;
    ensure!(
        feed.status().as_u16() == 200,
        "reading on a full disk: {}",
        feed.status()
    );
    println!("    writes refused with 503, reads answered");

    std::fs::remove_file(disk.join("filler"))?;
    let text = "after space came back".to_owned();
    let resp = post(text.clone())?;
    ensure!(
        resp.status().as_u16() == 201,
        "a post after space came back: {}",
        resp.status()
    );
    acked.push(text);
    println!("    writes work again without a restart");

    // Restart on the same file: every acknowledged post is there, the file intact.
    let exit = server.signal_and_wait("TERM")?;
    ensure!(exit.success(), "the server exited with {exit}");
    server.restart(ctx)?;
    let mut resp = agent
        .get(format!("{base}/api/me"))
        .header("Authorization", &bearer)
        .call()?;
    let me: wire::User = resp.body_mut().read_json()?;
    let mut texts = Vec::new();
    loop {
        let mut resp = agent
            .get(format!(
                "{base}/api/users/{}/posts?offset={}",
                me.id,
                texts.len()
            ))
            .header("Authorization", &bearer)
            .call()?;
        ensure!(
            resp.status().as_u16() == 200,
            "listing posts: {}",
            resp.status()
        );
        let page: wire::Page<wire::Post> = resp.body_mut().read_json()?;
        let done = page.data.is_empty();
        texts.extend(page.data.into_iter().map(|p| p.text));
        if done || i64::try_from(texts.len())? >= page.pagination.total {
            break;
        }
    }
    for text in &acked {
        ensure!(
            texts.contains(text),
            "acknowledged post {text:?} is missing"
        );
    }
    ensure!(
        texts.len() == acked.len(),
        "{} posts stored, {} acknowledged",
        texts.len(),
        acked.len()
    );
    drop(server);
    let out = std::process::Command::new("sqlite3")
        .arg(disk.join("microblog.db"))
        .arg("PRAGMA integrity_check;")
        .output();
    match out {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout);
            ensure!(text.trim() == "ok", "PRAGMA integrity_check: {text}");
            println!("    PRAGMA integrity_check: ok");
        }
        Err(_) => println!("    (sqlite3 is not installed: no PRAGMA integrity_check)"),
    }
    drop(mount);
    Ok(())
}
