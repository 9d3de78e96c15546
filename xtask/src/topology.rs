//! The deployments beyond one process on SQLite, as `cargo xtask test` stages:
//!
//! - `e2e-postgres`: the journeys that reach the database, with the release server on a
//!   throwaway PostgreSQL.
//! - `e2e-cross-origin`: chosen journeys with the SPA served by nginx (configured from
//!   `cdn/_headers` and `cdn/_redirects`) on one port and the API on another.
//! - `instances`: two API processes on one PostgreSQL behind nginx round-robin, and the
//!   server's `two_instances` tests against them.

use crate::build;
use crate::cdn::{self, NginxRun};
use crate::pg;
use crate::proc::{self, Counts, Ctx, Guard};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The journeys the cross-origin topology runs: registering, logging in and posting,
/// a reload restoring the session, logout in one tab ending the other, 2FA login, the
/// password reset, and the topology's own header checks.
pub const CROSS_ORIGIN_SPECS: &[&str] = &[
    "tests/smoke.spec.ts",
    "tests/01-posts.spec.ts",
    "tests/03-reload.spec.ts",
    "tests/05-logout.spec.ts",
    "tests/11-reset.spec.ts",
    "tests/12-two-factor.spec.ts",
    "tests/15-cross-origin.spec.ts",
];

/// The specs that prove only the browser's side (headers, accessibility, the forms before
/// the app, chunk loading, Web Storage preferences, installability): the
/// database under the server changes nothing they check, so `e2e-postgres` leaves them to
/// the `e2e` stage. Every other spec, a new one included, runs on both databases.
pub const BROWSER_ONLY_SPECS: &[&str] = &[
    "07-csp.spec.ts",
    "09-a11y.spec.ts",
    "14-before-the-app.spec.ts",
    "14-lazy-pages.spec.ts",
    "15-theme-and-draft.spec.ts",
    "17-install.spec.ts",
];

/// The journeys that reach the database, against the release server on a throwaway
/// PostgreSQL cluster.
pub fn e2e_postgres(ctx: &Ctx, run: impl Fn(&mut Command) -> Result<Counts>) -> Result<Counts> {
    let specs = database_specs(&ctx.e2e().join("tests"))?;
    let cluster = pg::Cluster::start(ctx)?;
    let result = run(playwright(ctx)
        .args(&specs)
        .env("E2E_DATABASE_URL", cluster.url()));
    drop(cluster);
    nonzero(result)
}

/// Every spec in `dir` but the browser-only ones, as paths relative to e2e/.
fn database_specs(dir: &Path) -> Result<Vec<String>> {
    let mut specs = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".spec.ts") && !BROWSER_ONLY_SPECS.contains(&name.as_str()) {
            specs.push(format!("tests/{name}"));
        }
    }
    for skipped in BROWSER_ONLY_SPECS {
        if !dir.join(skipped).is_file() {
            bail!("e2e/tests/{skipped} is named as browser-only but does not exist");
        }
    }
    specs.sort();
    Ok(specs)
}

