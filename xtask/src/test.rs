//! `cargo xtask test`: every check and test, in stages, with a summary at the end.
//!
//! A failing stage does not stop the run (unless --fail-fast): the stages that do not
//! depend on it still run, so one CI run reports every problem. The exit code is
//! non-zero when any stage failed.

use crate::build;
use crate::pg;
use crate::proc::{self, Counts, Ctx};
use crate::size;
use crate::tools::{self, Needs};
use crate::topology;
use anyhow::{Context, Result, bail};
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Options {
    pub only: Vec<String>,
    pub skip: Vec<String>,
    pub fail_fast: bool,
    pub list: bool,
}

struct Stage {
    name: &'static str,
    about: &'static str,
    /// Stages whose success this one needs (besides setup, which all need).
    deps: &'static [&'static str],
    needs: fn() -> Needs,
    run: fn(&Ctx) -> Result<Counts>,
}

const STAGES: &[Stage] = &[
    Stage {
        name: "setup",
        about: "install what is missing (idempotent)",
        deps: &[],
        needs: Needs::default,
        run: |_| Ok(Counts::default()), // done specially: it needs the selection
    },
    Stage {
        name: "fmt",
        about: "cargo fmt --all --check",
        deps: &[],
        needs: Needs::default,
        run: fmt,
    },
    Stage {
        name: "clippy",
        about: "cargo clippy --workspace --all-targets -- -D warnings",
        deps: &[],
        needs: Needs::default,
        run: clippy,
    },
    Stage {
        name: "clippy-wasm",
        about: "clippy for the SPA on wasm32, -D warnings",
        deps: &[],
        needs: || Needs {
            wasm_target: true,
            ..Needs::default()
        },
        run: clippy_wasm,
    },
    Stage {
        name: "native",
        about: "native tests of the workspace (nextest) and doctests; server tests on SQLite",
        deps: &[],
        needs: Needs::default,
        run: native,
    },
    Stage {
        name: "postgres",
        about: "the server's tests against a throwaway PostgreSQL cluster",
        deps: &[],
        needs: || Needs {
            postgres: true,
            ..Needs::default()
        },
        run: postgres,
    },
    Stage {
        name: "wasm",
        about: "the SPA's wasm tests (wasm-bindgen-test, headless Chromium)",
        deps: &[],
        needs: || Needs {
            wasm_target: true,
            wasm_bindgen: true,
            chromium: true,
            ..Needs::default()
        },
        run: wasm,
    },
    Stage {
        name: "spa",
        about: "release build of the SPA, split into chunks (cargo, wasm-split-cli, trunk)",
        deps: &[],
        needs: Needs::spa,
        run: spa,
    },
    Stage {
        name: "size",
        about: "first-visit download size against size-budget.toml",
        deps: &["spa"],
        needs: Needs::default,
        run: size,
    },
    Stage {
        name: "server",
        about: "release build of the server",
        deps: &[],
        needs: Needs::default,
        run: server,
    },
    Stage {
        name: "schemathesis",
        about: "schemathesis --checks all (and the stateful phase) against the release server",
        deps: &["server"],
        needs: || Needs {
            schemathesis: true,
            ..Needs::default()
        },
        run: crate::robust::schemathesis::run,
    },
    Stage {
        name: "crash",
        about: "kill -9 during writes (SQLite, PostgreSQL), SIGTERM with requests in flight",
        deps: &["server"],
        needs: || Needs {
            postgres: true,
            ..Needs::default()
        },
        run: crate::robust::crash::run,
    },
    Stage {
        name: "outage",
        about: "PostgreSQL stopped and started again, a full disk under SQLite: 503 and recovery",
        deps: &["server"],
        needs: || Needs {
            postgres: true,
            ..Needs::default()
        },
        run: crate::robust::outage::run,
    },
    Stage {
        name: "hostile",
        about: "slow-loris, slow bodies, idle connections and huge headers against the release server",
        deps: &["server"],
        needs: Needs::default,
        run: crate::robust::hostile::run,
    },
    Stage {
        name: "soak",
        about: "a 1-minute mixed workload at 16 connections (SQLite): no unexpected status, no broken refresh chain",
        deps: &["server"],
        needs: Needs::default,
        run: soak,
    },
    Stage {
        name: "tsc",
        about: "type-check the Playwright specs and config",
        deps: &[],
        needs: || Needs {
            npm: true,
            ..Needs::default()
        },
        run: tsc,
    },
    Stage {
        name: "e2e",
        about: "Playwright journeys in Chromium against the release server",
        deps: &["spa", "server"],
        needs: || Needs {
            npm: true,
            chromium: true,
            ..Needs::default()
        },
        run: e2e,
    },
    Stage {
        name: "e2e-postgres",
        about: "the journeys that reach the database again, the server on a throwaway PostgreSQL",
        deps: &["spa", "server"],
        needs: || Needs {
            npm: true,
            chromium: true,
            postgres: true,
            ..Needs::default()
        },
        run: |ctx| topology::e2e_postgres(ctx, counted),
    },
    Stage {
        name: "e2e-cross-origin",
        about: "chosen journeys with the SPA on nginx (from cdn/_headers, _redirects) and the API on another origin",
        deps: &["spa", "server"],
        needs: || Needs {
            npm: true,
            chromium: true,
            nginx: true,
            ..Needs::default()
        },
        run: |ctx| topology::e2e_cross_origin(ctx, counted),
    },
    Stage {
        name: "instances",
        about: "two API processes on one PostgreSQL behind nginx round-robin",
        deps: &["server"],
        needs: || Needs {
            postgres: true,
            nginx: true,
            ..Needs::default()
        },
        run: |ctx| topology::instances(ctx, counted),
    },
];

