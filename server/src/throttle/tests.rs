use std::sync::Arc;

use super::*;

fn limit(max: u32, secs: u64) -> Limit {
    Limit {
        max,
        window: Duration::from_secs(secs),
    }
}

fn throttle() -> Throttle {
    Throttle::new(&Throttling {
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
        max_entries: 1000,
    })
}

fn retry_after<T>(r: Result<T, ApiError>) -> Option<u64> {
    match r {
        Ok(_) => None,
        Err(ApiError::TooManyRequests { retry_after_secs }) => Some(retry_after_secs),
        Err(e) => panic!("unexpected {e:?}"),
    }
}

/// A failed login: reserved, and the reservation kept.
fn fail_login(t: &Throttle, account: &str, ip: &str, now: Instant) {
    drop(
        t.reserve_login_at(account, ip, now)
            .expect("not throttled yet"),
    );
}

#[test]
fn a_limiter_refuses_until_its_window_ends() {
    let l = Limiter::new(limit(2, 10), 100);
    let t0 = Instant::now();
    assert!(l.reserve("k", t0).is_ok());
    assert!(l.reserve("k", t0 + Duration::from_secs(1)).is_ok());
    assert_eq!(
        l.reserve("k", t0 + Duration::from_secs(4)),
        Err(Duration::from_secs(6))
    );
    assert!(l.reserve("other", t0).is_ok());
    // A new window starts with the first attempt after the old one ended.
    assert!(l.reserve("k", t0 + Duration::from_secs(10)).is_ok());
    assert!(l.reserve("k", t0 + Duration::from_secs(11)).is_ok());
    assert!(l.reserve("k", t0 + Duration::from_secs(11)).is_err());
}

#[test]
fn a_refund_gives_back_one_attempt_of_its_own_window_only() {
    let l = Limiter::new(limit(1, 10), 100);
    let t0 = Instant::now();
    let start = l.reserve("k", t0).unwrap();
    l.refund("k", start);
    let again = l.reserve("k", t0).unwrap();
    assert!(l.reserve("k", t0).is_err());
    // A refund from a window that has ended does not touch the new one.
    let later = t0 + Duration::from_secs(20);
    l.reserve("k", later).unwrap();
    l.refund("k", again);
    assert!(l.reserve("k", later).is_err());
}

#[test]
fn parallel_reservations_never_exceed_the_limit() {
    let t = Arc::new(throttle());
    let now = Instant::now();
    let granted: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..40)
            .map(|_| {
                let t = Arc::clone(&t);
                s.spawn(move || {
                    // Held while "verifying", kept as a failure.
                    t.reserve_login_at("user:1", "10.0.0.9", now)
                        .map(drop)
                        .is_ok()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| usize::from(h.join().unwrap()))
            .sum()
    });
    assert_eq!(granted, 3);
}

#[test]
fn a_refused_reservation_takes_nothing() {
    let t = throttle();
    let now = Instant::now();
    for _ in 0..3 {
        fail_login(&t, "user:1", "10.0.0.9", now);
    }
    // The pair is full; its refusals must not eat into the address's allowance.
    for _ in 0..20 {
        assert!(t.reserve_login_at("user:1", "10.0.0.9", now).is_err());
    }
    for i in 0..7 {
        fail_login(&t, &format!("user:{}", i + 2), "10.0.0.9", now);
    }
    assert!(t.reserve_login_at("user:99", "10.0.0.9", now).is_err());
}

#[test]
fn guessing_one_account_from_one_address_is_stopped_by_the_pair_limit() {
    let t = throttle();
    let now = Instant::now();
    for _ in 0..3 {
        fail_login(&t, "user:1", "10.0.0.9", now);
    }
    assert_eq!(
        retry_after(t.reserve_login_at("user:1", "10.0.0.9", now)),
        Some(900)
    );
    // The victim, elsewhere, is not affected.
    assert!(t.reserve_login_at("user:1", "10.0.0.1", now).is_ok());
}

#[test]
fn a_right_password_refunds_its_attempt() {
    let t = throttle();
    let now = Instant::now();
    for _ in 0..10 {
        t.reserve_login_at("user:1", "10.0.0.1", now)
            .unwrap()
            .refund();
    }
    fail_login(&t, "user:1", "10.0.0.1", now);
    assert!(t.reserve_login_at("user:1", "10.0.0.1", now).is_ok());
}

#[test]
fn one_address_trying_many_accounts_is_stopped_by_the_address_limit() {
    let t = throttle();
    let now = Instant::now();
    for i in 0..10 {
        fail_login(&t, &format!("name:guess{i}"), "10.0.0.9", now);
    }
    assert!(t.reserve_login_at("name:fresh", "10.0.0.9", now).is_err());
    assert!(t.reserve_login_at("name:fresh", "10.0.0.8", now).is_ok());
}

#[test]
fn ipv6_clients_are_counted_by_their_64() {
    let t = throttle();
    let now = Instant::now();
    for i in 0..3 {
        fail_login(&t, "user:1", &format!("2001:db8:1:2::{i:x}"), now);
    }
    assert!(
        t.reserve_login_at("user:1", "2001:db8:1:2:ffff:ffff:ffff:ffff", now)
            .is_err()
    );
    assert!(t.reserve_login_at("user:1", "2001:db8:1:3::1", now).is_ok());
}

