//! Installing what a fresh machine lacks. Every step first checks whether the right
//! version is already there, so a second run costs a few `--version` calls.

use crate::proc::{self, Ctx};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Trunk 0.22 needs a newer rustc than this machine has (docs/toolchain.md, "Versions").
pub const TRUNK_VERSION: &str = "0.21.14";
/// The splitter that cuts the release wasm into chunks (the one cargo-leptos uses); its
/// output must match the `wasm_split_helpers` runtime that leptos links.
pub const WASM_SPLIT_VERSION: &str = "0.2.3";
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The API fuzzer of the `schemathesis` stage, from PyPI into a virtual environment under
/// the target directory. Pinned: its checks and flags change between versions.
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// What a command needs installed.
#[derive(Clone, Debug, Default)]
pub struct Needs {
    pub wasm_target: bool,
    pub trunk: bool,
    pub wasm_split: bool,
    pub wasm_bindgen: bool,
    pub npm: bool,
    pub cargo_fetch: bool,
    pub chromium: bool,
    pub postgres: bool,
    pub wrk: bool,
    /// The static host and reverse proxy of the topology stages.
    pub nginx: bool,
    pub schemathesis: bool,
}

impl Needs {
    /// Building the SPA: everything Trunk runs, offline.
    pub fn spa() -> Needs {
        Needs {
            wasm_target: true,
            trunk: true,
            wasm_split: true,
            wasm_bindgen: true,
            npm: true,
            cargo_fetch: true,
            ..Needs::default()
        }
    }

    pub fn merge(&mut self, other: &Needs) {
        self.wasm_target |= other.wasm_target;
        self.trunk |= other.trunk;
        self.wasm_split |= other.wasm_split;
        self.wasm_bindgen |= other.wasm_bindgen;
        self.npm |= other.npm;
        self.cargo_fetch |= other.cargo_fetch;
        self.chromium |= other.chromium;
        self.postgres |= other.postgres;
        self.wrk |= other.wrk;
        self.nginx |= other.nginx;
        self.schemathesis |= other.schemathesis;
    }
}

/// Installs whatever of `needs` is missing.
pub fn ensure(ctx: &Ctx, needs: &Needs) -> Result<()> {
    let mut apt = Apt::default();
    if needs.wasm_target {
        step("rust target wasm32-unknown-unknown", || wasm_target(ctx))?;
    }
    if needs.trunk {
        step(&format!("trunk {TRUNK_VERSION}"), || trunk(ctx))?;
    }
    if needs.wasm_split {
        step(&format!("wasm-split-cli {WASM_SPLIT_VERSION}"), || {
            wasm_split(ctx)
        })?;
    }
    if needs.wasm_bindgen {
        let version = wasm_bindgen_version(ctx)?;
        step(&format!("wasm-bindgen-cli {version}"), || {
            wasm_bindgen(ctx, &version)
        })?;
    }
    if needs.npm {
        step("npm packages in e2e/", || npm(ctx))?;
    }
    if needs.cargo_fetch {
        step("crates (cargo fetch)", || cargo_fetch(ctx))?;
    }
    if needs.chromium {
        step("chromium and chromium-driver (Debian)", || {
            apt.ensure(ctx, &["chromium", "chromium-driver"])?;
            if !Path::new(CHROMEDRIVER).is_file() {
                bail!("{CHROMEDRIVER} is missing after installing chromium-driver");
            }
            Ok(false)
        })?;
    }
    if needs.postgres {
        step("postgresql (Debian)", || {
            if postgres_bin().is_some() && user_exists("postgres") {
                return Ok(false);
            }
            apt.install(ctx, &["postgresql"])?;
            postgres_bin().context("initdb not found after installing postgresql")?;
            Ok(true)
        })?;
    }
    if needs.wrk {
        step("wrk (Debian)", || apt.ensure(ctx, &["wrk"]))?;
    }
    if needs.nginx {
        // Installed, never started as a service: the tests run their own in the foreground.
        step("nginx (Debian)", || apt.ensure(ctx, &["nginx"]))?;
    }
    if needs.schemathesis {
        step(
            &format!("schemathesis {SCHEMATHESIS_VERSION} (PyPI)"),
            || schemathesis(ctx),
        )?;
    }
    Ok(())
}

