//! Release builds of the SPA (split into chunks, see split.rs) and of the API server.

use crate::proc::{self, Ctx};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The split release build of the SPA into `dist/` (split.rs).
pub fn spa(ctx: &Ctx) -> Result<()> {
    for file in ["index.html", "Trunk.toml"] {
        if !ctx.root.join(file).is_file() {
            bail!(
                "{file} is missing: the SPA's release build needs index.html and Trunk.toml at \
                 the repository root (Trunk.toml pins wasm_bindgen and wasm_opt under [tools])"
            );
        }
    }
    // The pipeline re-runs wasm-bindgen and wasm-opt even when nothing changed (a minute on
    // a busy machine): skip it when no input changed since the last successful build.
    let stamp_path = ctx.target_dir().join("xtask/spa.stamp");
    let stamp = format!("{:016x}\n", fingerprint(ctx)?);
    if std::fs::read_to_string(&stamp_path).ok().as_deref() == Some(stamp.as_str()) {
        println!("build: SPA is up to date (no input changed since the last build)");
        return Ok(());
    }
    println!("build: SPA (cargo, wasm-split-cli, wasm-bindgen, wasm-opt, trunk)");
    let _ = std::fs::remove_file(&stamp_path);
    crate::split::build(ctx, &dist(ctx))?;
    let compressed = crate::compress::dist(&dist(ctx))?;
    println!(
        "build: wrote .br and .gz beside {} files of dist/ ({} bytes raw, {} brotli)",
        compressed.files, compressed.raw, compressed.brotli
    );
    // Fingerprint again: dist/ is part of it, and it just changed.
    std::fs::create_dir_all(stamp_path.parent().context("stamp dir")?)?;
    std::fs::write(&stamp_path, format!("{:016x}\n", fingerprint(ctx)?))?;
    Ok(())
}

/// What the SPA build depends on: the sources of the SPA and the wire crate, the
/// manifests, Trunk's inputs, the toolchain, and what is in dist/ now (so a deleted or
/// edited build is rebuilt). Sizes and modification times, not contents: cheap.
fn fingerprint(ctx: &Ctx) -> Result<u64> {
    let mut entries = Vec::new();
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "index.html",
        "Trunk.toml",
        ".cargo/config.toml",
        "xtask/src/split.rs",
    ] {
        describe(&ctx.root.join(file), &mut entries);
    }
    for dir in ["src", "wire", "style", "js", "public", "assets", "dist"] {
        walk(&ctx.root.join(dir), &mut entries);
    }
    entries.sort();
    let rustc = proc::probe(ctx.cmd("rustc").arg("-V")).unwrap_or_default();
    let trunk = proc::probe(ctx.cmd("trunk").arg("--version")).unwrap_or_default();
    let splitter = crate::tools::WASM_SPLIT_VERSION;
    let flags = std::env::var("RUSTFLAGS").unwrap_or_default();
    let mut parts: Vec<&[u8]> = vec![
        rustc.as_bytes(),
        trunk.as_bytes(),
        splitter.as_bytes(),
        flags.as_bytes(),
    ];
    parts.extend(entries.iter().map(|e| e.as_bytes()));
    Ok(proc::fnv1a(&parts))
}

fn walk(dir: &Path, out: &mut Vec<String>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in read.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            describe(&path, out);
        }
    }
}

fn describe(path: &Path, out: &mut Vec<String>) {
    if let Ok(meta) = std::fs::metadata(path) {
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        out.push(format!("{} {} {modified}", path.display(), meta.len()));
    }
}

/// `trunk build --release --offline` of the HTML file `target`.
pub fn trunk(ctx: &Ctx, target: &str) -> Command {
    let mut cmd = ctx.cmd("trunk");
    cmd.args(["build", target, "--release", "--offline"])
        // Trunk would otherwise ask GitHub for its latest version: no network here.
        .env("TRUNK_SKIP_VERSION_CHECK", "true");
    cmd
}

/// `cargo build --release -p server`; `locked` for CI, where Cargo.lock must be current.
pub fn server(ctx: &Ctx, locked: bool) -> Result<PathBuf> {
    println!("build: server (cargo build --release -p server)");
    let mut cmd = ctx.cargo();
    cmd.args(["build", "--release", "--package", "server"]);
    if locked {
        cmd.arg("--locked");
    }
    proc::run(&mut cmd)?;
    let bin = server_bin(ctx);
    if !bin.is_file() {
        bail!("{} was not built", bin.display());
    }
    Ok(bin)
}

pub fn server_bin(ctx: &Ctx) -> PathBuf {
    ctx.target_dir().join("release/server")
}

pub fn dist(ctx: &Ctx) -> PathBuf {
    ctx.root.join("dist")
}