#[test]
fn address_keys() {
    assert_eq!(address_key("203.0.113.5"), "203.0.113.5");
    assert_eq!(address_key("::ffff:203.0.113.5"), "203.0.113.5");
    assert_eq!(address_key("2001:db8:0:7:1:2:3:4"), "2001:db8:0:7::/64");
    assert_eq!(address_key("2001:DB8:0:7::9"), "2001:db8:0:7::/64");
    assert_eq!(address_key("not an address"), "not an address");
}

#[test]
fn guessing_from_many_addresses_locks_the_account_briefly_but_not_for_its_known_addresses() {
    let t = throttle();
    let now = Instant::now();
    t.login_completed_at(1, "10.0.0.1", now);
    for i in 0..5 {
        fail_login(&t, "user:1", &format!("10.9.0.{i}"), now);
    }
    // A new address waits out the short account window, and no more.
    assert_eq!(
        retry_after(t.reserve_login_at("user:1", "10.0.0.2", now)),
        Some(60)
    );
    assert!(
        t.reserve_login_at("user:1", "10.0.0.2", now + Duration::from_secs(60))
            .is_ok()
    );
    // The victim's usual address is never locked out by others' failures.
    assert!(t.reserve_login_at("user:1", "10.0.0.1", now).is_ok());
}

#[test]
fn a_completed_login_clears_the_pair() {
    let t = throttle();
    let now = Instant::now();
    for _ in 0..2 {
        fail_login(&t, "user:1", "10.0.0.1", now);
    }
    t.login_completed_at(1, "10.0.0.1", now);
    for _ in 0..2 {
        fail_login(&t, "user:1", "10.0.0.1", now);
    }
    assert!(t.reserve_login_at("user:1", "10.0.0.1", now).is_ok());
}

#[test]
fn unknown_names_are_keyed_like_known_accounts() {
    assert_eq!(account_key(Some(7), "Susan"), "user:7");
    assert_eq!(
        account_key(None, " Nobody@Example.com "),
        "name:nobody@example.com"
    );
}

#[test]
fn reset_requests_count_per_email_whether_or_not_it_exists() {
    let t = throttle();
    assert!(t.reset_requested("a@example.com", "10.0.0.1").is_ok());
    assert!(t.reset_requested("A@example.com ", "10.0.0.2").is_ok());
    assert!(t.reset_requested("a@example.com", "10.0.0.3").is_err());
    assert!(t.reset_requested("b@example.com", "10.0.0.1").is_ok());
    assert!(t.reset_requested("c@example.com", "10.0.0.1").is_ok());
    // Fourth from 10.0.0.1: over its address limit.
    assert!(t.reset_requested("d@example.com", "10.0.0.1").is_err());
}

#[test]
fn two_factor_codes_are_limited_per_account_except_from_known_addresses() {
    let t = throttle();
    let now = Instant::now();
    for i in 0..3 {
        drop(
            t.reserve_two_factor_at(1, &format!("10.0.0.{i}"), now)
                .unwrap(),
        );
    }
    assert!(t.reserve_two_factor_at(1, "10.0.0.9", now).is_err());
    assert!(t.reserve_two_factor_at(2, "10.0.0.9", now).is_ok());
    // The owner, at an address they completed a login from, still gets in.
    t.login_completed_at(1, "10.0.5.5", now);
    assert!(t.reserve_two_factor_at(1, "10.0.5.5", now).is_ok());
}

#[test]
fn a_password_alone_mints_few_challenges() {
    let t = throttle();
    assert!(t.reserve_challenge(1, "10.0.0.1").is_ok());
    assert!(t.reserve_challenge(1, "10.0.0.2").is_ok());
    assert!(t.reserve_challenge(1, "10.0.0.3").is_err());
    assert!(t.reserve_challenge(2, "10.0.0.3").is_ok());
    t.login_completed(1, "10.0.0.7");
    assert!(t.reserve_challenge(1, "10.0.0.7").is_ok());
}

#[test]
fn reauthentication_is_limited_per_session() {
    let t = throttle();
    for _ in 0..2 {
        drop(t.reserve_reauth(7).unwrap());
    }
    assert!(t.reserve_reauth(7).is_err());
    // The owner's other session is not held up by a stolen one.
    assert!(t.reserve_reauth(8).is_ok());
}

#[test]
fn registrations_are_limited_per_address() {
    let t = throttle();
    assert!(t.registration("10.0.0.1").is_ok());
    assert!(t.registration("10.0.0.1").is_ok());
    assert!(t.registration("10.0.0.1").is_err());
    assert!(t.registration("10.0.0.2").is_ok());
}

#[test]
fn memory_stays_bounded_dropping_ended_then_oldest_windows() {
    let l = Limiter::new(limit(1, 10), 50);
    let t0 = Instant::now();
    for i in 0..50 {
        l.reserve(&format!("old{i}"), t0).unwrap();
    }
    for i in 0..500 {
        l.reserve(&format!("new{i}"), t0 + Duration::from_millis(i))
            .unwrap();
        assert!(l.len() <= 50);
    }
    // The newest are kept.
    assert!(l.reserve("new499", t0 + Duration::from_secs(1)).is_err());
    l.sweep(t0 + Duration::from_secs(60));
    assert_eq!(l.len(), 0);
}

#[test]
fn retry_after_rounds_up() {
    assert_eq!(
        retry_after::<()>(Err(too_many(Duration::from_millis(1500)))),
        Some(2)
    );
}