/// The chosen journeys with the SPA on nginx and the API on another port.
pub fn e2e_cross_origin(ctx: &Ctx, run: impl Fn(&mut Command) -> Result<Counts>) -> Result<Counts> {
    let tmp = proc::temp_dir("microblog-cross-origin")?;
    let result = (|| {
        let spa_port = proc::free_port()?;
        let api_port = proc::free_port()?;
        let api = format!("http://127.0.0.1:{api_port}");
        // Our own copy of dist/, pointed at the API as `cargo xtask dist` would.
        let spa = tmp.join("spa");
        cdn::copy_dir(&build::dist(ctx), &spa)?;
        cdn::point_at_api(&spa, &api)?;
        let conf = static_conf(&tmp.join("nginx"), spa_port, &spa)?;
        let mut cmd = playwright(ctx);
        cmd.args(CROSS_ORIGIN_SPECS)
            .env("E2E_PORT", spa_port.to_string())
            .env("E2E_API_PORT", api_port.to_string())
            .env("E2E_NGINX_CONF", &conf)
            .env("E2E_NGINX", nginx_bin(ctx))
            .env("E2E_DIST", &spa);
        run(&mut cmd)
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    nonzero(result)
}

/// Writes the nginx.conf of a static host serving the build in `root` by its own
/// `_headers` and `_redirects` (copies of cdn/'s, with the API's origin in the CSP once
/// `cargo xtask dist` pointed it) under `dir`; answers its path.
pub fn static_conf(dir: &Path, port: u16, root: &Path) -> Result<PathBuf> {
    let headers = cdn::parse_headers(&proc::read(&root.join("_headers"))?)?;
    let redirects = cdn::parse_redirects(&proc::read(&root.join("_redirects"))?)?;
    std::fs::create_dir_all(dir)?;
    let text = cdn::nginx_static(&NginxRun { prefix: dir, port }, root, &headers, &redirects)?;
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, text)?;
    Ok(conf)
}

/// Two API processes on one fresh PostgreSQL database, started at the same moment (so
/// both race to migrate it), nginx round-robin in front, and the server's
/// `two_instances` tests against the three addresses.
pub fn instances(ctx: &Ctx, run: impl Fn(&mut Command) -> Result<Counts>) -> Result<Counts> {
    let cluster = pg::Cluster::start(ctx)?;
    let tmp = proc::temp_dir("microblog-instances")?;
    let result = (|| {
        let secret = secret_key()?;
        let proxy_port = proc::free_port()?;
        let proxy = format!("http://127.0.0.1:{proxy_port}");
        let ports = [proc::free_port()?, proc::free_port()?];
        let mut servers = Vec::new();
        for (i, port) in ports.iter().enumerate() {
            let mut cmd = ctx.cmd(build::server_bin(ctx));
            cmd.env("HOST", "127.0.0.1")
                .env("PORT", port.to_string())
                .env("DATABASE_URL", cluster.url())
                .env("DATABASE_MAX_CONNECTIONS", "4")
                .env("STATIC_DIR", tmp.join("no-dist"))
                .env("MAIL_OUTBOX", tmp.join(format!("outbox-{i}")))
                .env("PUBLIC_URL", &proxy)
                .env("TRUST_PROXY", "true")
                .env("SECRET_KEY", &secret)
                .env("THROTTLE_REGISTER_ADDRESS", "1000/3600")
                .env("RUST_LOG", "warn");
            servers.push(Guard::spawn(&mut cmd, &format!("API instance {i}"))?);
        }
        for (server, port) in servers.iter_mut().zip(ports) {
            server.wait_for_port(&format!("127.0.0.1:{port}"), Duration::from_secs(90))?;
        }
        let upstreams: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let nginx_dir = tmp.join("nginx");
        std::fs::create_dir_all(&nginx_dir)?;
        let conf = nginx_dir.join("nginx.conf");
        let run_dirs = NginxRun {
            prefix: &nginx_dir,
            port: proxy_port,
        };
        std::fs::write(&conf, cdn::nginx_proxy(&run_dirs, &upstreams))?;
        let mut nginx = Guard::spawn(&mut nginx_cmd(ctx, &conf), "nginx")?;
        nginx.wait_for_port(&format!("127.0.0.1:{proxy_port}"), Duration::from_secs(30))?;
        let result = run(tests(ctx)
            .env("TOPOLOGY_PROXY_URL", &proxy)
            .env("TOPOLOGY_INSTANCE_A", format!("http://{}", upstreams[0]))
            .env("TOPOLOGY_INSTANCE_B", format!("http://{}", upstreams[1]))
            .env("TOPOLOGY_DATABASE_URL", cluster.url()));
        drop(nginx);
        drop(servers);
        result
    })();
    drop(cluster);
    let _ = std::fs::remove_dir_all(&tmp);
    nonzero(result)
}

/// Debian's nginx, which lives in /usr/sbin (not on every user's PATH).
fn nginx_bin(ctx: &Ctx) -> PathBuf {
    ctx.which("nginx")
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/nginx"))
}

/// nginx in the foreground with its own prefix (pid file, logs, temporary folders).
pub fn nginx_cmd(ctx: &Ctx, conf: &Path) -> Command {
    let dir = conf.parent().unwrap_or(Path::new("."));
    let mut cmd = ctx.cmd(nginx_bin(ctx));
    cmd.arg("-e")
        .arg(dir.join("error.log"))
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(conf);
    cmd
}

fn playwright(ctx: &Ctx) -> Command {
    let mut cmd = ctx.cmd("playwright");
    cmd.current_dir(ctx.e2e())
        .arg("test")
        .env("E2E_SERVER_BIN", build::server_bin(ctx))
        .env("E2E_DIST", build::dist(ctx));
    cmd
}

/// The server's `two_instances` tests (ignored unless run against the topology), built
/// with the same package set as the `native` stage so nothing compiles again.
fn tests(ctx: &Ctx) -> Command {
    let mut cmd = match crate::test::nextest_run(ctx) {
        Some(mut cmd) => {
            cmd.args(["--filterset", "package(server) & test(/two_instances::/)"])
                .args(["--run-ignored", "only"]);
            cmd
        }
        None => {
            let mut cmd = ctx.cargo();
            cmd.args(["test", "--package", "server", "--test", "api", "--locked"])
                .args(["two_instances::", "--", "--ignored"]);
            cmd
        }
    };
    cmd.env_remove("TEST_POSTGRES_URL");
    cmd
}

/// 32 random bytes as hex, the instances' shared `SECRET_KEY`.
fn secret_key() -> Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn nonzero(result: Result<Counts>) -> Result<Counts> {
    let counts = result?;
    if counts.passed == 0 {
        bail!("no test ran");
    }
    Ok(counts)
}
