//! `cargo xtask`: the project's own build tool.
//!
//! `cargo xtask run` installs what is missing, builds the SPA and the server in release
//! mode and serves both; `cargo xtask test` runs every check and test of the workspace.
//! Everything a fresh machine lacks is installed here (idempotently), because CI runs on
//! a fresh clone and nothing installed by hand survives a new machine.

mod bench;
mod build;
mod cdn;
mod compress;
mod minify;
mod pg;
mod proc;
mod robust;
mod serve;
mod size;
mod split;
mod test;
mod tools;
mod topology;

use anyhow::{Result, bail};
use proc::Ctx;

const USAGE: &str = "\
Usage: cargo xtask <command> [options]

Commands:
  run      Install what is missing, build the SPA and the server (release), serve both
           on http://127.0.0.1:8080 (PORT, HOST, DATABASE_URL, ... override).
             --no-build       serve what is already built
  test     Every check and test; non-zero exit if any fails. Stages, in order:
           setup fmt clippy clippy-wasm native postgres wasm spa size server schemathesis
           crash outage hostile soak tsc e2e e2e-postgres e2e-cross-origin instances
             --only a,b       run only these stages (plus the stages they need)
             --skip a,b       leave these stages out
             --fail-fast      stop at the first failing stage (default: run the rest
                              and report every failure)
             --list           list the stages and exit
  size     Print what a first visit downloads from dist/ (raw, gzip, brotli) and check
           it against size-budget.toml.
             --no-build       measure dist/ as it is (default: build the SPA first)
  bench    Seed a database (1,000 users, 50,000 posts, a follow graph), start the release
           server and load it with wrk; print req/s, p50, p99 and peak memory.
             --duration SECS  per scenario (default 10)
             --reseed         build a new database even if one is cached
             --no-build       use the binaries as they are
  soak     A mixed workload (register, login, post, feed, explore, follow, refresh,
           logout, reset) at 16 connections against the release server, on SQLite and
           PostgreSQL; prints req/s, p50 and p99 per kind, unexpected statuses, broken
           refresh chains and the server's memory every 30 s. Non-zero exit on any
           unexpected status or broken chain.
             --minutes N      how long, per database (default 10)
             --db a,b         sqlite, postgres (default both)
             --no-build       use the server binary as it is
  bench-web
           Build the release app, serve dist/ (brotli) with our server, and measure it in
           Chromium (Playwright): bytes and times of a first visit to /login, login, reload
           and a lazy page, on loopback and on a throttled phone profile (1.6 Mbps down,
           750 Kbps up, 150 ms RTT, CPU 4x slower), cold and warm cache; prints medians.
             --runs N         runs per profile and cache state (default 15)
             --profiles a,b   loopback, phone (default both)
             --no-build       use the binaries and dist/ as they are
  build    Build the SPA (release, split into chunks) and the server (release).
  dist     Make dist/ ready for a static host with the API on another origin: the
           origin goes into index.html's <meta> and the CSP of dist/_headers (no wasm
           rebuild; dist/_redirects routes client paths to index.html).
             --api-origin URL the API's origin, e.g. https://api.example.com (required)
             --no-build       point the dist/ that is already built
             --nginx PORT     also write an nginx.conf serving dist/ on PORT, generated
                              from dist/_headers and dist/_redirects
  install  Install the tools: wasm target, trunk, wasm-split-cli, wasm-bindgen-cli, npm
           packages.
             --browser        also Chromium and ChromeDriver (Debian)
             --postgres       also PostgreSQL (Debian)
             --wrk            also wrk (Debian)
             --nginx          also nginx (Debian)
";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match real_main(&args) {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("\nxtask: error: {err:#}");
            std::process::exit(1);
        }
    }
}

