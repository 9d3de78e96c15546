//! Two-factor authentication: TOTP secrets, recovery codes and login challenges.
//!
//! TOTP secrets are stored sealed under SECRET_KEY (see `crate::secrets`): these functions
//! move the sealed text, the flows seal and open it. Recovery codes, challenges and reset
//! tokens are stored only as SHA-256 hashes.

use sqlx::{AnyPool, Row};

use crate::db::password_resets::{fingerprint, issued_for_current_password};
use crate::db::{Db, Tx};

/// A user's TOTP secret and its state.
#[derive(Clone)]
pub struct Totp {
    /// Sealed (base32 inside).
    pub secret: String,
    /// False while enrolment is pending.
    pub enabled: bool,
}

impl std::fmt::Debug for Totp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Totp")
            .field("secret", &"<redacted>")
            .field("enabled", &self.enabled)
            .finish()
    }
}

/// The user's TOTP secret, enabled or pending, if any.
pub async fn totp(pool: &AnyPool, user_id: i64) -> Result<Option<Totp>, sqlx::Error> {
    let row = sqlx::query("SELECT secret, enabled_at FROM totp_secrets WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(pool)
        .await?;
    row.map(|r| {
        Ok(Totp {
            secret: r.try_get("secret")?,
            enabled: r.try_get::<Option<i64>, _>("enabled_at")?.is_some(),
        })
    })
    .transpose()
}

/// Whether the user has 2FA on.
pub async fn is_enabled(pool: &AnyPool, user_id: i64) -> Result<bool, sqlx::Error> {
    Ok(totp(pool, user_id).await?.is_some_and(|t| t.enabled))
}

/// Starts (or restarts) a pending enrolment. False if 2FA is already on.
pub async fn start_enrolment(
    tx: &mut Tx,
    user_id: i64,
    secret: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM totp_secrets WHERE user_id = $1 AND enabled_at IS NULL")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    let enabled: Option<i64> = sqlx::query_scalar("SELECT 1 FROM totp_secrets WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await?;
    if enabled.is_some() {
        return Ok(false);
    }
    sqlx::query("INSERT INTO totp_secrets (user_id, secret, created_at) VALUES ($1, $2, $3)")
        .bind(user_id)
        .bind(secret)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(true)
}

/// Records `step` as the last accepted one, if it is newer than the last: false means a
/// replay (or a race lost to a request with the same code).
pub async fn accept_step(tx: &mut Tx, user_id: i64, step: i64) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE totp_secrets SET last_step = $1 WHERE user_id = $2 AND last_step < $1")
            .bind(step)
            .bind(user_id)
            .execute(&mut **tx)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Turns a pending enrolment on. False if there was none.
pub async fn enable(tx: &mut Tx, user_id: i64, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE totp_secrets SET enabled_at = $1 WHERE user_id = $2 AND enabled_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Turns 2FA off: the secret, the recovery codes and pending challenges go.
pub async fn disable(tx: &mut Tx, user_id: i64) -> Result<(), sqlx::Error> {
    for sql in [
        "DELETE FROM totp_secrets WHERE user_id = $1",
        "DELETE FROM recovery_codes WHERE user_id = $1",
        "DELETE FROM login_challenges WHERE user_id = $1",
    ] {
        sqlx::query(sql).bind(user_id).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Replaces the user's recovery codes with these (SHA-256 hashes).
pub async fn replace_recovery_codes(
    tx: &mut Tx,
    user_id: i64,
    code_hashes: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    for hash in code_hashes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(user_id)
            .bind(hash)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Uses up a recovery code. False if the user has no such (unused) code.
pub async fn use_recovery_code(
    tx: &mut Tx,
    user_id: i64,
    code_hash: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1 AND code_hash = $2")
        .bind(user_id)
        .bind(code_hash)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// How many unused recovery codes the user has.
pub async fn recovery_codes_left(pool: &AnyPool, user_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(pool)
        .await
}

/// Stores a login challenge for a user who just gave the right password.
pub async fn create_challenge(
    tx: &mut Tx,
    user_id: i64,
    token_hash: &str,
    now: i64,
    expires_at: i64,
    password_hash: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO login_challenges (token_hash, user_id, created_at, expires_at, password_fingerprint)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .bind(fingerprint(password_hash))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The user a live challenge belongs to: `None` if it is unknown, used, expired, or the
/// password changed since.
pub async fn challenge_user(
    pool: &AnyPool,
    token_hash: &str,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT c.user_id, c.expires_at, c.password_fingerprint, u.password_hash
         FROM login_challenges c JOIN users u ON u.id = c.user_id
         WHERE c.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    if !issued_for_current_password(&row, now)? {
        return Ok(None);
    }
    Ok(Some(row.try_get("user_id")?))
}

/// Uses up a challenge. False if another request used it first, or it just expired.
pub async fn consume_challenge(
    tx: &mut Tx,
    token_hash: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM login_challenges WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash)
            .bind(now)
            .execute(&mut **tx)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Counts a wrong code against a challenge, deleting it at `max_failures`.
pub async fn challenge_failed(
    db: &Db,
    token_hash: &str,
    max_failures: u32,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE login_challenges SET failures = failures + 1 WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM login_challenges WHERE token_hash = $1 AND failures >= $2")
        .bind(token_hash)
        .bind(i64::from(max_failures))
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Deletes every pending challenge of a user (password reset).
pub async fn delete_challenges(tx: &mut Tx, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_challenges WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Deletes expired challenges, and enrolments left pending for a day. Returns how many.
pub async fn purge_expired(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let challenges = sqlx::query("DELETE FROM login_challenges WHERE expires_at < $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let pending =
        sqlx::query("DELETE FROM totp_secrets WHERE enabled_at IS NULL AND created_at < $1")
            .bind(now - 24 * 3600 * 1_000_000)
            .execute(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(challenges.rows_affected() + pending.rows_affected())
}

/// Every stored TOTP secret (sealed, or plaintext from before sealing), for re-sealing.
pub async fn all_secrets(tx: &mut Tx) -> Result<Vec<(i64, String)>, sqlx::Error> {
    let rows = sqlx::query("SELECT user_id, secret FROM totp_secrets")
        .fetch_all(&mut **tx)
        .await?;
    rows.into_iter()
        .map(|r| Ok((r.try_get("user_id")?, r.try_get("secret")?)))
        .collect()
}

/// Replaces a stored secret (the same secret, sealed again).
pub async fn set_secret(tx: &mut Tx, user_id: i64, sealed: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE totp_secrets SET secret = $1 WHERE user_id = $2")
        .bind(sealed)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
