//! The robustness stages of `cargo xtask test`: the release server under an API fuzzer
//! (schemathesis), killed in the middle of writes, stopped under load, without its
//! database, and in front of hostile clients. Each starts the real release binary on a
//! free port with a fresh database.

pub mod crash;
pub mod hostile;
pub mod http;
pub mod outage;
pub mod schemathesis;

use crate::build;
use crate::proc::{self, Counts, Ctx, Guard};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A fixed key for throwaway databases: never a real secret.
const SECRET_KEY: &str = "726f627573746e6573732074657374732c206e6f742061207365637265742121";
pub const PASSWORD: &str = "robust-Pass-8e1f0c";

/// The release server with a database and settings of its own.
pub struct Server {
    pub guard: Option<Guard>,
    pub base: String,
    pub port: u16,
    bin: PathBuf,
    database_url: String,
    dir: PathBuf,
    extra: Vec<(String, String)>,
}

impl Server {
    /// Starts the release server on `database_url` (SQLite or PostgreSQL), with the
    /// mail outbox in `dir`, and `extra` settings on top of the defaults of these tests.
    pub fn start(
        ctx: &Ctx,
        database_url: &str,
        dir: &Path,
        extra: &[(&str, &str)],
    ) -> Result<Server> {
        let bin = build::server_bin(ctx);
        if !bin.is_file() {
            bail!("{} is missing: the `server` stage builds it", bin.display());
        }
        let port = proc::free_port()?;
        let mut server = Server {
            guard: None,
            base: format!("http://127.0.0.1:{port}"),
            port,
            bin,
            database_url: database_url.to_owned(),
            dir: dir.to_path_buf(),
            extra: extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        server.restart(ctx)?;
        Ok(server)
    }

    /// Starts the process again (after a kill), on the same port and database.
    pub fn restart(&mut self, ctx: &Ctx) -> Result<()> {
        let mut cmd = ctx.cmd(&self.bin);
        cmd.env("HOST", "127.0.0.1")
            .env("PORT", self.port.to_string())
            .env("DATABASE_URL", &self.database_url)
            .env("STATIC_DIR", self.dir.join("no-dist"))
            .env("MAIL_OUTBOX", self.dir.join("outbox"))
            .env("PUBLIC_URL", &self.base)
            .env("ALLOWED_ORIGINS", &self.base)
            .env("SECRET_KEY", SECRET_KEY)
            .env("ACCESS_TOKEN_TTL_SECS", "3600")
            .env("THROTTLE_REGISTER_ADDRESS", "1000000/3600")
            .env("THROTTLE_LOGIN_ADDRESS", "1000000/900")
            .env("THROTTLE_LOGIN_PAIR", "1000000/900")
            .env("THROTTLE_LOGIN_ACCOUNT", "1000000/60")
            .env("THROTTLE_RESET_ADDRESS", "1000000/900")
            .env(
                "RUST_LOG",
                std::env::var("ROBUST_RUST_LOG").unwrap_or_else(|_| "warn".into()),
            );
        for (k, v) in &self.extra {
            cmd.env(k, v);
        }
        let mut guard = Guard::spawn(&mut cmd, "the server")?;
        guard.wait_for_port(&format!("127.0.0.1:{}", self.port), Duration::from_secs(60))?;
        self.guard = Some(guard);
        Ok(())
    }

    pub fn pid(&self) -> Option<u32> {
        self.guard.as_ref().map(|g| g.child.id())
    }

    /// Sends `signal` (`KILL`, `TERM`) and waits for the process to end; answers how it
    /// ended.
    pub fn signal_and_wait(&mut self, signal: &str) -> Result<std::process::ExitStatus> {
        let mut guard = self.guard.take().context("the server is not running")?;
        let pid = guard.child.id();
        proc::run(
            std::process::Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(pid.to_string()),
        )?;
        Ok(guard.child.wait()?)
    }

    /// The server's resident memory in KiB (`VmRSS`).
    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.pid()?)
    }
}

pub fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

/// The server's private resident memory in KiB (`RssAnon`): its heap and stacks, without
/// the pages of files it maps (SQLite maps its database file).
pub fn private_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "RssAnon:")
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// An HTTP client that reports statuses instead of failing on them.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

/// Registers `name` (email `name@example.com`, password [`PASSWORD`]); answers its id.
pub fn register(agent: &ureq::Agent, base: &str, name: &str) -> Result<i64> {
    let user = wire::NewUser {
        username: name.to_owned(),
        email: format!("{name}@example.com"),
        password: PASSWORD.to_owned(),
        about_me: None,
    };
    let mut resp = agent.post(format!("{base}/api/users")).send_json(&user)?;
    let status = resp.status().as_u16();
    if status != 201 {
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        bail!("POST /api/users for {name}: expected 201, got {status}: {body}");
    }
    Ok(resp.body_mut().read_json::<wire::User>()?.id)
}

/// A logged-in session: the access token and the refresh cookie's value.
#[derive(Clone, Debug)]
pub struct Session {
    pub access: String,
    pub refresh: String,
}

/// Logs in with `name` and [`PASSWORD`].
pub fn login(agent: &ureq::Agent, base: &str, name: &str) -> Result<Session> {
    let credentials = crate::bench::base64(format!("{name}:{PASSWORD}").as_bytes());
    let mut resp = agent
        .post(format!("{base}/api/tokens"))
        .header("Authorization", format!("Basic {credentials}"))
        .send_empty()?;
    let status = resp.status().as_u16();
    if status != 200 {
        bail!("POST /api/tokens for {name}: expected 200, got {status}");
    }
    let refresh = refresh_cookie(&resp).context("no refresh_token cookie in the login answer")?;
    let token: wire::Token = resp.body_mut().read_json()?;
    Ok(Session {
        access: token.access_token,
        refresh,
    })
}

/// The `refresh_token` cookie an answer sets.
pub fn refresh_cookie(resp: &ureq::http::Response<ureq::Body>) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("refresh_token="))
        .and_then(|c| c.split(';').next())
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
}

/// A SQLite URL for a database file in `dir`.
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("microblog.db").display())
}

/// Named checks of one stage, run one after the other; each failure is reported and
/// counted, and the stage fails if any did.
#[derive(Default)]
pub struct Checks {
    counts: Counts,
    failures: Vec<String>,
}

impl Checks {
    pub fn run(&mut self, name: &str, f: impl FnOnce() -> Result<()>) {
        println!("  -- {name}");
        let started = std::time::Instant::now();
        match f() {
            Ok(()) => {
                self.counts.passed += 1;
                println!("  ok {name} ({})", proc::fmt_duration(started.elapsed()));
            }
            Err(e) => {
                self.counts.failed += 1;
                eprintln!("  FAILED {name}: {e:#}");
                self.failures.push(format!("{name}: {e:#}"));
            }
        }
    }

    pub fn finish(self) -> Result<Counts> {
        if self.failures.is_empty() {
            Ok(self.counts)
        } else {
            bail!(
                "{} of {} checks failed: {}",
                self.counts.failed,
                self.counts.passed + self.counts.failed,
                self.failures.join("; ")
            )
        }
    }
}
