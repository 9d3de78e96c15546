//! The load itself: wrk scenarios against the seeded server, and the report.

use super::seed::{POSTS, username};
use super::{agent, basic, login, start_server, url_encode};
use crate::proc::Ctx;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const CONNECTIONS: usize = 16;

struct Measured {
    name: String,
    connections: usize,
    requests: u64,
    secs: f64,
    p50_us: u64,
    p99_us: u64,
    non_2xx: u64,
    socket_errors: u64,
    target: Option<Target>,
    /// The server's VmHWM after this scenario (KiB): which scenario raised the peak.
    peak_kib: Option<u64>,
}

struct Target {
    min_rps: Option<f64>,
    max_p99_ms: f64,
}

pub(super) fn bench(ctx: &Ctx, bin: &Path, seeded: &Path, work: &Path, secs: u64) -> Result<()> {
    // Work on a copy: logins and rotations add sessions.
    let db = work.join("bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", seeded.display()));
        if from.exists() {
            std::fs::copy(&from, format!("{}{suffix}", db.display()))?;
        }
    }
    let load_before = load_average();
    let (server, base) = start_server(ctx, bin, &db)?;
    let pid = server.child.id();
    let agent = agent();

    // The bench user, and 16 sessions for the refresh scenario (one per connection).
    let (token, _) = login(&agent, &base, &username(0))?;
    let sessions: Vec<String> = (1..=CONNECTIONS)
        .map(|i| login(&agent, &base, &username(i)).map(|(_, cookie)| cookie))
        .collect::<Result<_>>()?;
    let logins: Vec<String> = (1..=CONNECTIONS).map(|i| basic(&username(i))).collect();
    let me: wire::User = agent
        .get(format!("{base}/api/me"))
        .header("Authorization", format!("Bearer {token}"))
        .call()?
        .body_mut()
        .read_json()?;
    let following: wire::Page<wire::User> = agent
        .get(format!("{base}/api/me/following?limit=1"))
        .header("Authorization", format!("Bearer {token}"))
        .call()?
        .body_mut()
        .read_json()?;
    let feed: wire::Page<wire::Post> = agent
        .get(format!("{base}/api/feed"))
        .header("Authorization", format!("Bearer {token}"))
        .call()?
        .body_mut()
        .read_json()?;
    // A cursor in the middle of the timeline: the query must skip half the posts.
    let middle: wire::Page<wire::Post> = agent
        .get(format!("{base}/api/posts?offset={}&limit=1", POSTS / 2))
        .header("Authorization", format!("Bearer {token}"))
        .call()?
        .body_mut()
        .read_json()?;
    let after = middle
        .data
        .first()
        .map(|p| p.timestamp.to_string())
        .context("no post in the middle of the timeline: is the database seeded?")?;
    println!(
        "bench: {} follows {} users; their feed holds {} posts; {} posts in all",
        me.username, following.pagination.total, feed.pagination.total, middle.pagination.total
    );

    let bearer = format!("Bearer {token}");
    let scripts = work.join("lua");
    std::fs::create_dir_all(&scripts)?;
    let mut results = Vec::new();
    let get = |path: &str| Scenario {
        method: "GET",
        path: path.to_owned(),
        headers: vec![("Authorization".into(), bearer.clone())],
        body: None,
        per_connection: None,
        rotate_cookie: false,
    };
    // What browsers send: the server may compress the feed, and this measures what that costs.
    let mut feed_compressed = get("/api/feed");
    feed_compressed
        .headers
        .push(("Accept-Encoding".into(), "gzip, deflate, br, zstd".into()));
    let scenarios = [
        (
            "GET /api/me",
            get("/api/me"),
            Some(Target {
                min_rps: Some(8000.0),
                max_p99_ms: 10.0,
            }),
        ),
        (
            "GET /api/feed",
            get("/api/feed"),
            Some(Target {
                min_rps: Some(5000.0),
                max_p99_ms: 10.0,
            }),
        ),
        (
            "GET /api/feed, accepting br",
            feed_compressed,
            Some(Target {
                min_rps: Some(5000.0),
                max_p99_ms: 10.0,
            }),
        ),
        (
            "GET /api/posts?after=",
            get(&format!("/api/posts?after={}", url_encode(&after))),
            Some(Target {
                min_rps: None,
                max_p99_ms: 10.0,
            }),
        ),
        (
            "PUT /api/tokens",
            Scenario {
                method: "PUT",
                path: "/api/tokens".into(),
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: Some("{}".into()),
                per_connection: Some((
                    "Cookie",
                    sessions
                        .iter()
                        .map(|c| format!("refresh_token={c}"))
                        .collect(),
                )),
                rotate_cookie: true,
            },
            None,
        ),
        (
            "POST /api/tokens",
            Scenario {
                method: "POST",
                path: "/api/tokens".into(),
                headers: vec![],
                body: None,
                per_connection: Some(("Authorization", logins.clone())),
                rotate_cookie: false,
            },
            None,
        ),
    ];
    for (name, scenario, target) in scenarios {
        println!("bench: {name} for {secs}s at {CONNECTIONS} connections");
        let script = scripts.join(format!("{}.lua", results.len()));
        let out = run_wrk(ctx, &base, &scenario, &script, secs)?;
        let mut measured = out.into_measured(name, target);
        measured.peak_kib = peak_rss_kib(pid);
        results.push(measured);
    }

    // GET /api/me while 16 clients log in as fast as they can: hashing must not starve
    // the async runtime.
    println!("bench: GET /api/me while {CONNECTIONS} clients hammer POST /api/tokens, {secs}s");
    let storm = Scenario {
        method: "POST",
        path: "/api/tokens".into(),
        headers: vec![],
        body: None,
        per_connection: Some(("Authorization", logins)),
        rotate_cookie: false,
    };
    let (probe, hammer) = std::thread::scope(|s| {
        let hammer = s.spawn(|| run_wrk(ctx, &base, &storm, &scripts.join("storm.lua"), secs + 2));
        std::thread::sleep(Duration::from_secs(1));
        let probe = run_wrk(
            ctx,
            &base,
            &get("/api/me"),
            &scripts.join("probe.lua"),
            secs,
        );
        (probe, hammer.join())
    });
    results.push(probe?.into_measured(
        "GET /api/me during login storm",
        Some(Target {
            min_rps: None,
            max_p99_ms: 20.0,
        }),
    ));
    let hammer = hammer.map_err(|_| anyhow::anyhow!("wrk thread panicked"))??;
    let mut storm = hammer.into_measured("  (the storm: POST /api/tokens)", None);
    storm.peak_kib = peak_rss_kib(pid);
    results.push(storm);

    let peak = peak_rss_kib(pid);
    drop(server);
    report(&results, peak, secs, &load_before);
    Ok(())
}

