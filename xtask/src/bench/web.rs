//! `cargo xtask bench-web`: the SPA as a person meets it. Builds the release app, serves
//! dist/ with brotli from our own server (a fresh database with one account and a feed),
//! and drives Chromium through Playwright (e2e/bench/web.mjs) on loopback and on a
//! throttled phone profile, cold and warm cache, printing medians.

use super::{PASSWORD, agent, expect_status, login, start_server};
use crate::build;
use crate::proc::{self, Ctx};
use crate::tools::{self, Needs};
use anyhow::{Result, bail};

pub struct Options {
    pub runs: usize,
    pub profiles: Option<String>,
    pub build: bool,
}

/// The account the benchmark logs in as, and the account it follows.
const USER: &str = "webbench";
const FRIEND: &str = "webfriend";
/// Posts in the benchmark user's feed: a page and a half.
const POSTS: usize = 40;

pub fn run(ctx: &Ctx, opts: Options) -> Result<()> {
    let mut needs = Needs::spa();
    needs.chromium = true;
    tools::ensure(ctx, &needs)?;
    let bin = if opts.build {
        build::spa(ctx)?;
        build::server(ctx, false)?
    } else {
        build::server_bin(ctx)
    };
    if !bin.is_file() || !build::dist(ctx).join("index.html").is_file() {
        bail!("the release server or dist/ is missing: run without --no-build");
    }
    let has_brotli = std::fs::read_dir(build::dist(ctx))?
        .flatten()
        .any(|e| e.file_name().to_string_lossy().ends_with(".wasm.br"));
    if !has_brotli {
        bail!("dist/ has no precompressed wasm: run without --no-build");
    }

    let work = proc::temp_dir("microblog-bench-web")?;
    let db = work.join("web.db");
    std::fs::File::create(&db)?;
    let result = (|| {
        let (server, base) = start_server(ctx, &bin, &db)?;
        seed(&base)?;
        let mut cmd = ctx.cmd("node");
        cmd.current_dir(ctx.e2e())
            .arg("bench/web.mjs")
            .env("BENCH_BASE_URL", &base)
            .env("BENCH_USERNAME", USER)
            .env("BENCH_PASSWORD", PASSWORD)
            .env("BENCH_RUNS", opts.runs.to_string());
        if let Some(profiles) = &opts.profiles {
            cmd.env("BENCH_PROFILES", profiles);
        }
        println!(
            "bench-web: {} runs per profile and cache state; this takes a few minutes",
            opts.runs
        );
        let outcome = proc::run(&mut cmd);
        drop(server);
        outcome
    })();
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// The benchmark account follows one other; both have posts, so the feed has a full page.
fn seed(base: &str) -> Result<()> {
    let agent = agent();
    let mut ids = Vec::new();
    for name in [USER, FRIEND] {
        let user = wire::NewUser {
            username: name.to_owned(),
            email: format!("{name}@example.com"),
            password: PASSWORD.to_owned(),
            about_me: Some("Measures how fast the app reaches a person.".into()),
        };
        let mut resp = agent.post(format!("{base}/api/users")).send_json(&user)?;
        expect_status(&resp, 201, "POST /api/users")?;
        ids.push(resp.body_mut().read_json::<wire::User>()?.id);
    }
    let (me, _) = login(&agent, base, USER)?;
    let (friend, _) = login(&agent, base, FRIEND)?;
    let friend_id = ids[1];
    let resp = agent
        .post(format!("{base}/api/me/following/{friend_id}"))
        .header("Authorization", format!("Bearer {me}"))
        .send_empty()?;
    expect_status(&resp, 204, "POST /api/me/following/{id}")?;
    for i in 0..POSTS {
        let token = if i % 2 == 0 { &me } else { &friend };
        let text = format!("Post number {i}: a few words, as people write them, to fill a feed.");
        let resp = agent
            .post(format!("{base}/api/posts"))
            .header("Authorization", format!("Bearer {token}"))
            .send_json(wire::PostText { text })?;
        expect_status(&resp, 201, "POST /api/posts")?;
    }
    Ok(())
}
