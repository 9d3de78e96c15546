//! Password-reset tokens (docs/security.md, "Password reset"): stored by SHA-256, one per
//! user, single-use, expiring, and bound to the password they were issued against.

use sqlx::{Any, AnyPool, Executor, Row};

use crate::auth::token;
use crate::db::{Db, Tx};

/// What a reset email needs to know about its recipient.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub password_hash: Option<String>,
}

/// What a redeemed token names.
#[derive(Debug, Clone)]
pub struct Redeemed {
    pub user_id: i64,
    pub username: String,
    pub email: String,
}

/// A fingerprint of a password hash: changes whenever the password is set, since every
/// Argon2 hash has a fresh salt. `None` (no password, an OAuth-only account) has one too.
pub fn fingerprint(password_hash: Option<&str>) -> String {
    token::hash(&format!("password:{}", password_hash.unwrap_or_default()))
}

/// Whether a row of a token issued for a password (`expires_at`, `password_fingerprint`,
/// the user's `password_hash`) is unexpired and the password is still the same.
pub fn issued_for_current_password(row: &sqlx::any::AnyRow, now: i64) -> Result<bool, sqlx::Error> {
    let expires_at: i64 = row.try_get("expires_at")?;
    let issued_for: String = row.try_get("password_fingerprint")?;
    let password_hash: Option<String> = row.try_get("password_hash")?;
    Ok(expires_at > now && issued_for == fingerprint(password_hash.as_deref()))
}

/// The account with this email, case-insensitively.
pub async fn recipient_by_email(
    pool: &AnyPool,
    email: &str,
) -> Result<Option<Recipient>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, username, email, password_hash FROM users WHERE lower(email) = lower($1)",
    )
    .bind(email.trim())
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(Recipient {
            id: r.try_get("id")?,
            username: r.try_get("username")?,
            email: r.try_get("email")?,
            password_hash: r.try_get("password_hash")?,
        })
    })
    .transpose()
}

/// Stores a new token for the user; any older one dies.
pub async fn replace(
    tx: &mut Tx,
    recipient: &Recipient,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM password_resets WHERE user_id = $1")
        .bind(recipient.id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at, password_fingerprint)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(recipient.id)
    .bind(now)
    .bind(expires_at)
    .bind(fingerprint(recipient.password_hash.as_deref()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether a token could be redeemed now (a read, before the slow password hash).
pub async fn is_usable(pool: &AnyPool, token_hash: &str, now: i64) -> Result<bool, sqlx::Error> {
    Ok(usable(pool, token_hash, now).await?.is_some())
}

/// Uses up a token: `None` if it is unknown, used, expired, or the password changed since
/// it was issued. Deletes every reset token of the user, so none outlives the reset.
pub async fn redeem(
    tx: &mut Tx,
    token_hash: &str,
    now: i64,
) -> Result<Option<Redeemed>, sqlx::Error> {
    let Some(user) = usable(&mut **tx, token_hash, now).await? else {
        return Ok(None);
    };
    // The conditional delete decides a race between two uses of one token.
    let deleted = sqlx::query("DELETE FROM password_resets WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&mut **tx)
        .await?;
    if deleted.rows_affected() != 1 {
        return Ok(None);
    }
    sqlx::query("DELETE FROM password_resets WHERE user_id = $1")
        .bind(user.user_id)
        .execute(&mut **tx)
        .await?;
    Ok(Some(user))
}

async fn usable<'c, E: Executor<'c, Database = Any>>(
    executor: E,
    token_hash: &str,
    now: i64,
) -> Result<Option<Redeemed>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT r.user_id, r.expires_at, r.password_fingerprint, u.username, u.email, u.password_hash
         FROM password_resets r JOIN users u ON u.id = r.user_id
         WHERE r.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(executor)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    if !issued_for_current_password(&row, now)? {
        return Ok(None);
    }
    Ok(Some(Redeemed {
        user_id: row.try_get("user_id")?,
        username: row.try_get("username")?,
        email: row.try_get("email")?,
    }))
}

/// Deletes every outstanding reset token of a user (the email changed: links sent to
/// the old address must die).
pub async fn delete_for_user(tx: &mut Tx, user_id: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM password_resets WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

/// Deletes expired tokens. Returns how many went.
pub async fn purge_expired(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let done = sqlx::query("DELETE FROM password_resets WHERE expires_at < $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_change_with_the_hash() {
        assert_eq!(fingerprint(Some("a")), fingerprint(Some("a")));
        assert_ne!(fingerprint(Some("a")), fingerprint(Some("b")));
        assert_ne!(fingerprint(None), fingerprint(Some("a")));
    }
}
