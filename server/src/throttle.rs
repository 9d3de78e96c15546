//! Throttling of password guesses, 2FA codes, re-authentication, registrations and reset
//! requests.
//!
//! The counters live in the database (`db/throttle.rs`), so several instances of the API
//! behind a balancer count the same attempts, and a restart forgets none.
//!
//! Each [`Limiter`] counts attempts per key in fixed windows: the first attempt opens a
//! window, and once `max` attempts fall in it, the key is refused until the window ends,
//! which is what `Retry-After` says. An attempt is **reserved before** the slow check it
//! guards (Argon2, a TOTP lookup) and **refunded** if the check succeeds. A reservation
//! is one transaction of atomic upserts, taken in one order (so two never deadlock), and
//! all-or-nothing across the limits of one check: however many requests arrive at once,
//! at any number of instances, no more than `max` of them are ever verified in one
//! window. Ended windows are purged hourly ([`Throttle::sweep`]).
//!
//! The login policy (see [`crate::config::Throttling`]) makes guessing slow without
//! letting an attacker lock the victim out: failures count strictly per (account,
//! address), per address, and per account only from addresses the account has never
//! completed a login from. IPv6 clients are keyed by their /64, the block one subscriber
//! usually holds, so rotating addresses within it gains nothing.

use std::net::IpAddr;
use std::time::Duration;

use crate::config::{Limit, Throttling};
use crate::db::{self, Db};
use crate::error::ApiError;

/// How long an address the account logged in from stays exempt from the account-wide limits.
const KNOWN_ADDRESS_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// The pseudo-limit whose rows are the known addresses of accounts.
const KNOWN: &str = "known";

/// One limit, under the name that prefixes its keys in the table.
#[derive(Debug, Clone, Copy)]
pub struct Limiter {
    name: &'static str,
    limit: Limit,
}

impl Limiter {
    fn bucket(&self, key: &str) -> String {
        format!("{}/{key}", self.name)
    }
}

/// Attempts reserved together, before a check. Dropped, they stay counted (the check
/// failed, or never finished); [`Reservation::refund`] gives them back after a success.
#[must_use = "a reservation is refunded on success, or dropped to count a failure"]
#[derive(Debug)]
pub struct Reservation<'a> {
    db: &'a Db,
    /// Each bucket and the start of the window the attempt counted in.
    held: Vec<(String, i64)>,
}

impl<'a> Reservation<'a> {
    /// Reserves one attempt in every `(limiter, key)`, or none: a full limiter refuses the
    /// whole reservation with the longest wait, and the transaction takes nothing.
    async fn take(db: &'a Db, wanted: Vec<(Limiter, String)>, now: i64) -> Result<Self, ApiError> {
        let mut wanted: Vec<(String, Limit)> = wanted
            .into_iter()
            .map(|(limiter, key)| (limiter.bucket(&key), limiter.limit))
            .collect();
        // One order for every transaction: two reservations never wait on each other's rows.
        wanted.sort_by(|a, b| a.0.cmp(&b.0));
        let mut tx = db.begin().await?;
        let mut held = Vec::with_capacity(wanted.len());
        let mut longest: Option<i64> = None;
        for (bucket, limit) in wanted {
            match db::throttle::reserve(&mut tx, &bucket, now, db::micros(limit.window), limit.max)
                .await?
            {
                Ok(start) => held.push((bucket, start)),
                Err(ends_at) => longest = longest.max(Some(ends_at.saturating_sub(now))),
            }
        }
        match longest {
            None => {
                tx.commit().await?;
                Ok(Self { db, held })
            }
            Some(wait) => {
                tx.rollback().await?;
                Err(too_many(wait))
            }
        }
    }

    /// The check succeeded: the attempts do not count. If the database cannot be reached,
    /// they stay counted (the safe side) and the failure is logged.
    pub async fn refund(self) {
        if let Err(e) = self.give_back().await {
            tracing::warn!(error = %e, "refunding throttled attempts failed; they stay counted");
        }
    }

    async fn give_back(&self) -> Result<(), sqlx::Error> {
        if self.held.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        for (bucket, start) in &self.held {
            db::throttle::refund(&mut tx, bucket, *start).await?;
        }
        tx.commit().await
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
    db: Db,
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
}

impl Throttle {
    pub fn new(t: &Throttling, db: Db) -> Self {
        let limiter = |name, limit| Limiter { name, limit };
        Self {
            db,
            login_pair: limiter("login_pair", t.login_pair),
            login_address: limiter("login_address", t.login_address),
            login_account: limiter("login_account", t.login_account),
            two_factor_account: limiter("two_factor_account", t.two_factor_account),
            two_factor_address: limiter("two_factor_address", t.two_factor_address),
            two_factor_challenge: limiter("two_factor_challenge", t.two_factor_challenge),
            reauth: limiter("reauth", t.reauth),
            register_address: limiter("register_address", t.register_address),
            reset_address: limiter("reset_address", t.reset_address),
            reset_email: limiter("reset_email", t.reset_email),
        }
    }

    /// Before checking a password: reserves an attempt for this pair, this address, and
    /// (from an address the account never logged in from) the account.
    pub async fn reserve_login(
        &self,
        account: &str,
        ip: &str,
    ) -> Result<Reservation<'_>, ApiError> {
        self.reserve_login_at(account, ip, db::now_micros()).await
    }

