//! `cargo xtask run`: build everything in release mode and serve it.

use crate::build;
use crate::proc::{Ctx, Guard};
use crate::tools::{self, Needs};
use anyhow::{Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub const DEFAULT_PORT: u16 = 8080;
pub const DEFAULT_HOST: &str = "127.0.0.1";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/microblog.db";
/// Where `trunk serve` serves the SPA during development (Trunk.toml's `[serve] port`),
/// passing `/api` on to the API at `DEFAULT_PORT` (its `[[proxy]] backend`).
pub const TRUNK_SERVE_PORT: u16 = 8081;

pub fn run(ctx: &Ctx, build: bool) -> Result<()> {
    if build {
        tools::ensure(ctx, &Needs::spa())?;
        build::spa(ctx)?;
        build::server(ctx, false)?;
    }
    let bin = build::server_bin(ctx);
    if !bin.is_file() {
        bail!(
            "{} is missing: run `cargo xtask run` without --no-build",
            bin.display()
        );
    }
    let spa_built = build::dist(ctx).join("index.html").is_file();
    if !spa_built && build {
        bail!("dist/index.html is missing after the build");
    }

    let env = ServerEnv::from_environment(ctx)?;
    let mut cmd = ctx.cmd(&bin);
    env.apply(&mut cmd);
    // The server may read from a terminal (nothing does today), and Ctrl-C reaches it
    // directly: it shares our process group.
    cmd.stdin(std::process::Stdio::inherit());
    let mut server = Guard::spawn(&mut cmd, "the server")?;
    server.wait_for_port(&env.connect_addr(), Duration::from_secs(60))?;

    let url = env.browse_url();
    println!();
    println!("  Microblog is running: open {url}");
    println!("  API: {url}/api  (docs at {url}/api/docs)");
    println!("  Database: {}   Press Ctrl-C to stop.", env.database_url);
    if !spa_built {
        println!(
            "  dist/ is not built: only the API is served here. For the app, run `trunk serve`\n  \
             and open http://127.0.0.1:{TRUNK_SERVE_PORT} (or `cargo xtask run` to build dist/)."
        );
    }
    println!();
    let status = server.child.wait()?;
    if !status.success() {
        bail!("the server stopped: {status}");
    }
    Ok(())
}

/// The server's configuration as `run` and `bench` start it: the caller's environment
/// wins; otherwise the defaults the README documents, with paths under the repository.
pub struct ServerEnv {
    pub host: String,
    pub port: u16,
    pub database_url: String,
    pub static_dir: PathBuf,
    pub public_url: String,
    pub allowed_origins: String,
    pub secret_key: String,
}

impl ServerEnv {
    pub fn from_environment(ctx: &Ctx) -> Result<ServerEnv> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let host = var("HOST").unwrap_or_else(|| DEFAULT_HOST.to_owned());
        let port = match var("PORT") {
            Some(p) => p
                .parse()
                .map_err(|_| anyhow::anyhow!("PORT={p} is not a port number"))?,
            None => DEFAULT_PORT,
        };
        let database_url = var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        prepare_sqlite(&ctx.root, &database_url)?;
        let static_dir = var("STATIC_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| build::dist(ctx));
        let browse_host = browse_host(&host);
        // The browser sends an Origin header on PUT /api/tokens; it must be allowed
        // whether the developer opens 127.0.0.1 or localhost.
        let public_url =
            var("PUBLIC_URL").unwrap_or_else(|| format!("http://{browse_host}:{port}"));
        let allowed_origins = var("ALLOWED_ORIGINS").unwrap_or_else(|| {
            let mut origins = vec![
                format!("http://127.0.0.1:{port}"),
                format!("http://localhost:{port}"),
            ];
            // `trunk serve`'s proxy sends the page's Origin on to the API it targets.
            if port == DEFAULT_PORT {
                origins.push(format!("http://127.0.0.1:{TRUNK_SERVE_PORT}"));
                origins.push(format!("http://localhost:{TRUNK_SERVE_PORT}"));
            }
            let public = public_url.trim_end_matches('/').to_owned();
            if !origins.contains(&public) {
                origins.insert(0, public);
            }
            origins.join(",")
        });
        let secret_key = match var("SECRET_KEY") {
            Some(key) => key,
            None => local_secret_key(&ctx.root.join("data").join("secret_key"))?,
        };
        Ok(ServerEnv {
            host,
            port,
            database_url,
            static_dir,
            public_url,
            allowed_origins,
            secret_key,
        })
    }

    pub fn apply(&self, cmd: &mut Command) {
        cmd.env("HOST", &self.host)
            .env("PORT", self.port.to_string())
            .env("DATABASE_URL", &self.database_url)
            .env("STATIC_DIR", &self.static_dir)
            .env("PUBLIC_URL", &self.public_url)
            .env("ALLOWED_ORIGINS", &self.allowed_origins)
            .env("SECRET_KEY", &self.secret_key);
    }

    pub fn connect_addr(&self) -> String {
        format!("{}:{}", browse_host(&self.host), self.port)
    }

    pub fn browse_url(&self) -> String {
        format!("http://{}:{}", browse_host(&self.host), self.port)
    }
}

/// The SECRET_KEY of a local run: read from `path`, or made there on first start (32
/// random bytes as hex, readable by the owner only). It seals the TOTP secrets and signing
/// keys of `data/microblog.db`: lose it and those no longer open.
fn local_secret_key(path: &Path) -> Result<String> {
    if let Ok(key) = std::fs::read_to_string(path) {
        return Ok(key.trim().to_owned());
    }
    let mut bytes = [0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, key.as_bytes())?;
    println!(
        "  Made a SECRET_KEY for local use in {} (it seals 2FA secrets and signing keys;",
        path.display()
    );
    println!("  set SECRET_KEY yourself in production).");
    Ok(key)
}

/// Where to connect for a listen address (a wildcard is reached through loopback).
fn browse_host(host: &str) -> String {
    match host {
        "0.0.0.0" | "" => "127.0.0.1".to_owned(),
        "::" | "[::]" => "[::1]".to_owned(),
        h if h.contains(':') && !h.starts_with('[') => format!("[{h}]"),
        h => h.to_owned(),
    }
}

/// The file path of a `sqlite:` URL, relative paths taken from the repository root.
pub fn sqlite_path(root: &Path, url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    if path.is_empty() || path.starts_with(':') {
        return None; // in-memory
    }
    Some(root.join(path))
}

/// Creates the directory of a SQLite database (and an empty database file, which SQLite
/// treats as an empty database), so the server never fails on a fresh clone.
pub fn prepare_sqlite(root: &Path, url: &str) -> Result<()> {
    if let Some(path) = sqlite_path(root, url) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        if !path.exists() {
            std::fs::File::create(&path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_files_under_the_root() {
        let root = Path::new("/repo");
        assert_eq!(
            sqlite_path(root, "sqlite://data/microblog.db"),
            Some(PathBuf::from("/repo/data/microblog.db"))
        );
        assert_eq!(
            sqlite_path(root, "sqlite:///tmp/x.db?mode=rwc"),
            Some(PathBuf::from("/tmp/x.db"))
        );
        assert_eq!(sqlite_path(root, "sqlite::memory:"), None);
        assert_eq!(sqlite_path(root, "postgres://localhost/db"), None);
    }

    /// The development loop of the README: `trunk serve` on its own port, `/api` passed on
    /// to the API where `cargo xtask run` starts it, from an origin that run allows.
    #[test]
    fn trunk_serve_proxies_the_api_where_run_serves_it() {
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Trunk.toml"))
                .unwrap();
        let trunk: toml::Table = toml::from_str(&text).unwrap();
        let serve = trunk["serve"].as_table().unwrap();
        assert_eq!(
            serve["port"].as_integer(),
            Some(i64::from(TRUNK_SERVE_PORT))
        );
        assert_ne!(TRUNK_SERVE_PORT, DEFAULT_PORT);
        let proxies = trunk["proxy"].as_array().unwrap();
        assert_eq!(proxies.len(), 1);
        assert_eq!(
            proxies[0]["backend"].as_str(),
            Some(format!("http://{DEFAULT_HOST}:{DEFAULT_PORT}/api").as_str())
        );
    }

    #[test]
    fn wildcard_hosts_are_browsed_on_loopback() {
        assert_eq!(browse_host("0.0.0.0"), "127.0.0.1");
        assert_eq!(browse_host("::"), "[::1]");
        assert_eq!(browse_host("127.0.0.1"), "127.0.0.1");
    }
}
