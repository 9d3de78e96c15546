//! `cargo xtask bench` (written once the server exists).

use crate::proc::Ctx;
use anyhow::{Result, bail};

pub struct Options {
    pub duration_secs: u64,
    pub reseed: bool,
    pub build: bool,
}

pub fn run(_ctx: &Ctx, opts: Options) -> Result<()> {
    let _ = (opts.duration_secs, opts.reseed, opts.build);
    bail!("not yet")
}