/// Runs one install step; `f` answers whether it had to install anything.
fn step(what: &str, f: impl FnOnce() -> Result<bool>) -> Result<()> {
    let start = Instant::now();
    let installed = f().with_context(|| format!("installing {what}"))?;
    if installed {
        println!(
            "setup: {what}: installed in {}",
            proc::fmt_duration(start.elapsed())
        );
    } else {
        println!("setup: {what}: ok");
    }
    Ok(())
}

fn wasm_target(ctx: &Ctx) -> Result<bool> {
    let installed = proc::probe(ctx.cmd("rustup").args(["target", "list", "--installed"]))
        .context("`rustup target list --installed` failed: is rustup installed?")?;
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        return Ok(false);
    }
    proc::run(ctx.cmd("rustup").args(["target", "add", WASM_TARGET]))?;
    Ok(true)
}

fn trunk(ctx: &Ctx) -> Result<bool> {
    let want = format!("trunk {TRUNK_VERSION}");
    if proc::probe(ctx.cmd("trunk").arg("--version")).as_deref() == Some(want.as_str()) {
        return Ok(false);
    }
    proc::run(
        ctx.cargo()
            .args(["install", "trunk", "--version", TRUNK_VERSION, "--locked"]),
    )?;
    Ok(true)
}

/// `wasm-split-cli` has no `--version`: cargo's list of installed packages says which.
fn wasm_split(ctx: &Ctx) -> Result<bool> {
    let want = format!("wasm_split_cli_support v{WASM_SPLIT_VERSION}:");
    let listed = proc::probe(ctx.cargo().args(["install", "--list"])).unwrap_or_default();
    if listed.lines().any(|l| l.trim() == want) && ctx.which("wasm-split-cli").is_some() {
        return Ok(false);
    }
    proc::run(ctx.cargo().args([
        "install",
        "wasm_split_cli_support",
        "--version",
        WASM_SPLIT_VERSION,
        "--features",
        "build-binary",
        "--locked",
        "--force",
    ]))?;
    Ok(true)
}

/// The wasm-bindgen version in Cargo.lock: the CLI must be exactly this version.
pub fn wasm_bindgen_version(ctx: &Ctx) -> Result<String> {
    let lock: toml::Table =
        toml::from_str(&proc::read(&ctx.root.join("Cargo.lock"))?).context("parsing Cargo.lock")?;
    let versions: Vec<String> = lock
        .get("package")
        .and_then(|p| p.as_array())
        .context("Cargo.lock has no [[package]] entries")?
        .iter()
        .filter(|p| p.get("name").and_then(|n| n.as_str()) == Some("wasm-bindgen"))
        .filter_map(|p| p.get("version").and_then(|v| v.as_str()).map(str::to_owned))
        .collect();
    match versions.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!("Cargo.lock has no wasm-bindgen package"),
        many => bail!(
            "Cargo.lock has several wasm-bindgen versions ({}); the SPA pins one exactly",
            many.join(", ")
        ),
    }
}

fn wasm_bindgen(ctx: &Ctx, version: &str) -> Result<bool> {
    let want = format!("wasm-bindgen {version}");
    let cli_ok =
        proc::probe(ctx.cmd("wasm-bindgen").arg("--version")).as_deref() == Some(want.as_str());
    // The test runner comes in the same package; a CLI without it is a partial install.
    if cli_ok && ctx.which("wasm-bindgen-test-runner").is_some() {
        return Ok(false);
    }
    // Without --locked: the CLI's own lock file asks for a crate version the registry
    // no longer serves (docs/toolchain.md, "Versions").
    proc::run(ctx.cargo().args([
        "install",
        "wasm-bindgen-cli",
        "--version",
        version,
        "--force",
    ]))?;
    Ok(true)
}

/// `npm ci` when package-lock.json changed since the last install (a stamp in
/// node_modules remembers), `npm install` when there is no lock file yet.
fn npm(ctx: &Ctx) -> Result<bool> {
    let dir = ctx.e2e();
    let manifest = proc::read(&dir.join("package.json"))?;
    let lock_path = dir.join("package-lock.json");
    let lock = std::fs::read_to_string(&lock_path).unwrap_or_default();
    let node = proc::probe(ctx.cmd("node").arg("--version"))
        .context("node is not installed (Node.js 20 or newer is needed)")?;
    let stamp_path = dir.join("node_modules/.xtask-stamp");
    let stamp = format!(
        "{:016x}\n",
        proc::fnv1a(&[manifest.as_bytes(), lock.as_bytes(), node.as_bytes()])
    );
    if std::fs::read_to_string(&stamp_path).ok().as_deref() == Some(stamp.as_str()) {
        return Ok(false);
    }
    let verb = if lock.is_empty() { "install" } else { "ci" };
    proc::run(
        ctx.cmd("npm")
            .current_dir(&dir)
            .args([verb, "--no-audit", "--no-fund"]),
    )?;
    // `npm install` may have written the lock file; the stamp covers what is there now.
    let lock = std::fs::read_to_string(&lock_path).unwrap_or_default();
    let stamp = format!(
        "{:016x}\n",
        proc::fnv1a(&[manifest.as_bytes(), lock.as_bytes(), node.as_bytes()])
    );
    std::fs::write(&stamp_path, stamp)?;
    Ok(true)
}