    async fn reserve_login_at(
        &self,
        account: &str,
        ip: &str,
        now: i64,
    ) -> Result<Reservation<'_>, ApiError> {
        let address = address_key(ip);
        let pair = pair_key(account, &address);
        let known = self.is_known(&pair, now).await?;
        let mut wanted = vec![(self.login_address, address), (self.login_pair, pair)];
        if !known {
            wanted.push((self.login_account, account.to_owned()));
        }
        Reservation::take(&self.db, wanted, now).await
    }

    /// After a completed login (the password, and the second factor if the account has
    /// one): the pair starts over, and the address becomes known to the account, which
    /// exempts it from the account-wide limits. A password alone never makes an address
    /// known for a 2FA account, or whoever stole it would be exempt from the code limits.
    pub async fn login_completed(&self, user_id: i64, ip: &str) -> Result<(), ApiError> {
        self.login_completed_at(user_id, ip, db::now_micros()).await
    }

    async fn login_completed_at(&self, user_id: i64, ip: &str, now: i64) -> Result<(), ApiError> {
        let pair = pair_key(&user_key(user_id), &address_key(ip));
        let known = format!("{KNOWN}/{pair}");
        let cleared = self.login_pair.bucket(&pair);
        let mut tx = self.db.begin().await?;
        // In the order reservations take rows ("known/…" before "login_pair/…").
        db::throttle::remember(
            &mut tx,
            &known,
            now,
            now.saturating_add(db::micros(KNOWN_ADDRESS_TTL)),
        )
        .await?;
        db::throttle::clear(&mut tx, &cleared).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn is_known(&self, pair: &str, now: i64) -> Result<bool, ApiError> {
        Ok(db::throttle::is_live(self.db.pool(), &format!("{KNOWN}/{pair}"), now).await?)
    }

    /// Before minting a 2FA challenge for a correct password: a password alone must not
    /// open unlimited rounds of code guessing. Counted per account, except from the
    /// account's known addresses; never refunded (a challenge is an attempt).
    pub async fn reserve_challenge(&self, user_id: i64, ip: &str) -> Result<(), ApiError> {
        let account = user_key(user_id);
        let now = db::now_micros();
        if self
            .is_known(&pair_key(&account, &address_key(ip)), now)
            .await?
        {
            return Ok(());
        }
        Reservation::take(&self.db, vec![(self.two_factor_challenge, account)], now)
            .await
            .map(drop)
    }

    /// Before checking the code of a 2FA login: per address, and per account unless the
    /// address is one the account completed a login from.
    pub async fn reserve_two_factor(
        &self,
        user_id: i64,
        ip: &str,
    ) -> Result<Reservation<'_>, ApiError> {
        self.reserve_two_factor_at(user_id, ip, db::now_micros())
            .await
    }

    async fn reserve_two_factor_at(
        &self,
        user_id: i64,
        ip: &str,
        now: i64,
    ) -> Result<Reservation<'_>, ApiError> {
        let account = user_key(user_id);
        let address = address_key(ip);
        let known = self.is_known(&pair_key(&account, &address), now).await?;
        let mut wanted = vec![(self.two_factor_address, address)];
        if !known {
            wanted.push((self.two_factor_account, account));
        }
        Reservation::take(&self.db, wanted, now).await
    }

    /// Before re-authenticating a logged-in user (the current password to change the
    /// email, the password or 2FA; a code to change 2FA): per session, so a stolen token
    /// gets a few guesses and the owner's own sessions are never held up by them.
    pub async fn reserve_reauth(&self, session_id: i64) -> Result<Reservation<'_>, ApiError> {
        Reservation::take(
            &self.db,
            vec![(self.reauth, format!("session:{session_id}"))],
            db::now_micros(),
        )
        .await
    }

    /// Counts a registration attempt from this address, or refuses it. Every attempt
    /// counts, so that probing which emails are taken costs what registering does.
    pub async fn registration(&self, ip: &str) -> Result<(), ApiError> {
        Reservation::take(
            &self.db,
            vec![(self.register_address, address_key(ip))],
            db::now_micros(),
        )
        .await
        .map(drop)
    }

    /// Counts a password-reset request, or refuses it. `email` is counted whether or not
    /// an account has it.
    pub async fn reset_requested(&self, email: &str, ip: &str) -> Result<(), ApiError> {
        let email = email.trim().to_lowercase();
        Reservation::take(
            &self.db,
            vec![
                (self.reset_address, address_key(ip)),
                (self.reset_email, email),
            ],
            db::now_micros(),
        )
        .await
        .map(drop)
    }

    /// Deletes ended windows and forgotten addresses (hourly, from the maintenance task);
    /// returns how many.
    pub async fn sweep(&self) -> Result<u64, sqlx::Error> {
        self.sweep_at(db::now_micros()).await
    }

    async fn sweep_at(&self, now: i64) -> Result<u64, sqlx::Error> {
        let mut tx = self.db.begin().await?;
        let purged = db::throttle::purge_ended(&mut tx, now).await?;
        tx.commit().await?;
        Ok(purged)
    }
}

fn pair_key(account: &str, address: &str) -> String {
    format!("{account}|{address}")
}

/// 429 with the wait (microseconds) in whole seconds, rounded up.
fn too_many(wait_micros: i64) -> ApiError {
    let wait = u64::try_from(wait_micros).unwrap_or(0);
    ApiError::TooManyRequests {
        retry_after_secs: wait.div_ceil(1_000_000).max(1),
    }
}

#[cfg(test)]
mod tests;
