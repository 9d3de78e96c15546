//! A throwaway PostgreSQL cluster for the server's tests: initdb into a temp dir, start
//! on a free loopback port, and stop and delete it when dropped (also after a failure).

use crate::proc::{self, Ctx};
use crate::tools;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
    /// PostgreSQL refuses to run as root; as root we run it as the `postgres` user.
    as_postgres: bool,
}

impl Cluster {
    pub fn start(ctx: &Ctx) -> Result<Cluster> {
        let bin = tools::postgres_bin()
            .context("PostgreSQL is not installed (/usr/lib/postgresql/N/bin/initdb)")?;
        remove_stale_clusters();
        let dir = proc::temp_dir("microblog-pg")?;
        let as_postgres = proc::is_root();
        let cluster = Cluster {
            dir,
            bin,
            port: proc::free_port()?,
            as_postgres,
        };
        if as_postgres {
            proc::run(
                ctx.cmd("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(&cluster.dir),
            )?;
        }
        let data = cluster.dir.join("data");
        // trust: a throwaway cluster on loopback, used by the test process only.
        proc::run(
            cluster
                .pg("initdb")
                .args(["--auth=trust", "--username=postgres", "--encoding=UTF8"])
                .args(["--no-sync", "--no-instructions", "-D"])
                .arg(&data)
                .stdout(std::process::Stdio::null()),
        )
        .context("initdb failed")?;
        let started = cluster.pg_start();
        if let Err(err) = started {
            eprintln!(
                "{}",
                std::fs::read_to_string(cluster.log()).unwrap_or_default()
            );
            return Err(err.context("pg_ctl start failed (the server log is above)"));
        }
        println!(
            "postgres: throwaway cluster on 127.0.0.1:{} in {}",
            cluster.port,
            cluster.dir.display()
        );
        Ok(cluster)
    }

    fn pg_start(&self) -> Result<()> {
        // Durability off: the data dies with the test run anyway, and it is much faster.
        let options = format!(
            "-c port={} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c max_connections=300",
            self.port,
            self.dir.display()
        );
        proc::run(
            self.pg("pg_ctl")
                .args(["start", "--wait", "--timeout=60", "--silent", "-D"])
                .arg(self.dir.join("data"))
                .arg("-l")
                .arg(self.log())
                .arg("-o")
                .arg(&options),
        )
    }

    /// Stops the cluster at once (`--mode=fast`): every client loses its connections. Not
    /// `immediate`: with durability off, that would also lose the last commits.
    pub fn stop_now(&self) -> Result<()> {
        proc::run(
            self.pg("pg_ctl")
                .args(["stop", "--mode=fast", "--wait", "--silent", "-D"])
                .arg(self.dir.join("data")),
        )
    }

    /// Starts the cluster again after [`Cluster::stop_now`], on the same port.
    pub fn start_again(&self) -> Result<()> {
        self.pg_start()
    }

    /// A superuser URL; the tests create one database per test from it.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn log(&self) -> PathBuf {
        self.dir.join("postgres.log")
    }

    fn stop(&self) {
        let data = self.dir.join("data");
        if data.join("postmaster.pid").exists() {
            let status = self
                .pg("pg_ctl")
                .args(["stop", "--mode=immediate", "--wait", "--silent", "-D"])
                .arg(&data)
                .status();
            if !status.is_ok_and(|s| s.success()) {
                eprintln!(
                    "postgres: pg_ctl stop failed; the cluster in {} may still run",
                    self.dir.display()
                );
            }
        }
    }

    /// A PostgreSQL tool, run as the `postgres` user when we are root.
    fn pg(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(program);
            cmd
        } else {
            Command::new(program)
        };
        cmd.current_dir(&self.dir)
            .stdin(std::process::Stdio::null());
        cmd
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
        remove(&self.dir);
    }
}

/// Clusters left behind by a run that was killed (Ctrl-C skips Drop, and pg_ctl detaches
/// the postmaster from our session): stop them and delete their directories. The
/// directory name carries the pid of the xtask that made it.
fn remove_stale_clusters() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("microblog-pg-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
            continue; // ours, or its run is still going
        }
        let Some(bin) = tools::postgres_bin() else {
            return;
        };
        let stale = Cluster {
            dir: entry.path(),
            bin,
            port: 0,
            as_postgres: proc::is_root(),
        };
        println!("postgres: removing a cluster left by an interrupted run: {name}");
        drop(stale); // Drop stops it and deletes the directory
    }
}

fn remove(dir: &Path) {
    if let Err(err) = std::fs::remove_dir_all(dir) {
        eprintln!("postgres: could not delete {}: {err}", dir.display());
    } else {
        println!("postgres: cluster stopped and deleted");
    }
}