enum Outcome {
    Passed(Counts),
    Failed(Counts, String),
    Skipped(String),
}

struct Record {
    name: &'static str,
    time: Duration,
    outcome: Outcome,
}

pub fn run(ctx: &Ctx, opts: Options) -> Result<i32> {
    if opts.list {
        for s in STAGES {
            let deps = if s.deps.is_empty() {
                String::new()
            } else {
                format!(" (needs {})", s.deps.join(", "))
            };
            println!("  {:12} {}{deps}", s.name, s.about);
        }
        return Ok(0);
    }
    let selected = select(&opts)?;
    let start = Instant::now();
    let mut records: Vec<Record> = Vec::new();
    let count = selected.len();
    for (i, stage) in selected.iter().enumerate() {
        let blocked = std::iter::once("setup")
            .chain(stage.deps.iter().copied())
            .filter(|d| *d != stage.name)
            .find(|d| {
                records
                    .iter()
                    .any(|r| r.name == *d && !matches!(r.outcome, Outcome::Passed(_)))
            });
        if let Some(dep) = blocked {
            println!(
                "\n==> [{}/{count}] {}: skipped, `{dep}` did not pass",
                i + 1,
                stage.name
            );
            records.push(Record {
                name: stage.name,
                time: Duration::ZERO,
                outcome: Outcome::Skipped(format!("`{dep}` did not pass")),
            });
            continue;
        }
        println!("\n==> [{}/{count}] {}: {}", i + 1, stage.name, stage.about);
        let began = Instant::now();
        let result = if stage.name == "setup" {
            let mut needs = Needs::default();
            for s in &selected {
                needs.merge(&(s.needs)());
            }
            tools::ensure(ctx, &needs).map(|()| Counts::default())
        } else {
            (stage.run)(ctx)
        };
        let time = began.elapsed();
        let outcome = match result {
            Ok(counts) => {
                println!("--> {} passed in {}", stage.name, proc::fmt_duration(time));
                Outcome::Passed(counts)
            }
            Err(err) => {
                let counts = err
                    .downcast_ref::<TestFailure>()
                    .map(|f| f.counts)
                    .unwrap_or_default();
                let message = format!("{err:#}");
                eprintln!(
                    "--> {} FAILED in {}: {message}",
                    stage.name,
                    proc::fmt_duration(time)
                );
                Outcome::Failed(counts, message)
            }
        };
        let failed = matches!(outcome, Outcome::Failed(..));
        records.push(Record {
            name: stage.name,
            time,
            outcome,
        });
        if failed && opts.fail_fast {
            break;
        }
    }
    Ok(summarize(&records, start.elapsed()))
}

/// The stages to run, in their fixed order: --only (plus what they depend on), minus
/// --skip; setup always.
fn select(opts: &Options) -> Result<Vec<&'static Stage>> {
    for name in opts.only.iter().chain(&opts.skip) {
        if !STAGES.iter().any(|s| s.name == name) {
            let names: Vec<&str> = STAGES.iter().map(|s| s.name).collect();
            bail!("unknown stage `{name}`; stages: {}", names.join(" "));
        }
    }
    let mut wanted: Vec<&str> = if opts.only.is_empty() {
        STAGES.iter().map(|s| s.name).collect()
    } else {
        opts.only.iter().map(String::as_str).collect()
    };
    // Close over dependencies (they are listed before their dependants).
    let mut i = 0;
    while i < wanted.len() {
        if let Some(stage) = STAGES.iter().find(|s| s.name == wanted[i]) {
            for dep in stage.deps {
                if !wanted.contains(dep) && !opts.skip.iter().any(|s| s == dep) {
                    wanted.push(dep);
                }
            }
        }
        i += 1;
    }
    wanted.push("setup");
    Ok(STAGES
        .iter()
        .filter(|s| wanted.contains(&s.name) && !opts.skip.iter().any(|k| k == s.name))
        .collect())
}

