//! Throttling of password guesses, 2FA codes, re-authentication, registrations and reset
//! requests.
//!
//! In memory: right for one server process. Several processes behind a balancer would
//! each count on their own, and a restart forgets every counter.
//!
//! Each [`Limiter`] counts attempts per key in fixed windows: the first attempt opens a
//! window, and once `max` attempts fall in it, the key is refused until the window ends,
//! which is what `Retry-After` says. An attempt is **reserved before** the slow check it
//! guards (Argon2, a TOTP lookup) and **refunded** if the check succeeds, both under the
//! limiter's lock: however many requests arrive at once, no more than `max` of them are
//! ever verified in one window. Memory is bounded: past `max_entries` keys, ended windows
//! are dropped, then the oldest ones.
//!
//! The login policy (see [`crate::config::Throttling`]) makes guessing slow without
//! letting an attacker lock the victim out: failures count strictly per (account,
//! address), per address, and per account only from addresses the account has never
//! completed a login from. IPv6 clients are keyed by their /64, the block one subscriber
//! usually holds, so rotating addresses within it gains nothing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::{Limit, Throttling};
use crate::error::ApiError;

/// How long an address the account logged in from stays exempt from the account-wide limits.
const KNOWN_ADDRESS_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Counts attempts per key in fixed windows.
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

    /// Counts one attempt for `key` and returns the start of the window it counted in, or
    /// `Err(wait)` without counting when the window is full.
    fn reserve(&self, key: &str, now: Instant) -> Result<Instant, Duration> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = windows.get_mut(key) {
            let ends = w.start + self.limit.window;
            if ends <= now {
                *w = Window {
                    start: now,
                    count: 1,
                };
                return Ok(now);
            }
            if w.count >= self.limit.max {
                return Err(ends - now);
            }
            w.count += 1;
            return Ok(w.start);
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
        Ok(now)
    }

    /// Gives back an attempt reserved in the window that started at `start`; nothing if
    /// that window has ended since.
    fn refund(&self, key: &str, start: Instant) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = windows.get_mut(key)
            && w.start == start
        {
            w.count = w.count.saturating_sub(1);
            if w.count == 0 {
                windows.remove(key);
            }
        }
    }

    /// Forgets `key`'s count.
    fn clear(&self, key: &str) {
        self.windows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    /// Drops the counters whose window has ended.
    fn sweep(&self, now: Instant) {
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

/// Attempts reserved together, before a check. Dropped, they stay counted (the check
/// failed, or never finished); [`Reservation::refund`] gives them back after a success.
#[must_use = "a reservation is refunded on success, or dropped to count a failure"]
#[derive(Debug)]
pub struct Reservation<'a> {
    held: Vec<(&'a Limiter, String, Instant)>,
}

impl<'a> Reservation<'a> {
    /// Reserves one attempt in every `(limiter, key)`, or none: a full limiter refuses the
    /// whole reservation with the longest wait, and what was already taken is given back.
    fn take(wanted: Vec<(&'a Limiter, String)>, now: Instant) -> Result<Self, ApiError> {
        let mut held = Vec::with_capacity(wanted.len());
        let mut longest: Option<Duration> = None;
        for (limiter, key) in wanted {
            match limiter.reserve(&key, now) {
                Ok(start) => held.push((limiter, key, start)),
                Err(wait) => longest = longest.max(Some(wait)),
            }
        }
        match longest {
            None => Ok(Self { held }),
            Some(wait) => {
                Self { held }.refund();
                Err(too_many(wait))
            }
        }
    }

    /// The check succeeded: the attempts do not count.
    pub fn refund(self) {
        for (limiter, key, start) in &self.held {
            limiter.refund(key, *start);
        }
    }
}

/// The account a login names: the user when the name is known, else the name itself,
/// so that unknown names are throttled exactly like known ones (no enumeration).
pub fn account_key(user_id: Option<i64>, name: &str) -> String {
    match user_id {
        Some(id) => user_key(id),
        None => format!("name:{}", name.trim().to_lowercase()),
    }
}

fn user_key(user_id: i64) -> String {
    format!("user:{user_id}")
}

/// The key of a client address: IPv4 whole, IPv6 by its /64 (an IPv4-mapped IPv6 address
/// is its IPv4 address). Anything unparsable is keyed as it is.
pub fn address_key(ip: &str) -> String {
    match ip.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Err(_) => ip.to_owned(),
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
    two_factor_challenge: Limiter,
    reauth: Limiter,
    register_address: Limiter,
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
            two_factor_challenge: limiter(t.two_factor_challenge),
            reauth: limiter(t.reauth),
            register_address: limiter(t.register_address),
            reset_address: limiter(t.reset_address),
            reset_email: limiter(t.reset_email),
            known_addresses: Mutex::new(HashMap::new()),
            max_entries: t.max_entries.max(1),
        }
    }

    /// Before checking a password: reserves an attempt for this pair, this address, and
    /// (from an address the account never logged in from) the account.
    pub fn reserve_login(&self, account: &str, ip: &str) -> Result<Reservation<'_>, ApiError> {
        self.reserve_login_at(account, ip, Instant::now())
    }

    fn reserve_login_at(
        &self,
        account: &str,
        ip: &str,
        now: Instant,
    ) -> Result<Reservation<'_>, ApiError> {
        let address = address_key(ip);
        let pair = pair_key(account, &address);
        let mut wanted = vec![
            (&self.login_address, address),
            (&self.login_pair, pair.clone()),
        ];
        if !self.is_known(&pair, now) {
            wanted.push((&self.login_account, account.to_owned()));
        }
        Reservation::take(wanted, now)
    }

    /// After a completed login (the password, and the second factor if the account has
    /// one): the pair starts over, and the address becomes known to the account, which
    /// exempts it from the account-wide limits. A password alone never makes an address
    /// known for a 2FA account, or whoever stole it would be exempt from the code limits.
    pub fn login_completed(&self, user_id: i64, ip: &str) {
        self.login_completed_at(user_id, ip, Instant::now());
    }

    fn login_completed_at(&self, user_id: i64, ip: &str, now: Instant) {
        let pair = pair_key(&user_key(user_id), &address_key(ip));
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

    /// Before minting a 2FA challenge for a correct password: a password alone must not
    /// open unlimited rounds of code guessing. Counted per account, except from the
    /// account's known addresses; never refunded (a challenge is an attempt).
    pub fn reserve_challenge(&self, user_id: i64, ip: &str) -> Result<(), ApiError> {
        let account = user_key(user_id);
        let now = Instant::now();
        if self.is_known(&pair_key(&account, &address_key(ip)), now) {
            return Ok(());
        }
        Reservation::take(vec![(&self.two_factor_challenge, account)], now).map(drop)
    }

    /// Before checking the code of a 2FA login: per address, and per account unless the
    /// address is one the account completed a login from.
    pub fn reserve_two_factor(&self, user_id: i64, ip: &str) -> Result<Reservation<'_>, ApiError> {
        self.reserve_two_factor_at(user_id, ip, Instant::now())
    }

    fn reserve_two_factor_at(
        &self,
        user_id: i64,
        ip: &str,
        now: Instant,
    ) -> Result<Reservation<'_>, ApiError> {
        let account = user_key(user_id);
        let address = address_key(ip);
        let known = self.is_known(&pair_key(&account, &address), now);
        let mut wanted = vec![(&self.two_factor_address, address)];
        if !known {
            wanted.push((&self.two_factor_account, account));
        }
        Reservation::take(wanted, now)
    }

    /// Before re-authenticating a logged-in user (the current password to change the
    /// email, the password or 2FA; a code to change 2FA): per session, so a stolen token
    /// gets a few guesses and the owner's own sessions are never held up by them.
    pub fn reserve_reauth(&self, session_id: i64) -> Result<Reservation<'_>, ApiError> {
        Reservation::take(
            vec![(&self.reauth, format!("session:{session_id}"))],
            Instant::now(),
        )
    }

    /// Counts a registration attempt from this address, or refuses it. Every attempt
    /// counts, so that probing which emails are taken costs what registering does.
    pub fn registration(&self, ip: &str) -> Result<(), ApiError> {
        Reservation::take(
            vec![(&self.register_address, address_key(ip))],
            Instant::now(),
        )
        .map(drop)
    }

    /// Counts a password-reset request, or refuses it. `email` is counted whether or not
    /// an account has it.
    pub fn reset_requested(&self, email: &str, ip: &str) -> Result<(), ApiError> {
        let email = email.trim().to_lowercase();
        Reservation::take(
            vec![
                (&self.reset_address, address_key(ip)),
                (&self.reset_email, email),
            ],
            Instant::now(),
        )
        .map(drop)
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
            &self.two_factor_challenge,
            &self.reauth,
            &self.register_address,
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

fn pair_key(account: &str, address: &str) -> String {
    format!("{account}|{address}")
}

/// 429 with the wait in whole seconds, rounded up.
fn too_many(wait: Duration) -> ApiError {
    ApiError::TooManyRequests {
        retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
    }
}

#[cfg(test)]
mod tests;
