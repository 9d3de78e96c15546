//! Running commands: one place that sets PATH, echoes what runs and turns failures
//! into errors that name the command.

use anyhow::{Context, Result, bail};
use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// Where the repository is and the environment every child process gets.
pub struct Ctx {
    pub root: PathBuf,
    path: OsString,
    cargo: OsString,
}

impl Ctx {
    pub fn new() -> Result<Self> {
        // `cargo run` sets CARGO_MANIFEST_DIR for the program too; the compile-time value
        // is the fallback when the binary is started by hand.
        let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let root = manifest
            .parent()
            .context("xtask has no parent directory")?
            .to_path_buf();
        if !root.join("Cargo.toml").is_file() {
            bail!("{} does not look like the repository root", root.display());
        }
        // Tools installed by `cargo install` (trunk, wasm-bindgen) and by npm (binaryen's
        // wasm-opt) come first: Debian's old wasm-opt in /usr/bin must never win.
        let mut dirs = vec![cargo_home().join("bin"), root.join("e2e/node_modules/.bin")];
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let path = std::env::join_paths(dirs).context("PATH")?;
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        Ok(Ctx { root, path, cargo })
    }

    /// A command that runs in the repository root with our PATH and no stdin.
    pub fn cmd(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.root)
            .env("PATH", &self.path)
            .stdin(Stdio::null());
        if std::io::stdout().is_terminal() {
            cmd.env("CARGO_TERM_COLOR", "always");
        }
        cmd
    }

    pub fn cargo(&self) -> Command {
        self.cmd(&self.cargo)
    }

    /// A command for the system package manager: run directly as root, else via sudo.
    pub fn privileged(&self, program: &str) -> Command {
        if is_root() {
            self.cmd(program)
        } else {
            let mut cmd = self.cmd("sudo");
            cmd.arg(program);
            cmd
        }
    }

    /// Finds a program on our PATH.
    pub fn which(&self, program: &str) -> Option<PathBuf> {
        std::env::split_paths(&self.path)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    }

    /// Cargo's target directory (CARGO_TARGET_DIR is honoured).
    pub fn target_dir(&self) -> PathBuf {
        match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => self.root.join(dir),
            None => self.root.join("target"),
        }
    }

    pub fn e2e(&self) -> PathBuf {
        self.root.join("e2e")
    }
}

pub fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".cargo"))
}

pub fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"))
}

pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}

/// The command line as a person would type it (for logs and error messages).
pub fn display(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program());
    // $CARGO is the toolchain's full path; people type `cargo`.
    let mut s = if program.file_name().is_some_and(|n| n == "cargo") {
        "cargo".to_owned()
    } else {
        program.to_string_lossy().into_owned()
    };
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy();
        s.push(' ');
        if arg.is_empty() || arg.contains([' ', '"', '\'']) {
            s.push_str(&format!("'{arg}'"));
        } else {
            s.push_str(&arg);
        }
    }
    s
}

/// Runs a command with inherited output; an unsuccessful exit is an error.
pub fn run(cmd: &mut Command) -> Result<()> {
    let shown = display(cmd);
    println!("  $ {shown}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    check(status, &shown)
}

pub fn check(status: ExitStatus, shown: &str) -> Result<()> {
    if status.success() {
        Ok(())
    } else {
        bail!("`{shown}` failed ({status})")
    }
}

/// Runs a command and returns its stdout; None when it cannot start or fails.
/// For probes such as `tool --version`.
pub fn probe(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Test counts read from a runner's closing lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
}

impl Counts {
    pub fn add(&mut self, other: Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
    }

    pub fn any(&self) -> bool {
        self.passed + self.failed + self.skipped > 0
    }
}

/// Runs a test runner, echoing its output live, and adds up the counts it prints
/// (libtest's `test result:`, nextest's `Summary`, Playwright's `N passed`).
pub fn run_counted(cmd: &mut Command) -> Result<(ExitStatus, Counts)> {
    let shown = display(cmd);
    println!("  $ {shown}");
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not start `{shown}`"))?;
    let out = child.stdout.take().context("stdout")?;
    let err = child.stderr.take().context("stderr")?;
    let counts = Mutex::new(Counts::default());
    std::thread::scope(|s| {
        s.spawn(|| pump(out, &mut std::io::stdout(), &counts));
        s.spawn(|| pump(err, &mut std::io::stderr(), &counts));
    });
    let status = child.wait()?;
    let counts = counts.into_inner().unwrap_or_default();
    Ok((status, counts))
}

fn pump(from: impl Read, to: &mut dyn Write, counts: &Mutex<Counts>) {
    let mut reader = BufReader::new(from);
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
        let _ = to.write_all(&line);
        let _ = to.flush();
        let text = strip_ansi(&String::from_utf8_lossy(&line));
        if let Some(c) = parse_counts(&text)
            && let Ok(mut total) = counts.lock()
        {
            total.add(c);
        }
        line.clear();
    }
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ ... final byte in @..~
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads the counts from one closing line of libtest, nextest or Playwright.
pub fn parse_counts(line: &str) -> Option<Counts> {
    let line = line.trim();
    let tail = if let Some((_, tail)) = line.split_once("test result:") {
        tail // libtest and wasm-bindgen-test-runner
    } else if line.starts_with("Summary [") {
        line.split_once(" run:")?.1 // nextest
    } else {
        // Playwright's closing block: "12 passed (3.4s)", "1 failed", "2 skipped".
        let mut words = line.split_whitespace();
        let n = words.next()?.parse::<u64>().ok()?;
        let word = words.next()?;
        let rest: Vec<&str> = words.collect();
        let timing = rest.is_empty() || (rest.len() == 1 && rest[0].starts_with('('));
        if !timing {
            return None;
        }
        return match word {
            "passed" => Some(Counts {
                passed: n,
                ..Counts::default()
            }),
            "failed" | "interrupted" => Some(Counts {
                failed: n,
                ..Counts::default()
            }),
            "skipped" => Some(Counts {
                skipped: n,
                ..Counts::default()
            }),
            "flaky" => Some(Counts {
                failed: n,
                ..Counts::default()
            }),
            _ => None,
        };
    };
    let mut counts = Counts::default();
    let words: Vec<String> = tail
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_owned())
        .collect();
    for pair in words.windows(2) {
        let Ok(n) = pair[0].parse::<u64>() else {
            continue;
        };
        match pair[1].as_str() {
            "passed" => counts.passed += n,
            "failed" | "timed" => counts.failed += n,
            "skipped" | "ignored" => counts.skipped += n,
            _ => {}
        }
    }
    Some(counts)
}