/// Prints the summary; answers the exit code. The last line is the plain
/// `N passed, N failed` that CI reads: the tests the runners reported, plus one per
/// check stage that reports no test count (fmt, clippy, builds, size).
fn summarize(records: &[Record], total: Duration) -> i32 {
    println!("\n==> Summary");
    let (mut passed, mut failed, mut skipped) = (0u64, 0u64, 0u64);
    for r in records {
        let (status, detail) = match &r.outcome {
            Outcome::Passed(c) => {
                if c.any() {
                    passed += c.passed;
                    skipped += c.skipped;
                    ("ok", tests_detail(c))
                } else {
                    passed += 1;
                    ("ok", String::new())
                }
            }
            Outcome::Failed(c, message) => {
                passed += c.passed;
                skipped += c.skipped;
                failed += c.failed.max(1);
                let first = message.lines().next().unwrap_or("").to_owned();
                let detail = if c.any() {
                    format!("{}; {first}", tests_detail(c))
                } else {
                    first
                };
                ("FAILED", detail)
            }
            Outcome::Skipped(why) => {
                skipped += 1;
                ("skipped", why.clone())
            }
        };
        let time = if r.time.is_zero() {
            String::new()
        } else {
            proc::fmt_duration(r.time)
        };
        println!(
            "  {:12} {:8} {:>7}  {}",
            r.name,
            status,
            time,
            truncate(&detail, 100)
        );
    }
    println!("  total time {}", proc::fmt_duration(total));
    let any_failed = records
        .iter()
        .any(|r| !matches!(r.outcome, Outcome::Passed(_)));
    if skipped > 0 {
        println!("{passed} passed, {failed} failed, {skipped} skipped");
    } else {
        println!("{passed} passed, {failed} failed");
    }
    if any_failed { 1 } else { 0 }
}

fn tests_detail(c: &Counts) -> String {
    let mut s = format!("{} passed, {} failed", c.passed, c.failed);
    if c.skipped > 0 {
        s.push_str(&format!(", {} skipped", c.skipped));
    }
    s
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// A test runner that failed, with what it counted before failing.
#[derive(Debug)]
struct TestFailure {
    counts: Counts,
    what: String,
}

impl std::fmt::Display for TestFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.counts.any() {
            write!(f, "{} ({} failed)", self.what, self.counts.failed)
        } else {
            write!(f, "{}", self.what)
        }
    }
}

impl std::error::Error for TestFailure {}

/// Runs a test runner; a failure carries the counts so the summary can add them up.
fn counted(cmd: &mut std::process::Command) -> Result<Counts> {
    let shown = proc::display(cmd);
    let (status, counts) = proc::run_counted(cmd)?;
    if status.success() {
        Ok(counts)
    } else {
        Err(TestFailure {
            counts,
            what: format!("`{shown}` failed ({status})"),
        }
        .into())
    }
}

/// Adds up the results of several runners of one stage, keeping every failure.
fn combine(results: impl IntoIterator<Item = Result<Counts>>) -> Result<Counts> {
    let mut counts = Counts::default();
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(c) => counts.add(c),
            Err(e) => {
                if let Some(f) = e.downcast_ref::<TestFailure>() {
                    counts.add(f.counts);
                }
                errors.push(format!("{e:#}"));
            }
        }
    }
    if errors.is_empty() {
        Ok(counts)
    } else {
        Err(TestFailure {
            counts,
            what: errors.join("; "),
        }
        .into())
    }
}

fn fmt(ctx: &Ctx) -> Result<Counts> {
    proc::run(ctx.cargo().args(["fmt", "--all", "--check"]))
        .context("formatting differs: run `cargo fmt --all`")?;
    Ok(Counts::default())
}

fn clippy(ctx: &Ctx) -> Result<Counts> {
    proc::run(ctx.cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))?;
    Ok(Counts::default())
}

fn clippy_wasm(ctx: &Ctx) -> Result<Counts> {
    // Twice: as `trunk serve` and the tests build it, and with the split points of the
    // release build (src/lazy.rs), whose code only the `split` feature compiles.
    for features in [None, Some("split")] {
        let mut cmd = ctx.cargo();
        cmd.args([
            "clippy",
            "--package",
            "microblog",
            "--target",
            tools::WASM_TARGET,
            "--all-targets",
            "--locked",
        ]);
        if let Some(features) = features {
            cmd.args(["--features", features]);
        }
        proc::run(cmd.args(["--", "-D", "warnings"]))?;
    }
    Ok(Counts::default())
}

