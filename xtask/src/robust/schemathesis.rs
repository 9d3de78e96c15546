//! The `schemathesis` stage: the API fuzzer reads `/api/openapi.json` and holds the
//! release server to it with every check (`--checks all`): no server error, only
//! documented statuses, bodies and headers as documented, schema-invalid input refused and
//! schema-valid input accepted, authentication enforced; then the stateful phase follows the
//! document's links (a post written, then read, edited and deleted).

use super::{PASSWORD, Server, agent, register, sqlite_url};
use crate::proc::{self, Counts, Ctx};
use crate::tools;
use anyhow::{Context, Result, bail};

/// Generated cases per operation and phase: enough to find what a schema misstates,
/// bounded so the stage takes a few minutes on a shared machine. (No `--max-time`: with
/// it, fuzzing repeats until the time is spent.)
const MAX_EXAMPLES: &str = "50";

pub fn run(ctx: &Ctx) -> Result<Counts> {
    let dir = proc::temp_dir("microblog-schemathesis")?;
    let result = run_in(ctx, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_in(ctx: &Ctx, dir: &std::path::Path) -> Result<Counts> {
    let server = Server::start(ctx, &sqlite_url(dir), dir, &[])?;
    let name = "schemathesis";
    register(&agent(), &server.base, name)?;
    let st = tools::schemathesis_bin(ctx);
    let here = ctx.root.join("xtask/schemathesis");
    let report = dir.join("report");
    let mut cmd = ctx.cmd(&st);
    cmd.arg("--config-file")
        .arg(here.join("schemathesis.toml"))
        .arg("--no-color")
        .arg("run")
        .arg(format!("{}/api/openapi.json", server.base))
        .args(["--checks", "all"])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        // One worker: hypothesis's introspection is not thread-safe, and two workers
        // occasionally end in a runtime error inside schemathesis.
        .args(["--workers", "1"])
        .args(["--request-timeout", "30"])
        .args(["--generation-database", "none"])
        .args(["--report", "junit"])
        .arg("--report-junit-path")
        .arg(report.join("junit.xml"))
        .env("SCHEMATHESIS_HOOKS", here.join("hooks.py"))
        .env("MICROBLOG_BASE_URL", &server.base)
        .env("MICROBLOG_EMAIL", format!("{name}@example.com"))
        .env("MICROBLOG_PASSWORD", PASSWORD);
    let shown = proc::display(&cmd);
    println!("  $ {shown}");
    let status = cmd
        .status()
        .with_context(|| format!("could not run `{shown}`"))?;
    let counts = junit_counts(&report.join("junit.xml"));
    drop(server);
    if !status.success() {
        bail!("schemathesis found failures ({status})");
    }
    Ok(counts)
}

/// Operations tested and failed, from the JUnit report (one test case per operation).
fn junit_counts(path: &std::path::Path) -> Counts {
    let Ok(xml) = std::fs::read_to_string(path) else {
        return Counts::default();
    };
    let cases = xml.matches("<testcase").count() as u64;
    let failed = xml.matches("<failure").count() as u64 + xml.matches("<error").count() as u64;
    Counts {
        passed: cases.saturating_sub(failed),
        failed,
        skipped: 0,
    }
}