/// A child process that is killed when dropped (servers started for tests and benches).
pub struct Guard {
    pub child: std::process::Child,
    pub name: String,
}

impl Guard {
    pub fn spawn(cmd: &mut Command, name: &str) -> Result<Guard> {
        let shown = display(cmd);
        println!("  $ {shown} &");
        let child = cmd
            .spawn()
            .with_context(|| format!("could not start `{shown}`"))?;
        Ok(Guard {
            child,
            name: name.to_owned(),
        })
    }

    /// Waits until `addr` accepts TCP connections, or fails if the process exits first.
    pub fn wait_for_port(&mut self, addr: &str, timeout: Duration) -> Result<()> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{} exited before it listened on {addr} ({status})",
                    self.name
                );
            }
            if std::net::TcpStream::connect(addr).is_ok() {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                bail!("{} did not listen on {addr} within {timeout:?}", self.name);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SIGTERM first, so the server shuts down gracefully; then make sure.
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(self.child.id().to_string())
                .status();
            for _ in 0..50 {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A free TCP port on the loopback interface (the OS picks it; there is a small race
/// between closing it here and the server binding it, acceptable for tests).
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(prefix: &str) -> Result<PathBuf> {
    let base = std::env::temp_dir();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = base.join(format!("{prefix}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// A stable 64-bit FNV-1a hash (stamp files; `DefaultHasher` may change between Rust
/// versions).
pub fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in *part {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

pub fn fmt_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// Reads a file relative to the repository root, with the path in the error.
pub fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(passed: u64, failed: u64, skipped: u64) -> Option<Counts> {
        Some(Counts {
            passed,
            failed,
            skipped,
        })
    }

    #[test]
    fn reads_libtest_result_lines() {
        assert_eq!(
            parse_counts(
                "test result: ok. 3 passed; 1 failed; 2 ignored; 0 measured; 5 filtered out; finished in 0.01s"
            ),
            c(3, 1, 2)
        );
    }

    #[test]
    fn reads_nextest_summary_lines() {
        assert_eq!(
            parse_counts("     Summary [   1.234s] 12 tests run: 10 passed, 2 failed, 1 skipped"),
            c(10, 2, 1)
        );
        assert_eq!(
            parse_counts("     Summary [   0.004s] 1 test run: 1 passed, 0 skipped"),
            c(1, 0, 0)
        );
    }

    #[test]
    fn reads_playwright_closing_lines() {
        assert_eq!(parse_counts("  12 passed (3.4s)"), c(12, 0, 0));
        assert_eq!(parse_counts("  1 failed"), c(0, 1, 0));
        assert_eq!(parse_counts("  2 skipped"), c(0, 0, 2));
    }

    #[test]
    fn ignores_other_lines() {
        assert_eq!(parse_counts("Starting 12 tests across 3 binaries"), None);
        assert_eq!(parse_counts("3 passed the checks we care about"), None);
        assert_eq!(parse_counts("        PASS [   0.004s] wire tests::x"), None);
    }

    #[test]
    fn strips_colour_codes() {
        assert_eq!(
            strip_ansi("\u{1b}[32;1m12 passed\u{1b}[0m (1s)"),
            "12 passed (1s)"
        );
    }

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a(&[b"a"]), fnv1a(&[b"a"]));
        assert_ne!(fnv1a(&[b"a", b"b"]), fnv1a(&[b"ab"]));
    }
}