fn has_nextest(ctx: &Ctx) -> bool {
    proc::probe(ctx.cargo().args(["nextest", "--version"])).is_some()
}

/// `cargo nextest run` over the whole workspace, or `None` without cargo-nextest. Every
/// stage runs it on the same package set (with `--package server` feature unification
/// differs, and everything would build again) and narrows it with a filterset.
pub fn nextest_run(ctx: &Ctx) -> Option<Command> {
    if !has_nextest(ctx) {
        return None;
    }
    let mut cmd = ctx.cargo();
    cmd.args([
        "nextest",
        "run",
        "--workspace",
        "--locked",
        "--no-fail-fast",
    ]);
    Some(cmd)
}

fn native(ctx: &Ctx) -> Result<Counts> {
    let Some(mut nextest) = nextest_run(ctx) else {
        // Plain cargo test runs the doctests as well.
        return counted(
            ctx.cargo()
                .args(["test", "--workspace", "--locked", "--no-fail-fast"])
                .env_remove("TEST_POSTGRES_URL"),
        );
    };
    let tests = counted(nextest.env_remove("TEST_POSTGRES_URL"));
    // nextest does not run doctests.
    let doctests = counted(
        ctx.cargo()
            .args(["test", "--workspace", "--doc", "--locked"]),
    );
    combine([tests, doctests])
}

fn postgres(ctx: &Ctx) -> Result<Counts> {
    let cluster = pg::Cluster::start(ctx)?;
    let mut cmd = if let Some(mut cmd) = nextest_run(ctx) {
        // The server's tests that open a database: the API tests and the throttle's. The
        // rest (parsers, property tests, pure functions) ran in `native`.
        cmd.args([
            "--filterset",
            "package(server) & (binary(api) | test(/^throttle::tests::/))",
        ]);
        cmd
    } else {
        let mut cmd = ctx.cargo();
        cmd.args(["test", "--package", "server", "--locked", "--no-fail-fast"]);
        cmd
    };
    cmd.env("TEST_POSTGRES_URL", cluster.url());
    let result = counted(&mut cmd);
    drop(cluster);
    match result {
        Ok(counts) if counts.passed == 0 => {
            bail!("the server ran no test against PostgreSQL (TEST_POSTGRES_URL was set)")
        }
        Err(e) if e.downcast_ref::<TestFailure>().is_some_and(|f| !f.counts.any()) => Err(e
            .context("the server's tests did not run against PostgreSQL (no tests yet, or they did not build)")),
        other => other,
    }
}

fn wasm(ctx: &Ctx) -> Result<Counts> {
    counted(
        ctx.cargo()
            .args([
                "test",
                "--package",
                "microblog",
                "--target",
                tools::WASM_TARGET,
                "--locked",
            ])
            .env("CHROMEDRIVER", tools::CHROMEDRIVER),
    )
}

fn spa(ctx: &Ctx) -> Result<Counts> {
    build::spa(ctx)?;
    Ok(Counts::default())
}

fn size(ctx: &Ctx) -> Result<Counts> {
    let report = size::measure(ctx)?;
    report.print();
    report.check(ctx)?;
    Ok(Counts::default())
}

fn server(ctx: &Ctx) -> Result<Counts> {
    build::server(ctx, true)?;
    Ok(Counts::default())
}

fn soak(ctx: &Ctx) -> Result<Counts> {
    let opts = crate::bench::soak::Options {
        minutes: 1.0,
        databases: vec!["sqlite".into()],
    };
    if !crate::bench::soak::run(ctx, &opts)? {
        bail!("the soak saw unexpected statuses or broken refresh chains");
    }
    Ok(Counts::default())
}

fn tsc(ctx: &Ctx) -> Result<Counts> {
    proc::run(ctx.cmd("tsc").current_dir(ctx.e2e()).args([
        "--noEmit",
        "--project",
        "tsconfig.json",
    ]))?;
    Ok(Counts::default())
}

fn e2e(ctx: &Ctx) -> Result<Counts> {
    let counts = counted(
        ctx.cmd("playwright")
            .current_dir(ctx.e2e())
            .arg("test")
            .env("E2E_SERVER_BIN", build::server_bin(ctx))
            .env("E2E_DIST", build::dist(ctx)),
    )?;
    if counts.passed == 0 {
        bail!("Playwright ran no test");
    }
    Ok(counts)
}
