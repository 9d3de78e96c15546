//! The throttle against a real database: SQLite in a temporary folder, or, with
//! `TEST_POSTGRES_URL` set (the `postgres` stage), a fresh PostgreSQL database per test.

use std::sync::Arc;

use sqlx::Connection;

use super::*;

const SEC: i64 = 1_000_000;

fn limit(max: u32, secs: u64) -> Limit {
    Limit {
        max,
        window: Duration::from_secs(secs),
    }
}

fn limits() -> Throttling {
    Throttling {
        login_pair: limit(3, 900),
        login_address: limit(10, 900),
        login_account: limit(5, 60),
        two_factor_account: limit(3, 900),
        two_factor_address: limit(10, 900),
        two_factor_challenge: limit(2, 900),
        reauth: limit(2, 900),
        register_address: limit(2, 3600),
        reset_address: limit(3, 900),
        reset_email: limit(2, 900),
    }
}

/// A fresh database, and what must live as long as it.
struct TestDb {
    url: String,
    _dir: tempfile::TempDir,
}

impl TestDb {
    async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = match std::env::var("TEST_POSTGRES_URL") {
            Ok(admin) if !admin.is_empty() => {
                let name = format!(
                    "throttle_{}",
                    &crate::auth::token::hash(&crate::auth::token::generate())[..24]
                );
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .expect("connect to TEST_POSTGRES_URL");
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut conn)
                    .await
                    .expect("create a test database");
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                format!("{base}/{name}")
            }
            _ => format!("sqlite://{}", dir.path().join("throttle.db").display()),
        };
        Self { url, _dir: dir }
    }

    /// An instance's view of the database: its own pools, as another process would have.
    async fn instance(&self) -> Throttle {
        let db = Db::connect(&self.url).await.expect("database");
        Throttle::new(&limits(), db)
    }
}

async fn throttle() -> (Throttle, TestDb) {
    let db = TestDb::new().await;
    (db.instance().await, db)
}

fn retry_after<T>(r: Result<T, ApiError>) -> Option<u64> {
    match r {
        Ok(_) => None,
        Err(ApiError::TooManyRequests { retry_after_secs }) => Some(retry_after_secs),
        Err(e) => panic!("unexpected {e:?}"),
    }
}

/// A failed login: reserved, and the reservation kept.
async fn fail_login(t: &Throttle, account: &str, ip: &str, now: i64) {
    drop(
        t.reserve_login_at(account, ip, now)
            .await
            .expect("not throttled yet"),
    );
}

async fn reserve<'a>(
    t: &'a Throttle,
    l: Limiter,
    key: &str,
    now: i64,
) -> Result<Reservation<'a>, u64> {
    Reservation::take(&t.db, vec![(l, key.to_owned())], now)
        .await
        .map_err(|e| retry_after::<()>(Err(e)).unwrap())
}

#[tokio::test]
async fn a_limiter_refuses_until_its_window_ends() {
    let (t, _db) = throttle().await;
    let l = Limiter {
        name: "test",
        limit: limit(2, 10),
    };
    let t0 = db::now_micros();
    assert!(reserve(&t, l, "k", t0).await.is_ok());
    assert!(reserve(&t, l, "k", t0 + SEC).await.is_ok());
    assert_eq!(reserve(&t, l, "k", t0 + 4 * SEC).await.err(), Some(6));
    assert!(reserve(&t, l, "other", t0).await.is_ok());
    // A new window starts with the first attempt after the old one ended.
    assert!(reserve(&t, l, "k", t0 + 10 * SEC).await.is_ok());
    assert!(reserve(&t, l, "k", t0 + 11 * SEC).await.is_ok());
    assert!(reserve(&t, l, "k", t0 + 11 * SEC).await.is_err());
}

#[tokio::test]
async fn a_refund_gives_back_one_attempt_of_its_own_window_only() {
    let (t, _db) = throttle().await;
    let l = Limiter {
        name: "test",
        limit: limit(1, 10),
    };
    let t0 = db::now_micros();
    reserve(&t, l, "k", t0).await.unwrap().refund().await;
    let again = reserve(&t, l, "k", t0).await.unwrap();
    assert!(reserve(&t, l, "k", t0).await.is_err());
    // A refund from a window that has ended does not touch the new one.
    let later = t0 + 20 * SEC;
    drop(reserve(&t, l, "k", later).await.unwrap());
    again.refund().await;
    assert!(reserve(&t, l, "k", later).await.is_err());
}

