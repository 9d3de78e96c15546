//! `cargo xtask bench`: seed a realistic database through the server's own API, start
//! the release server on it and load it with wrk from a second process.
//!
//! The seeded database is cached in target/bench/ (keyed by the migrations and the seed
//! plan); each run works on a copy, so runs do not drift as sessions pile up.

mod seed;
pub mod soak;
pub mod web;
mod wrk;

use crate::build;
use crate::proc::{self, Ctx, Guard};
use crate::tools::{self, Needs};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct Options {
    pub duration_secs: u64,
    pub reseed: bool,
    pub build: bool,
}

const PASSWORD: &str = "bench-Pass-5c1e9a77";
/// Changes whenever the seed plan (seed.rs) changes, so a cached database is rebuilt.
const SEED_VERSION: &str = "seed-v1";

pub fn run(ctx: &Ctx, opts: Options) -> Result<()> {
    tools::ensure(
        ctx,
        &Needs {
            wrk: true,
            ..Needs::default()
        },
    )?;
    let bin = if opts.build {
        build::server(ctx, false)?
    } else {
        build::server_bin(ctx)
    };
    if !bin.is_file() {
        bail!("{} is missing: run without --no-build", bin.display());
    }

    let cache = ctx.target_dir().join("bench");
    let seeded = cache.join("seed.db");
    let stamp_path = cache.join("seed.stamp");
    let stamp = seed_stamp(ctx)?;
    if opts.reseed || std::fs::read_to_string(&stamp_path).ok().as_deref() != Some(&stamp) {
        let _ = std::fs::remove_dir_all(&cache);
        std::fs::create_dir_all(&cache)?;
        let started = Instant::now();
        seed::seed(ctx, &bin, &seeded)?;
        std::fs::write(&stamp_path, &stamp)?;
        println!("bench: seeded in {}", proc::fmt_duration(started.elapsed()));
    } else {
        println!(
            "bench: using the seeded database in {} (--reseed to rebuild it)",
            cache.display()
        );
    }

    let work = proc::temp_dir("microblog-bench")?;
    let result = wrk::bench(ctx, &bin, &seeded, &work, opts.duration_secs);
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// Keyed by what shapes the seeded database: the schema and the seed plan.
fn seed_stamp(ctx: &Ctx) -> Result<String> {
    let mut files = Vec::new();
    collect(&ctx.root.join("server/migrations"), &mut files);
    files.sort();
    let mut parts: Vec<Vec<u8>> = vec![SEED_VERSION.as_bytes().to_vec()];
    for f in files {
        parts.push(f.to_string_lossy().as_bytes().to_vec());
        parts.push(std::fs::read(&f)?);
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    Ok(format!("{:016x}\n", proc::fnv1a(&refs)))
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(read) = std::fs::read_dir(dir) {
        for e in read.flatten() {
            let p = e.path();
            if p.is_dir() {
                collect(&p, out);
            } else {
                out.push(p);
            }
        }
    }
}

/// Starts the release server on a SQLite file with the bench's settings.
fn start_server(ctx: &Ctx, bin: &Path, db: &Path) -> Result<(Guard, String)> {
    let port = proc::free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let mut cmd = ctx.cmd(bin);
    cmd.env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("STATIC_DIR", build::dist(ctx))
        .env("PUBLIC_URL", &base)
        .env("ALLOWED_ORIGINS", &base)
        // The seed registers every user from 127.0.0.1.
        .env("THROTTLE_REGISTER_ADDRESS", "1000000/3600")
        // A fixed key: the seeded database is reused between runs.
        .env(
            "SECRET_KEY",
            "62656e6368206f6e6c792c206e6f742061207265616c20736563726574212121",
        )
        // Seeding and the GET scenarios reuse one access token for minutes.
        .env("ACCESS_TOKEN_TTL_SECS", "7200")
        // A log line per request would measure the terminal, not the server.
        .env(
            "RUST_LOG",
            std::env::var("BENCH_RUST_LOG").unwrap_or_else(|_| "warn".into()),
        );
    let mut server = Guard::spawn(&mut cmd, "the server")?;
    server.wait_for_port(&format!("127.0.0.1:{port}"), Duration::from_secs(60))?;
    Ok((server, base))
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

/// Runs `f(i)` for i in 0..n on `clients` threads, each with its own HTTP agent; prints
/// progress; the results come back in order.
fn expect_status(resp: &ureq::http::Response<ureq::Body>, want: u16, what: &str) -> Result<()> {
    let got = resp.status().as_u16();
    if got != want {
        bail!("{what}: expected {want}, got {got}");
    }
    Ok(())
}

fn basic(username: &str) -> String {
    format!(
        "Basic {}",
        base64(format!("{username}:{PASSWORD}").as_bytes())
    )
}

/// Logs in; answers the access token and the refresh cookie's value.
fn login(agent: &ureq::Agent, base: &str, username: &str) -> Result<(String, String)> {
    let mut resp = agent
        .post(format!("{base}/api/tokens"))
        .header("Authorization", basic(username))
        .send_empty()?;
    expect_status(&resp, 200, "POST /api/tokens")?;
    let refresh = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("refresh_token="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .context("no refresh_token cookie in the login answer")?;
    let token: wire::Token = resp.body_mut().read_json()?;
    Ok((token.access_token, refresh))
}

fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn url_encoding_escapes_timestamps() {
        assert_eq!(
            url_encode("2026-11-29T14:12:51.349565Z"),
            "2026-11-29T14%3A12%3A51.349565Z"
        );
    }
}
