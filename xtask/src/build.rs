//! Release builds of the SPA (Trunk, offline) and of the API server.

use crate::proc::{self, Ctx};
use anyhow::{Result, bail};
use std::path::PathBuf;
use std::process::Command;

/// `trunk build --release --offline` into `dist/`.
pub fn spa(ctx: &Ctx) -> Result<()> {
    for file in ["index.html", "Trunk.toml"] {
        if !ctx.root.join(file).is_file() {
            bail!(
                "{file} is missing: the SPA (issue 3) provides index.html and Trunk.toml \
                 (with [tools] wasm_bindgen and wasm_opt pinned, see shared/docs/toolchain.md)"
            );
        }
    }
    println!("build: SPA (trunk build --release --offline)");
    proc::run(&mut trunk(ctx))
}

pub fn trunk(ctx: &Ctx) -> Command {
    let mut cmd = ctx.cmd("trunk");
    cmd.args(["build", "--release", "--offline"])
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