/// Many requests at once, each holding its reservation while it "verifies": no more than
/// the limit are ever let through.
async fn race(instances: &[Arc<Throttle>], now: i64) -> usize {
    let attempts = (0..40).map(|i| {
        let t = Arc::clone(&instances[i % instances.len()]);
        tokio::spawn(async move {
            t.reserve_login_at("user:1", "10.0.0.9", now)
                .await
                .map(drop)
                .is_ok()
        })
    });
    futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|granted| usize::from(granted.expect("task")))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_reservations_never_exceed_the_limit() {
    let (t, _db) = throttle().await;
    assert_eq!(race(&[Arc::new(t)], db::now_micros()).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_on_one_database_share_their_counts() {
    let db = TestDb::new().await;
    let instances = [Arc::new(db.instance().await), Arc::new(db.instance().await)];
    let now = db::now_micros();
    assert_eq!(race(&instances, now).await, 3);
    // What one counted, the other refuses, with the same wait.
    assert_eq!(
        retry_after(
            instances[1]
                .reserve_login_at("user:1", "10.0.0.9", now)
                .await
        ),
        Some(900)
    );
    // And a restart forgets nothing.
    let restarted = db.instance().await;
    assert!(
        restarted
            .reserve_login_at("user:1", "10.0.0.9", now)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_refused_reservation_takes_nothing() {
    let (t, _db) = throttle().await;
    let now = db::now_micros();
    for _ in 0..3 {
        fail_login(&t, "user:1", "10.0.0.9", now).await;
    }
    // The pair is full; its refusals must not eat into the address's allowance.
    for _ in 0..20 {
        assert!(t.reserve_login_at("user:1", "10.0.0.9", now).await.is_err());
    }
    for i in 0..7 {
        fail_login(&t, &format!("user:{}", i + 2), "10.0.0.9", now).await;
    }
    assert!(
        t.reserve_login_at("user:99", "10.0.0.9", now)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn guessing_one_account_from_one_address_is_stopped_by_the_pair_limit() {
    let (t, _db) = throttle().await;
    let now = db::now_micros();
    for _ in 0..3 {
        fail_login(&t, "user:1", "10.0.0.9", now).await;
    }
    assert_eq!(
        retry_after(t.reserve_login_at("user:1", "10.0.0.9", now).await),
        Some(900)
    );
    // The victim, elsewhere, is not affected.
    assert!(t.reserve_login_at("user:1", "10.0.0.1", now).await.is_ok());
}

#[tokio::test]
async fn a_right_password_refunds_its_attempt() {
    let (t, _db) = throttle().await;
    let now = db::now_micros();
    for _ in 0..10 {
        t.reserve_login_at("user:1", "10.0.0.1", now)
            .await
            .unwrap()
            .refund()
            .await;
    }
    fail_login(&t, "user:1", "10.0.0.1", now).await;
    assert!(t.reserve_login_at("user:1", "10.0.0.1", now).await.is_ok());
}

#[tokio::test]
async fn one_address_trying_many_accounts_is_stopped_by_the_address_limit() {
    let (t, _db) = throttle().await;
    let now = db::now_micros();
    for i in 0..10 {
        fail_login(&t, &format!("name:guess{i}"), "10.0.0.9", now).await;
    }
    assert!(
        t.reserve_login_at("name:fresh", "10.0.0.9", now)
            .await
            .is_err()
    );
    assert!(
        t.reserve_login_at("name:fresh", "10.0.0.8", now)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn ipv6_clients_are_counted_by_their_64() {
    let (t, _db) = throttle().await;
    let now = db::now_micros();
    for i in 0..3 {
        fail_login(&t, "user:1", &format!("2001:db8:1:2::{i:x}"), now).await;
    }
    assert!(
        t.reserve_login_at("user:1", "2001:db8:1:2:ffff:ffff:ffff:ffff", now)
            .await
            .is_err()
    );
    assert!(
        t.reserve_login_at("user:1", "2001:db8:1:3::1", now)
            .await
            .is_ok()
    );
}

#[test]
fn address_keys() {
    assert_eq!(address_key("203.0.113.5"), "203.0.113.5");
    assert_eq!(address_key("::ffff:203.0.113.5"), "203.0.113.5");
    assert_eq!(address_key("2001:db8:0:7:1:2:3:4"), "2001:db8:0:7::/64");
    assert_eq!(address_key("2001:DB8:0:7::9"), "2001:db8:0:7::/64");
    assert_eq!(address_key("not an address"), "not an address");
}

#[tokio::test]
async fn guessing_from_many_addresses_locks_the_account_briefly_but_not_for_its_known_addresses() {
    let (t, _db) = throttle().await;
    let now = db::now_micros();
    t.login_completed_at(1, "10.0.0.1", now).await.unwrap();
    for i in 0..5 {
        fail_login(&t, "user:1", &format!("10.9.0.{i}"), now).await;
    }
    // A new address waits out the short account window, and no more.
    assert_eq!(
        retry_after(t.reserve_login_at("user:1", "10.0.0.2", now).await),
        Some(60)
    );
    assert!(
        t.reserve_login_at("user:1", "10.0.0.2", now + 60 * SEC)
            .await
            .is_ok()
    );
    // The victim's usual address is never locked out by others' failures.
    assert!(t.reserve_login_at("user:1", "10.0.0.1", now).await.is_ok());
}

#[tokio::test]
async fn a_completed_login_clears_the_pair() {
    let (t, _db) = throttle().await;
    let now = db::now_micros();
    for _ in 0..2 {
        fail_login(&t, "user:1", "10.0.0.1", now).await;
    }
    t.login_completed_at(1, "10.0.0.1", now).await.unwrap();
    for _ in 0..2 {
        fail_login(&t, "user:1", "10.0.0.1", now).await;
    }
    assert!(t.reserve_login_at("user:1", "10.0.0.1", now).await.is_ok());
}

#[test]
fn unknown_names_are_keyed_like_known_accounts() {
    assert_eq!(account_key(Some(7), "Susan"), "user:7");
    assert_eq!(
        account_key(None, " Nobody@Example.com "),
        "name:nobody@example.com"
    );
}

#[tokio::test]
async fn reset_requests_count_per_email_whether_or_not_it_exists() {
    let (t, _db) = throttle().await;
    assert!(t.reset_requested("a@example.com", "10.0.0.1").await.is_ok());
    assert!(
        t.reset_requested("A@example.com ", "10.0.0.2")
            .await
            .is_ok()
    );
    assert!(
        t.reset_requested("a@example.com", "10.0.0.3")
            .await
            .is_err()
    );
    assert!(t.reset_requested("b@example.com", "10.0.0.1").await.is_ok());
    assert!(t.reset_requested("c@example.com", "10.0.0.1").await.is_ok());
    // Fourth from 10.0.0.1: over its address limit.
    assert!(
        t.reset_requested("d@example.com", "10.0.0.1")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn two_factor_codes_are_limited_per_account_except_from_known_addresses() {
    let (t, _db) = throttle().await;
    let now = db::now_micros();
    for i in 0..3 {
        drop(
            t.reserve_two_factor_at(1, &format!("10.0.0.{i}"), now)
                .await
                .unwrap(),
        );
    }
    assert!(t.reserve_two_factor_at(1, "10.0.0.9", now).await.is_err());
    assert!(t.reserve_two_factor_at(2, "10.0.0.9", now).await.is_ok());
    // The owner, at an address they completed a login from, still gets in.
    t.login_completed_at(1, "10.0.5.5", now).await.unwrap();
    assert!(t.reserve_two_factor_at(1, "10.0.5.5", now).await.is_ok());
}

#[tokio::test]
async fn a_password_alone_mints_few_challenges() {
    let (t, _db) = throttle().await;
    assert!(t.reserve_challenge(1, "10.0.0.1").await.is_ok());
    assert!(t.reserve_challenge(1, "10.0.0.2").await.is_ok());
    assert!(t.reserve_challenge(1, "10.0.0.3").await.is_err());
    assert!(t.reserve_challenge(2, "10.0.0.3").await.is_ok());
    t.login_completed(1, "10.0.0.7").await.unwrap();
    assert!(t.reserve_challenge(1, "10.0.0.7").await.is_ok());
}

#[tokio::test]
async fn reauthentication_is_limited_per_session() {
    let (t, _db) = throttle().await;
    for _ in 0..2 {
        drop(t.reserve_reauth(7).await.unwrap());
    }
    assert!(t.reserve_reauth(7).await.is_err());
    // The owner's other session is not held up by a stolen one.
    assert!(t.reserve_reauth(8).await.is_ok());
}

#[tokio::test]
async fn registrations_are_limited_per_address() {
    let (t, _db) = throttle().await;
    assert!(t.registration("10.0.0.1").await.is_ok());
    assert!(t.registration("10.0.0.1").await.is_ok());
    assert!(t.registration("10.0.0.1").await.is_err());
    assert!(t.registration("10.0.0.2").await.is_ok());
}

#[tokio::test]
async fn ended_windows_and_forgotten_addresses_are_purged() {
    let (t, _db) = throttle().await;
    let now = db::now_micros();
    for i in 0..5 {
        fail_login(&t, &format!("name:n{i}"), "10.0.0.9", now).await;
    }
    t.login_completed_at(1, "10.0.0.1", now).await.unwrap();
    let rows = || async { db::throttle::count_rows(t.db.pool()).await.unwrap() };
    // 5 pairs, 5 accounts, the address, the known address.
    assert_eq!(rows().await, 12);
    // Nothing has ended yet.
    assert_eq!(t.sweep_at(now + 59 * SEC).await.unwrap(), 0);
    // The account windows (60 s) end first, then the address and pairs (900 s).
    assert_eq!(t.sweep_at(now + 60 * SEC).await.unwrap(), 5);
    assert_eq!(t.sweep_at(now + 900 * SEC).await.unwrap(), 6);
    // The known address stays for its 30 days, then goes too.
    assert!(
        t.is_known("user:1|10.0.0.1", now + 900 * SEC)
            .await
            .unwrap()
    );
    let month = db::micros(KNOWN_ADDRESS_TTL);
    assert_eq!(t.sweep_at(now + month).await.unwrap(), 1);
    assert_eq!(rows().await, 0);
}

#[test]
fn retry_after_rounds_up() {
    assert_eq!(retry_after::<()>(Err(too_many(1_500_000))), Some(2));
    assert_eq!(retry_after::<()>(Err(too_many(1))), Some(1));
}