struct Scenario {
    method: &'static str,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
    /// A header whose value differs per connection (one wrk thread per connection).
    per_connection: Option<(&'static str, Vec<String>)>,
    /// Replace the refresh cookie with the one each answer sets (rotation).
    rotate_cookie: bool,
}

struct WrkOut {
    connections: usize,
    requests: u64,
    duration_us: u64,
    p50_us: u64,
    p99_us: u64,
    non_2xx: u64,
    socket_errors: u64,
}

impl WrkOut {
    fn into_measured(self, name: &str, target: Option<Target>) -> Measured {
        Measured {
            name: name.to_owned(),
            connections: self.connections,
            requests: self.requests,
            secs: self.duration_us as f64 / 1e6,
            p50_us: self.p50_us,
            p99_us: self.p99_us,
            non_2xx: self.non_2xx,
            socket_errors: self.socket_errors,
            target,
            peak_kib: None,
        }
    }
}

fn lua_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn lua_script(s: &Scenario) -> String {
    let mut lua = String::new();
    let headers: Vec<String> = s
        .headers
        .iter()
        .map(|(k, v)| format!("[{}] = {}", lua_string(k), lua_string(v)))
        .collect();
    lua.push_str(&format!("local headers = {{ {} }}\n", headers.join(", ")));
    lua.push_str(&format!(
        "local body = {}\n",
        s.body
            .as_deref()
            .map(lua_string)
            .unwrap_or_else(|| "nil".into())
    ));
    match &s.per_connection {
        Some((name, values)) => {
            let values: Vec<String> = values.iter().map(|v| lua_string(v)).collect();
            lua.push_str(&format!(
                "local values = {{ {} }}\n\
                 local counter = 0\n\
                 function setup(thread)\n  counter = counter + 1\n  thread:set(\"slot\", counter)\n end\n\
                 function init(args)\n  value = values[((slot or 1) - 1) % #values + 1]\n end\n\
                 function request()\n  headers[{}] = value\n  return wrk.format({}, {}, headers, body)\n end\n",
                values.join(", "),
                lua_string(name),
                lua_string(s.method),
                lua_string(&s.path),
            ));
        }
        None => {
            lua.push_str(&format!(
                "wrk.method = {}\nwrk.path = {}\nwrk.body = body\nfor k, v in pairs(headers) do wrk.headers[k] = v end\n",
                lua_string(s.method),
                lua_string(&s.path)
            ));
        }
    }
    if s.rotate_cookie {
        lua.push_str(
            "function response(status, hdrs, resp_body)\n\
             \x20 local set = hdrs[\"set-cookie\"] or hdrs[\"Set-Cookie\"]\n\
             \x20 if status == 200 and set then\n\
             \x20   local v = set:match(\"refresh_token=([^;]*)\")\n\
             \x20   if v and v ~= \"\" then value = \"refresh_token=\" .. v end\n\
             \x20 end\n\
             end\n",
        );
    }
    lua.push_str(
        "function done(summary, latency, requests)\n\
         \x20 local e = summary.errors\n\
         \x20 io.write(string.format(\"XTASK-RESULT %d %d %d %d %d %d\\n\", summary.requests, summary.duration,\n\
         \x20   latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))\n\
         end\n",
    );
    lua
}

fn run_wrk(ctx: &Ctx, base: &str, s: &Scenario, script: &Path, secs: u64) -> Result<WrkOut> {
    std::fs::write(script, lua_script(s))?;
    // Per-connection state lives in a wrk thread, so those scenarios use one thread per
    // connection; the others use one thread per core.
    let threads = if s.per_connection.is_some() {
        CONNECTIONS
    } else {
        2
    };
    let mut cmd: Command = ctx.cmd("wrk");
    cmd.arg(format!("--threads={threads}"))
        .arg(format!("--connections={CONNECTIONS}"))
        .arg(format!("--duration={secs}s"))
        .arg("--timeout=10s")
        .arg("--script")
        .arg(script)
        .arg(format!(
            "{base}{}",
            if s.per_connection.is_some() {
                "/"
            } else {
                &s.path
            }
        ));
    let out = cmd.output().context("running wrk")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "wrk failed ({}): {stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("XTASK-RESULT "))
        .with_context(|| format!("wrk printed no result:\n{stdout}"))?;
    let n: Vec<u64> = line
        .split_whitespace()
        .map(|w| w.parse::<f64>().map(|f| f as u64))
        .collect::<Result<_, _>>()
        .context("wrk result")?;
    let [
        requests,
        duration_us,
        p50_us,
        p99_us,
        non_2xx,
        socket_errors,
    ] = n[..]
    else {
        bail!("wrk result has {} numbers", n.len());
    };
    Ok(WrkOut {
        connections: CONNECTIONS,
        requests,
        duration_us,
        p50_us,
        p99_us,
        non_2xx,
        socket_errors,
    })
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

fn ms(us: u64) -> String {
    format!("{:.2}ms", us as f64 / 1000.0)
}

/// The 1-minute load average: other work on the machine skews p99 above all.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

fn report(results: &[Measured], peak_kib: Option<u64>, secs: u64, load_before: &str) {
    println!(
        "\nResults ({secs}s per scenario, wrk on loopback, 2 cores shared by wrk and the server;\n\
         load average {load_before} before, {} after: above 2, other work skews the numbers):",
        load_average()
    );
    println!(
        "  {:34} {:>5} {:>9} {:>9} {:>9} {:>7} {:>6} {:>8}  target",
        "scenario", "conns", "req/s", "p50", "p99", "non-2xx", "errors", "peak MiB"
    );
    for r in results {
        let rps = r.requests as f64 / r.secs.max(0.001);
        let verdict = match &r.target {
            None => String::new(),
            Some(t) => {
                let mut parts = Vec::new();
                if let Some(min) = t.min_rps {
                    parts.push(format!("≥{min:.0} req/s"));
                }
                parts.push(format!("p99 ≤{}ms", t.max_p99_ms));
                let met = t.min_rps.is_none_or(|m| rps >= m)
                    && (r.p99_us as f64) <= t.max_p99_ms * 1000.0;
                format!(
                    "{} {}",
                    parts.join(", "),
                    if met { "met" } else { "MISSED" }
                )
            }
        };
        let peak = r
            .peak_kib
            .map(|k| format!("{:.0}", k as f64 / 1024.0))
            .unwrap_or_default();
        println!(
            "  {:34} {:>5} {:>9.0} {:>9} {:>9} {:>7} {:>6} {:>8}  {verdict}",
            r.name,
            r.connections,
            rps,
            ms(r.p50_us),
            ms(r.p99_us),
            r.non_2xx,
            r.socket_errors,
            peak
        );
    }
    match peak_kib {
        Some(kib) => println!(
            "  server peak memory (VmHWM): {:.1} MiB",
            kib as f64 / 1024.0
        ),
        None => println!("  server peak memory: unavailable (/proc/<pid>/status unreadable)"),
    }
    println!(
        "\nNotes:\n\
         - PUT /api/tokens: each connection holds its own login session and sends the refresh\n\
         \x20 cookie of the previous answer, so every request is a real rotation (one write\n\
         \x20 transaction). A non-2xx count above 0 means a rotation chain broke.\n\
         - POST /api/tokens verifies an Argon2id hash (19 MiB, t=2) per request: it measures the\n\
         \x20 hash and the server's limit on concurrent hashes, by design slow.\n\
         - The login storm runs in a second wrk process; the GET /api/me row beside it shows\n\
         \x20 whether hashing starves the async runtime.\n\
         - Targets are goals, not tests: a MISSED target does not fail this command."
    );
}
