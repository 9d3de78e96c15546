//! Two API processes on one PostgreSQL behind nginx round-robin: what one instance does,
//! the other knows at once. `cargo xtask test --only instances` starts the release server
//! twice at the same moment on a fresh database, nginx in front, and runs these with
//! `TOPOLOGY_PROXY_URL`, `TOPOLOGY_INSTANCE_A`, `TOPOLOGY_INSTANCE_B` and
//! `TOPOLOGY_DATABASE_URL` set; without the topology they are ignored.

use std::collections::BTreeSet;

use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, TestUser};

const IGNORED: &str = "needs the two-instance topology: cargo xtask test --only instances";

struct Topology {
    proxy: TestApp,
    a: TestApp,
    b: TestApp,
}

fn topology() -> Topology {
    let var =
        |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: {IGNORED}"));
    let database = var("TOPOLOGY_DATABASE_URL");
    Topology {
        proxy: TestApp::external(&var("TOPOLOGY_PROXY_URL"), &database),
        a: TestApp::external(&var("TOPOLOGY_INSTANCE_A"), &database),
        b: TestApp::external(&var("TOPOLOGY_INSTANCE_B"), &database),
    }
}

/// A name no other test of the run (nor an earlier run on this database) uses.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}{}", nanos % 1_000_000_000_000)
}

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.get("/api/me")
        .bearer(token)
        .send()
        .await
        .status
        .as_u16()
}

#[tokio::test]
#[ignore = "needs the two-instance topology: cargo xtask test --only instances"]
async fn both_instances_started_together_and_the_migrations_ran_once() {
    let t = topology();
    for instance in [&t.a, &t.b] {
        let health = instance.get("/api/health").send().await;
        health.assert_status(200);
        assert_eq!(health.body["database"]["backend"], "postgres");
        assert_eq!(health.body["database"]["answered"], true);
        assert_eq!(health.body["database"]["max_connections"], 4);
    }
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".sql"))
        })
        .count();
    let applied =
        t.a.count("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
            .await;
    assert_eq!(applied, i64::try_from(migrations).unwrap());
    assert_eq!(
        t.a.count("SELECT COUNT(*) FROM _sqlx_migrations").await,
        applied
    );
}

#[tokio::test]
#[ignore = "needs the two-instance topology: cargo xtask test --only instances"]
async fn a_session_created_on_one_instance_refreshes_on_the_other() {
    let t = topology();
    let user: TestUser = t.a.user(&unique("roamer")).await;
    let refreshed = t.b.refresh(&user.refresh_token).await;
    refreshed.assert_status(200);
    let token = refreshed.body["access_token"].as_str().unwrap();
    // Signed by B, accepted by A: one key set in the database.
    assert_eq!(me_status(&t.a, token).await, 200);
    assert_eq!(me_status(&t.b, &user.access_token).await, 200);
    // And the rotated cookie goes on at A.
    t.a.refresh(&refreshed.refresh_cookie().unwrap())
        .await
        .assert_status(200);
}

#[tokio::test]
#[ignore = "needs the two-instance topology: cargo xtask test --only instances"]
async fn refresh_token_reuse_detected_on_one_instance_revokes_the_family_on_both() {
    let t = topology();
    let user = t.a.user(&unique("reused")).await;
    let r1 =
        t.b.refresh(&user.refresh_token)
            .await
            .refresh_cookie()
            .unwrap();
    let second = t.a.refresh(&r1).await;
    second.assert_status(200);
    let r2 = second.refresh_cookie().unwrap();
    let a2 = second.body["access_token"].as_str().unwrap().to_owned();

    // The first token, older than the predecessor: a thief's replay, at B.
    t.b.refresh(&user.refresh_token).await.assert_error(401);

    t.a.refresh(&r2).await.assert_error(401);
    assert_eq!(me_status(&t.a, &a2).await, 401);
    assert_eq!(me_status(&t.b, &a2).await, 401);
}

#[tokio::test]
#[ignore = "needs the two-instance topology: cargo xtask test --only instances"]
async fn logout_on_one_instance_ends_the_access_token_on_the_other_at_once() {
    let t = topology();
    let user = t.a.user(&unique("leaver")).await;
    assert_eq!(me_status(&t.b, &user.access_token).await, 200);
    t.a.delete("/api/tokens")
        .bearer(&user.access_token)
        .json(&json!({}))
        .send()
        .await
        .assert_status(204);
    assert_eq!(me_status(&t.b, &user.access_token).await, 401);
    t.b.refresh(&user.refresh_token).await.assert_error(401);
}

#[tokio::test]
#[ignore = "needs the two-instance topology: cargo xtask test --only instances"]
async fn the_login_throttle_counts_the_attempts_sent_to_both_instances() {
    let t = topology();
    let name = unique("guarded");
    t.proxy
        .post("/api/users")
        .json(&json!({"username": name, "email": format!("{name}@example.com"), "password": PASSWORD}))
        .send()
        .await
        .assert_status(201);
    // THROTTLE_LOGIN_PAIR is 5/900: five wrong passwords, through the balancer.
    let mut answered_by = BTreeSet::new();
    for _ in 0..5 {
        let wrong = t.proxy.login(&name, "not the password at all").await;
        wrong.assert_error(401);
        answered_by.insert(wrong.headers["x-upstream"].to_str().unwrap().to_owned());
    }
    assert_eq!(
        answered_by.len(),
        2,
        "round-robin reached both: {answered_by:?}"
    );
    // Each instance saw some of the five; both refuse the sixth, even the right password.
    for instance in [&t.a, &t.b, &t.proxy] {
        let refused = instance.login(&name, PASSWORD).await;
        refused.assert_error(429);
        assert!(refused.headers.contains_key("retry-after"));
    }
}