fn real_main(args: &[String]) -> Result<i32> {
    let Some((command, rest)) = args.split_first() else {
        print!("{USAGE}");
        return Ok(2);
    };
    let ctx = Ctx::new()?;
    match command.as_str() {
        "run" => {
            let flags = Flags::parse(rest, &["--no-build"], &[])?;
            serve::run(&ctx, !flags.switch("--no-build"))?;
            Ok(0)
        }
        "test" => {
            let flags = Flags::parse(rest, &["--fail-fast", "--list"], &["--only", "--skip"])?;
            let opts = test::Options {
                only: flags.list("--only"),
                skip: flags.list("--skip"),
                fail_fast: flags.switch("--fail-fast"),
                list: flags.switch("--list"),
            };
            test::run(&ctx, opts)
        }
        "size" => {
            let flags = Flags::parse(rest, &["--no-build"], &[])?;
            if !flags.switch("--no-build") {
                tools::ensure(&ctx, &tools::Needs::spa())?;
                build::spa(&ctx)?;
            }
            let report = size::measure(&ctx)?;
            report.print();
            report.check(&ctx)?;
            Ok(0)
        }
        "bench" => {
            let flags = Flags::parse(rest, &["--reseed", "--no-build"], &["--duration"])?;
            let duration = match flags.value("--duration") {
                Some(d) => d
                    .parse()
                    .map_err(|_| anyhow::anyhow!("--duration wants seconds"))?,
                None => 10,
            };
            bench::run(
                &ctx,
                bench::Options {
                    duration_secs: duration,
                    reseed: flags.switch("--reseed"),
                    build: !flags.switch("--no-build"),
                },
            )?;
            Ok(0)
        }
        "soak" => {
            let flags = Flags::parse(rest, &["--no-build"], &["--minutes", "--db"])?;
            let minutes = match flags.value("--minutes") {
                Some(m) => m
                    .parse()
                    .map_err(|_| anyhow::anyhow!("--minutes wants a number"))?,
                None => 10.0,
            };
            let mut databases = flags.list("--db");
            if databases.is_empty() {
                databases = vec!["sqlite".into(), "postgres".into()];
            }
            if databases.iter().any(|d| d == "postgres") {
                tools::ensure(
                    &ctx,
                    &tools::Needs {
                        postgres: true,
                        ..tools::Needs::default()
                    },
                )?;
            }
            if !flags.switch("--no-build") {
                build::server(&ctx, false)?;
            }
            let ok = bench::soak::run(&ctx, &bench::soak::Options { minutes, databases })?;
            Ok(if ok { 0 } else { 1 })
        }
        "bench-web" => {
            let flags = Flags::parse(rest, &["--no-build"], &["--runs", "--profiles"])?;
            let runs = match flags.value("--runs") {
                Some(r) => r
                    .parse()
                    .map_err(|_| anyhow::anyhow!("--runs wants a number"))?,
                None => 15,
            };
            bench::web::run(
                &ctx,
                bench::web::Options {
                    runs,
                    profiles: flags.value("--profiles"),
                    build: !flags.switch("--no-build"),
                },
            )?;
            Ok(0)
        }
        "build" => {
            Flags::parse(rest, &[], &[])?;
            tools::ensure(&ctx, &tools::Needs::spa())?;
            build::spa(&ctx)?;
            build::server(&ctx, false)?;
            Ok(0)
        }
        "dist" => {
            let flags = Flags::parse(rest, &["--no-build"], &["--api-origin", "--nginx"])?;
            let Some(api) = flags.value("--api-origin") else {
                bail!(
                    "dist needs --api-origin URL (the API's origin, e.g. https://api.example.com)"
                );
            };
            if !flags.switch("--no-build") {
                tools::ensure(&ctx, &tools::Needs::spa())?;
                build::spa(&ctx)?;
            }
            let dist = build::dist(&ctx);
            cdn::point_at_api(&dist, &api)?;
            println!(
                "dist: {} now talks to the API at {}",
                dist.display(),
                cdn::origin(&api)?
            );
            if let Some(port) = flags.value("--nginx") {
                let port = port
                    .parse()
                    .map_err(|_| anyhow::anyhow!("--nginx wants a port"))?;
                let dir = ctx.target_dir().join("nginx-static");
                let conf = topology::static_conf(&dir, port, &dist)?;
                println!(
                    "nginx: {} (run `nginx -p {} -c {}`)",
                    conf.display(),
                    dir.display(),
                    conf.display()
                );
            }
            Ok(0)
        }
        "install" => {
            let flags = Flags::parse(rest, &["--browser", "--postgres", "--wrk", "--nginx"], &[])?;
            let mut needs = tools::Needs::spa();
            needs.chromium = flags.switch("--browser");
            needs.postgres = flags.switch("--postgres");
            needs.wrk = flags.switch("--wrk");
            needs.nginx = flags.switch("--nginx");
            tools::ensure(&ctx, &needs)?;
            Ok(0)
        }
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(0)
        }
        other => {
            eprint!("unknown command `{other}`\n\n{USAGE}");
            Ok(2)
        }
    }
}

/// A tiny flag parser: `--switch`, `--key value` and `--key=value`, nothing positional.
struct Flags {
    switches: Vec<String>,
    values: Vec<(String, String)>,
}

impl Flags {
    fn parse(args: &[String], switches: &[&str], valued: &[&str]) -> Result<Self> {
        let mut flags = Flags {
            switches: Vec::new(),
            values: Vec::new(),
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            if let Some((key, value)) = arg.split_once('=')
                && valued.contains(&key)
            {
                flags.values.push((key.to_owned(), value.to_owned()));
            } else if valued.contains(&arg.as_str()) {
                let Some(value) = it.next() else {
                    bail!("{arg} needs a value");
                };
                flags.values.push((arg.clone(), value.clone()));
            } else if switches.contains(&arg.as_str()) {
                flags.switches.push(arg.clone());
            } else {
                bail!("unknown option `{arg}` (see `cargo xtask help`)");
            }
        }
        Ok(flags)
    }

    fn switch(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    fn value(&self, name: &str) -> Option<String> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// All values of a repeatable, comma-separated option.
    fn list(&self, name: &str) -> Vec<String> {
        self.values
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }
}