/// `trunk build --offline` makes cargo offline too, so the crates must be here first.
fn cargo_fetch(ctx: &Ctx) -> Result<bool> {
    let lock = std::fs::read(ctx.root.join("Cargo.lock")).unwrap_or_default();
    let stamp_path = ctx.target_dir().join("xtask/cargo-fetch.stamp");
    let stamp = format!("{:016x}\n", proc::fnv1a(&[&lock]));
    if std::fs::read_to_string(&stamp_path).ok().as_deref() == Some(stamp.as_str()) {
        return Ok(false);
    }
    proc::run(ctx.cargo().arg("fetch"))?;
    // Cargo may have updated the lock file (a dependency added without committing it).
    let lock = std::fs::read(ctx.root.join("Cargo.lock")).unwrap_or_default();
    std::fs::create_dir_all(stamp_path.parent().context("stamp dir")?)?;
    std::fs::write(&stamp_path, format!("{:016x}\n", proc::fnv1a(&[&lock])))?;
    Ok(true)
}

/// Debian packages, with one `apt-get update` per run at most.
#[derive(Default)]
struct Apt {
    updated: bool,
}

impl Apt {
    /// Installs the packages that dpkg does not report as installed; answers whether
    /// anything was installed.
    fn ensure(&mut self, ctx: &Ctx, packages: &[&str]) -> Result<bool> {
        let missing: Vec<&str> = packages
            .iter()
            .copied()
            .filter(|p| !dpkg_installed(ctx, p))
            .collect();
        if missing.is_empty() {
            return Ok(false);
        }
        self.install(ctx, &missing)?;
        Ok(true)
    }

    fn install(&mut self, ctx: &Ctx, packages: &[&str]) -> Result<()> {
        // Wait for another apt run (e.g. unattended upgrades) instead of failing at once.
        let lock_wait = "-oDPkg::Lock::Timeout=600";
        if !self.updated {
            proc::run(ctx.privileged("apt-get").args([lock_wait, "update"]))?;
            self.updated = true;
        }
        proc::run(
            ctx.privileged("apt-get")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args([lock_wait, "install", "-y"])
                .args(packages),
        )
    }
}

fn dpkg_installed(ctx: &Ctx, package: &str) -> bool {
    proc::probe(
        ctx.cmd("dpkg-query")
            .args(["-W", "-f=${Status}"])
            .arg(package),
    )
    .is_some_and(|s| s == "install ok installed")
}

fn user_exists(name: &str) -> bool {
    std::fs::read_to_string("/etc/passwd")
        .is_ok_and(|s| s.lines().any(|l| l.split(':').next() == Some(name)))
}

/// The newest PostgreSQL server binaries Debian installed (/usr/lib/postgresql/N/bin).
pub fn postgres_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// The `st` command of the project's schemathesis, in `<target>/schemathesis-venv`.
pub fn schemathesis_bin(ctx: &Ctx) -> PathBuf {
    ctx.target_dir().join("schemathesis-venv/bin/st")
}

/// A virtual environment of its own (`python3 -m venv`), with schemathesis from PyPI.
fn schemathesis(ctx: &Ctx) -> Result<bool> {
    let st = schemathesis_bin(ctx);
    let wanted = format!("version {SCHEMATHESIS_VERSION}");
    if proc::probe(ctx.cmd(&st).arg("--version")).is_some_and(|v| v.contains(&wanted)) {
        return Ok(false);
    }
    let venv = ctx.target_dir().join("schemathesis-venv");
    let python = ctx
        .which("python3")
        .context("python3 is missing: it runs schemathesis")?;
    proc::run(ctx.cmd(python).args(["-m", "venv"]).arg(&venv))?;
    proc::run(ctx.cmd(venv.join("bin/pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("schemathesis=={SCHEMATHESIS_VERSION}"),
    ]))?;
    Ok(true)
}
