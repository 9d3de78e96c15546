//! Accounts at OAuth providers linked to ours (`oauth_identities`), and the sign-ins on
//! their way through a provider (`oauth_flows`).

use sqlx::{AnyPool, FromRow};

use crate::db::users::UserRow;
use crate::db::{Db, Tx, is_unique_violation};

/// A flow as stored when it starts.
#[derive(Debug)]
pub struct NewFlow<'a> {
    pub state_hash: &'a str,
    pub provider: &'a str,
    /// Sealed with `SECRET_KEY`.
    pub pkce_verifier: &'a str,
    pub nonce: &'a str,
    /// For a link from the settings: the account and session that started it.
    pub link: Option<(i64, i64)>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A flow taken out of the table to be finished.
#[derive(Debug, FromRow)]
pub struct FlowRow {
    pub provider: String,
    pub pkce_verifier: String,
    pub nonce: String,
    pub user_id: Option<i64>,
    pub session_id: Option<i64>,
    pub expires_at: i64,
}

/// Stores a new flow.
pub async fn create_flow(db: &Db, flow: &NewFlow<'_>) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO oauth_flows
           (state_hash, provider, pkce_verifier, nonce, user_id, session_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(flow.state_hash)
    .bind(flow.provider)
    .bind(flow.pkce_verifier)
    .bind(flow.nonce)
    .bind(flow.link.map(|(user, _)| user))
    .bind(flow.link.map(|(_, session)| session))
    .bind(flow.created_at)
    .bind(flow.expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Takes a flow out, whatever happens next: a `state` works once. `None` when it is
/// unknown or was already used (expiry is the caller's to check: the row is gone either way).
pub async fn take_flow(db: &Db, state_hash: &str) -> Result<Option<FlowRow>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let row = sqlx::query_as(
        "DELETE FROM oauth_flows WHERE state_hash = $1
         RETURNING provider, pkce_verifier, nonce, user_id, session_id, expires_at",
    )
    .bind(state_hash)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Deletes flows that were never finished.
pub async fn purge_expired_flows(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let done = sqlx::query("DELETE FROM oauth_flows WHERE expires_at < $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

/// The account an identity at a provider belongs to.
pub async fn user_for_identity(
    tx: &mut Tx,
    provider: &str,
    subject: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT user_id FROM oauth_identities WHERE provider = $1 AND subject = $2")
        .bind(provider)
        .bind(subject)
        .fetch_optional(&mut **tx)
        .await
}

/// Records a sign-in through an identity: when, and the email the provider gave.
pub async fn touch_identity(
    tx: &mut Tx,
    provider: &str,
    subject: &str,
    email: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE oauth_identities SET last_login_at = $1, email = $2
         WHERE provider = $3 AND subject = $4",
    )
    .bind(now)
    .bind(email)
    .bind(provider)
    .bind(subject)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Why an identity could not be linked.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkConflict {
    /// The account already has an identity at this provider.
    ProviderTaken,
    /// The identity belongs to an account already.
    IdentityTaken,
}

/// Links an identity to an account; a unique violation says which rule it broke.
pub async fn link(
    tx: &mut Tx,
    user_id: i64,
    provider: &str,
    subject: &str,
    email: &str,
    now: i64,
) -> Result<Result<(), LinkConflict>, sqlx::Error> {
    if user_for_identity(tx, provider, subject).await?.is_some() {
        return Ok(Err(LinkConflict::IdentityTaken));
    }
    let has_provider: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM oauth_identities WHERE user_id = $1 AND provider = $2")
            .bind(user_id)
            .bind(provider)
            .fetch_optional(&mut **tx)
            .await?;
    if has_provider.is_some() {
        return Ok(Err(LinkConflict::ProviderTaken));
    }
    let inserted = sqlx::query(
        "INSERT INTO oauth_identities (provider, subject, user_id, email, created_at, last_login_at)
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(provider)
    .bind(subject)
    .bind(user_id)
    .bind(email)
    .bind(now)
    .execute(&mut **tx)
    .await;
    match inserted {
        Ok(_) => Ok(Ok(())),
        // Lost a race to a request linking the same identity or provider.
        Err(e) if is_unique_violation(&e) => Ok(Err(LinkConflict::IdentityTaken)),
        Err(e) => Err(e),
    }
}

/// An identity as the settings list it.
#[derive(Debug, FromRow)]
pub struct IdentityRow {
    pub provider: String,
    pub email: String,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
}

/// A user's linked identities, by provider name.
pub async fn for_user(pool: &AnyPool, user_id: i64) -> Result<Vec<IdentityRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT provider, email, created_at, last_login_at FROM oauth_identities
         WHERE user_id = $1 ORDER BY provider",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
}

/// What an unlink did.
#[derive(Debug, PartialEq, Eq)]
pub enum Unlinked {
    Done,
    /// Nothing of this provider is linked to the account.
    NotLinked,
    /// It is the account's last way in (no password, no other provider).
    LastMethod,
}

/// Unlinks a provider from an account, unless it is the account's last way to sign in.
/// The user's row is locked first (a no-op update; PostgreSQL forbids even a no-op write
/// to the identity column), so two unlinks of an account's last two providers cannot both
/// see the other one still there.
pub async fn unlink(db: &Db, user_id: i64, provider: &str) -> Result<Unlinked, sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE users SET last_seen = last_seen WHERE id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let linked: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM oauth_identities WHERE user_id = $1 AND provider = $2")
            .bind(user_id)
            .bind(provider)
            .fetch_optional(&mut *tx)
            .await?;
    if linked.is_none() {
        return Ok(Unlinked::NotLinked);
    }
    let others: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM oauth_identities WHERE user_id = $1 AND provider <> $2",
    )
    .bind(user_id)
    .bind(provider)
    .fetch_one(&mut *tx)
    .await?;
    let has_password = crate::db::users::password_hash_in(&mut tx, user_id)
        .await?
        .is_some();
    if others == 0 && !has_password {
        return Ok(Unlinked::LastMethod);
    }
    sqlx::query("DELETE FROM oauth_identities WHERE user_id = $1 AND provider = $2")
        .bind(user_id)
        .bind(provider)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Unlinked::Done)
}

/// A new account from a provider: no password, the identity linked. Fails with a unique
/// violation when the username or email is taken (see [`crate::db::users::conflict`]).
pub async fn create_user(
    tx: &mut Tx,
    username: &str,
    email: &str,
    now: i64,
) -> Result<UserRow, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (username, email, password_hash, about_me, first_seen, last_seen)
         VALUES ($1, $2, NULL, '', $3, $3) RETURNING id",
    )
    .bind(username)
    .bind(email)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    crate::db::users::by_id(&mut **tx, id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}
