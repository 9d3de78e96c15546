//! Throttling of password guesses, 2FA codes and reset requests (auth rules 21, 23, 26).
//!
//! In memory: right for one server process, which is how this project deploys. Several
//! processes behind a balancer would each count on their own (limits multiply by their
//! number), and a restart forgets every counter; a shared store would be the next step.
//!
//! Each [`Limiter`] counts events per key in fixed windows: the first event opens a window,
//! and once `max` events fall in it, the key is refused until the window ends, which is
//! what `Retry-After` says. Memory is bounded: past `max_entries` keys, ended windows are
//! dropped, then the oldest ones.
//!
//! The login policy (see [`crate::config::Throttling`]) is built so that guessing is slow
//! and a victim is not locked out: failures count strictly per (account, address), per
//! address, and per account only with a short window, from which the addresses that the
//! account logged in from before are exempt. A success clears its (account, address) pair.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::{Limit, Throttling};
use crate::error::ApiError;

/// How long an address the account logged in from stays exempt from the account-wide limit.
const KNOWN_ADDRESS_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Counts events per key in fixed windows.
#[derive(Debug)]
pub struct Limiter {
    limit: Limit,
    max_entries: usize,
    windows: Mutex<HashMap<String, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    count: u32,
}

impl Limiter {
    pub fn new(limit: Limit, max_entries: usize) -> Self {
        Self {
            limit,
            max_entries: max_entries.max(1),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` while `key` has used up its window.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        match windows.get(key) {
            Some(w) if w.count >= self.limit.max => {
                let ends = w.start + self.limit.window;
                if ends > now { Err(ends - now) } else { Ok(()) }
            }
            _ => Ok(()),
        }
    }

    /// Counts one event for `key`.
    pub fn hit(&self, key: &str, now: Instant) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = windows.get_mut(key) {
            if now.duration_since(w.start) < self.limit.window {
                w.count = w.count.saturating_add(1);
            } else {
                *w = Window {
                    start: now,
                    count: 1,
                };
            }
            return;
        }
        if windows.len() >= self.max_entries {
            make_room(&mut windows, self.max_entries, |w| {
                (now.duration_since(w.start) < self.limit.window).then_some(w.start)
            });
        }
        windows.insert(
            key.to_owned(),
            Window {
                start: now,
                count: 1,
            },
        );
    }

    /// Forgets `key`'s count.
    pub fn clear(&self, key: &str) {
        self.windows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    /// Drops the counters whose window has ended.
    pub fn sweep(&self, now: Instant) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.retain(|_, w| now.duration_since(w.start) < self.limit.window);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.windows.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// Makes room for one more entry: drops those `live` calls dead (None), then, if still
/// full, the oldest tenth by the instant `live` returns.
fn make_room<V>(
    map: &mut HashMap<String, V>,
    max_entries: usize,
    live: impl Fn(&V) -> Option<Instant>,
) {
    map.retain(|_, v| live(v).is_some());
    if map.len() < max_entries {
        return;
    }
    let mut starts: Vec<Instant> = map.values().filter_map(&live).collect();
    let drop = (max_entries / 10).max(1).min(starts.len() - 1);
    let (_, cutoff, _) = starts.select_nth_unstable(drop);
    let cutoff = *cutoff;
    map.retain(|_, v| live(v).is_some_and(|t| t >= cutoff));
    // Ties at the cutoff may keep it full: then anything goes.
    while map.len() >= max_entries {
        let Some(key) = map.keys().next().cloned() else {
            break;
        };
        map.remove(&key);
    }
}

/// The account a login names: the user when the name is known, else the name itself,
/// so that unknown names are throttled exactly like known ones (no enumeration).
pub fn account_key(user_id: Option<i64>, name: &str) -> String {
    match user_id {
        Some(id) => format!("user:{id}"),
        None => format!("name:{}", name.trim().to_lowercase()),
    }
}

/// Every limit of the server, and the addresses each account logged in from.
#[derive(Debug)]
pub struct Throttle {
    login_pair: Limiter,
    login_address: Limiter,
    login_account: Limiter,
    two_factor_account: Limiter,
    two_factor_address: Limiter,
    reset_address: Limiter,
    reset_email: Limiter,
    known_addresses: Mutex<HashMap<String, Instant>>,
    max_entries: usize,
}

impl Throttle {
    pub fn new(t: &Throttling) -> Self {
        let limiter = |limit| Limiter::new(limit, t.max_entries);
        Self {
            login_pair: limiter(t.login_pair),
            login_address: limiter(t.login_address),
            login_account: limiter(t.login_account),
            two_factor_account: limiter(t.two_factor_account),
            two_factor_address: limiter(t.two_factor_address),
            reset_address: limiter(t.reset_address),
            reset_email: limiter(t.reset_email),
            known_addresses: Mutex::new(HashMap::new()),
            max_entries: t.max_entries.max(1),
        }
    }

    /// Before checking a password: refused if this pair, this address, or (from an
    /// address the account never logged in from) the account has failed too often.
    pub fn check_login(&self, account: &str, ip: &str) -> Result<(), ApiError> {
        self.check_login_at(account, ip, Instant::now())
    }

    pub fn check_login_at(&self, account: &str, ip: &str, now: Instant) -> Result<(), ApiError> {
        let pair = pair_key(account, ip);
        let mut waits = vec![
            self.login_pair.check(&pair, now),
            self.login_address.check(ip, now),
        ];
        if !self.is_known(&pair, now) {
            waits.push(self.login_account.check(account, now));
        }
        refuse_if_any(waits)
    }

    /// After a wrong password (or an unknown name).
    pub fn login_failed(&self, account: &str, ip: &str) {
        self.login_failed_at(account, ip, Instant::now());
    }

    pub fn login_failed_at(&self, account: &str, ip: &str, now: Instant) {
        self.login_pair.hit(&pair_key(account, ip), now);
        self.login_address.hit(ip, now);
        self.login_account.hit(account, now);
    }

    /// After a correct password: the pair starts over, and the address becomes known.
    pub fn login_succeeded(&self, account: &str, ip: &str) {
        self.login_succeeded_at(account, ip, Instant::now());
    }

    pub fn login_succeeded_at(&self, account: &str, ip: &str, now: Instant) {
        let pair = pair_key(account, ip);
        self.login_pair.clear(&pair);
        let mut known = self
            .known_addresses
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if !known.contains_key(&pair) && known.len() >= self.max_entries {
            make_room(&mut known, self.max_entries, |t| {
                (now.duration_since(*t) < KNOWN_ADDRESS_TTL).then_some(*t)
            });
        }
        known.insert(pair, now);
    }

    fn is_known(&self, pair: &str, now: Instant) -> bool {
        self.known_addresses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(pair)
            .is_some_and(|t| now.duration_since(*t) < KNOWN_ADDRESS_TTL)
    }

    /// Before checking a 2FA code (or a password that guards a 2FA change).
    pub fn check_two_factor(&self, user_id: i64, ip: &str) -> Result<(), ApiError> {
        let now = Instant::now();
        refuse_if_any([
            self.two_factor_account.check(&user_id.to_string(), now),
            self.two_factor_address.check(ip, now),
        ])
    }

    /// After a wrong 2FA code (or password, when changing 2FA).
    pub fn two_factor_failed(&self, user_id: i64, ip: &str) {
        let now = Instant::now();
        self.two_factor_account.hit(&user_id.to_string(), now);
        self.two_factor_address.hit(ip, now);
    }

    /// Counts a password-reset request, or refuses it. `email` is counted whether or not
    /// an account has it.
    pub fn reset_requested(&self, email: &str, ip: &str) -> Result<(), ApiError> {
        let now = Instant::now();
        let email = email.trim().to_lowercase();
        refuse_if_any([
            self.reset_address.check(ip, now),
            self.reset_email.check(&email, now),
        ])?;
        self.reset_address.hit(ip, now);
        self.reset_email.hit(&email, now);
        Ok(())
    }

    /// Drops ended windows and forgotten addresses (hourly, from the maintenance task).
    pub fn sweep(&self) {
        let now = Instant::now();
        for limiter in [
            &self.login_pair,
            &self.login_address,
            &self.login_account,
            &self.two_factor_account,
            &self.two_factor_address,
            &self.reset_address,
            &self.reset_email,
        ] {
            limiter.sweep(now);
        }
        self.known_addresses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, t| now.duration_since(*t) < KNOWN_ADDRESS_TTL);
    }
}

fn pair_key(account: &str, ip: &str) -> String {
    format!("{account}|{ip}")
}

/// 429 with the longest wait among the refusals, in whole seconds rounded up.
fn refuse_if_any(waits: impl IntoIterator<Item = Result<(), Duration>>) -> Result<(), ApiError> {
    let longest = waits.into_iter().filter_map(Result::err).max();
    match longest {
        None => Ok(()),
        Some(wait) => Err(ApiError::TooManyRequests {
            retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        }),
    }
}

#[cfg(test)]
mod tests {
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
            reset_address: limit(3, 900),
            reset_email: limit(2, 900),
            max_entries: 1000,
        })
    }

    fn retry_after(r: Result<(), ApiError>) -> Option<u64> {
        match r {
            Ok(()) => None,
            Err(ApiError::TooManyRequests { retry_after_secs }) => Some(retry_after_secs),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }

    #[test]
    fn a_limiter_refuses_until_its_window_ends() {
        let l = Limiter::new(limit(2, 10), 100);
        let t0 = Instant::now();
        l.hit("k", t0);
        assert!(l.check("k", t0).is_ok());
        l.hit("k", t0 + Duration::from_secs(1));
        assert_eq!(
            l.check("k", t0 + Duration::from_secs(4)),
            Err(Duration::from_secs(6))
        );
        assert!(l.check("other", t0).is_ok());
        assert!(l.check("k", t0 + Duration::from_secs(10)).is_ok());
        // A new window starts with the next event.
        l.hit("k", t0 + Duration::from_secs(11));
        assert!(l.check("k", t0 + Duration::from_secs(11)).is_ok());
    }

    #[test]
    fn memory_stays_bounded_dropping_ended_then_oldest_windows() {
        let l = Limiter::new(limit(1, 10), 50);
        let t0 = Instant::now();
        for i in 0..50 {
            l.hit(&format!("old{i}"), t0);
        }
        for i in 0..500 {
            l.hit(&format!("new{i}"), t0 + Duration::from_millis(i));
            assert!(l.len() <= 50);
        }
        // The newest are kept.
        assert!(l.check("new499", t0 + Duration::from_secs(1)).is_err());
        l.sweep(t0 + Duration::from_secs(60));
        assert_eq!(l.len(), 0);
    }

    #[test]
    fn guessing_one_account_from_one_address_is_stopped_by_the_pair_limit() {
        let t = throttle();
        let now = Instant::now();
        for _ in 0..3 {
            assert!(t.check_login_at("user:1", "10.0.0.9", now).is_ok());
            t.login_failed_at("user:1", "10.0.0.9", now);
        }
        assert_eq!(
            retry_after(t.check_login_at("user:1", "10.0.0.9", now)),
            Some(900)
        );
        // The victim, elsewhere, is not affected.
        assert!(t.check_login_at("user:1", "10.0.0.1", now).is_ok());
    }

    #[test]
    fn one_address_trying_many_accounts_is_stopped_by_the_address_limit() {
        let t = throttle();
        let now = Instant::now();
        for i in 0..10 {
            t.login_failed_at(&format!("name:guess{i}"), "10.0.0.9", now);
        }
        assert!(t.check_login_at("name:fresh", "10.0.0.9", now).is_err());
        assert!(t.check_login_at("name:fresh", "10.0.0.8", now).is_ok());
    }

    #[test]
    fn guessing_from_many_addresses_locks_the_account_briefly_but_not_for_its_known_addresses() {
        let t = throttle();
        let now = Instant::now();
        t.login_succeeded_at("user:1", "10.0.0.1", now);
        for i in 0..5 {
            t.login_failed_at("user:1", &format!("10.9.0.{i}"), now);
        }
        // A new address waits out the short account window, and no more.
        assert_eq!(
            retry_after(t.check_login_at("user:1", "10.0.0.2", now)),
            Some(60)
        );
        assert!(
            t.check_login_at("user:1", "10.0.0.2", now + Duration::from_secs(60))
                .is_ok()
        );
        // The victim's usual address is never locked out by others' failures.
        assert!(t.check_login_at("user:1", "10.0.0.1", now).is_ok());
    }

    #[test]
    fn success_clears_the_pair() {
        let t = throttle();
        let now = Instant::now();
        for _ in 0..2 {
            t.login_failed_at("user:1", "10.0.0.1", now);
        }
        t.login_succeeded_at("user:1", "10.0.0.1", now);
        for _ in 0..2 {
            t.login_failed_at("user:1", "10.0.0.1", now);
        }
        assert!(t.check_login_at("user:1", "10.0.0.1", now).is_ok());
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
    fn two_factor_failures_are_limited_per_account() {
        let t = throttle();
        for i in 0..3 {
            assert!(t.check_two_factor(1, &format!("10.0.0.{i}")).is_ok());
            t.two_factor_failed(1, &format!("10.0.0.{i}"));
        }
        assert!(t.check_two_factor(1, "10.0.0.9").is_err());
        assert!(t.check_two_factor(2, "10.0.0.9").is_ok());
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(
            retry_after(refuse_if_any([Err(Duration::from_millis(1500))])),
            Some(2)
        );
    }
}
