//! Starting before PostgreSQL is up: the server retries with backoff what may pass by
//! itself, and gives up at once on what will not. A stand-in listens where PostgreSQL
//! should be, hangs up on the first connections as a server that is not up yet would,
//! then forwards to the real one. PostgreSQL only (`TEST_POSTGRES_URL`); on SQLite there
//! is nothing to wait for, and these return at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use server::config::Config;
use server::startup::Application;
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::fresh_database_url;

/// Where PostgreSQL listens, from a `postgres://user@host:port/db` URL.
fn host_port(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap().to_owned()
}

/// Listens on a free port; hangs up on the first `refusals` connections, forwards the
/// rest to `upstream`. Answers the port and the count of connections seen.
async fn flaky_postgres(upstream: String, refusals: usize) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            if counter.fetch_add(1, Ordering::SeqCst) < refusals {
                drop(client);
                continue;
            }
            let upstream = upstream.clone();
            tokio::spawn(async move {
                if let Ok(mut server) = TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    (port, seen)
}

async fn build(database_url: &str, retry_secs: &str) -> anyhow::Result<Application> {
    let dir = tempfile::tempdir().unwrap();
    let env: HashMap<&str, String> = HashMap::from([
        ("PORT", "0".to_owned()),
        ("DATABASE_URL", database_url.to_owned()),
        ("DATABASE_CONNECT_RETRY_SECS", retry_secs.to_owned()),
        (
            "STATIC_DIR",
            dir.path().join("no-dist").display().to_string(),
        ),
        (
            "MAIL_OUTBOX",
            dir.path().join("outbox").display().to_string(),
        ),
        ("SECRET_KEY", server::secrets::generate_key()),
    ]);
    let config = Config::from_lookup(|k| env.get(k).cloned()).unwrap();
    Application::build(config).await
}

/// A fresh PostgreSQL database, and the same URL through a stand-in that hangs up on
/// the first `refusals` connections. None on SQLite.
async fn behind_a_flaky_port(refusals: usize) -> Option<(String, Arc<AtomicUsize>)> {
    std::env::var("TEST_POSTGRES_URL").ok()?;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let real = host_port(&url);
    let (port, seen) = flaky_postgres(real.clone(), refusals).await;
    Some((url.replacen(&real, &format!("127.0.0.1:{port}"), 1), seen))
}

#[tokio::test]
async fn the_server_waits_for_postgresql_to_come_up() {
    let Some((url, seen)) = behind_a_flaky_port(3).await else {
        return;
    };
    let app = build(&url, "60")
        .await
        .expect("started once PostgreSQL answered");
    // Three hang-ups, then the connection that worked (and the pool's).
    assert!(seen.load(Ordering::SeqCst) >= 4);
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));
    let health: serde_json::Value = reqwest::get(format!("{address}/api/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["database"]["answered"], true);
}

#[tokio::test]
async fn without_retries_the_server_gives_up_at_the_first_failure() {
    let Some((url, seen)) = behind_a_flaky_port(1).await else {
        return;
    };
    let err = build(&url, "0").await.err().expect("no retry");
    assert!(
        format!("{err:#}").contains("cannot connect to PostgreSQL"),
        "{err:#}"
    );
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_missing_database_is_not_waited_for() {
    let Some((url, seen)) = behind_a_flaky_port(0).await else {
        return;
    };
    let (base, _) = url.rsplit_once('/').unwrap();
    let err = build(&format!("{base}/no_such_database"), "60")
        .await
        .err()
        .expect("refused");
    assert!(format!("{err:#}").contains("no_such_database"), "{err:#}");
    assert_eq!(seen.load(Ordering::SeqCst), 1, "tried once");
}
