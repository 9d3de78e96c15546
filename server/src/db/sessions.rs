//! Sessions and their tokens: issue at login, rotate at refresh, revoke at logout or reuse.

use std::time::Duration;

use sqlx::{AnyPool, FromRow, Row};

use crate::auth::refresh::{Presented, Rotation, decide};
use crate::auth::token;
use crate::db::users::{USER_COLUMNS, UserRow};
use crate::db::{Db, Tx, micros, now_micros};

/// Lifetimes and grace, from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    pub access: Duration,
    pub refresh: Duration,
    pub grace: Duration,
}

/// A session's refresh token, on its way out; the access token is signed for it when
/// the answer is shaped. Plaintext exists only here.
pub struct Issued {
    pub session_id: i64,
    pub user_id: i64,
    /// When the session, and so its refresh token, expires (absolute, from login).
    pub expires_at: i64,
    pub refresh_token: String,
}

/// Where a session was started from or last used.
#[derive(Clone, Debug)]
pub struct Origin<'a> {
    pub ip: &'a str,
    pub user_agent: &'a str,
}

/// The access token that came with a refresh, as the caller verified it (the reference
/// client sends its expired one along).
#[derive(Clone, Copy, Debug)]
pub enum AccessSent {
    Nothing,
    /// One we signed, for this session.
    OfSession(i64),
    /// Not one of ours.
    NotOurs,
}

impl AccessSent {
    fn allows(self, session_id: i64) -> bool {
        match self {
            Self::Nothing => true,
            Self::OfSession(s) => s == session_id,
            Self::NotOurs => false,
        }
    }
}

/// What presenting a refresh token led to.
pub enum Refresh {
    /// A fresh access token, and the refresh token to keep (new, or the current one for a
    /// request that raced the rotation within the grace).
    Issued(Issued),
    /// A rotated-away token came back after the grace: the session is now revoked.
    ReuseDetected { session_id: i64, user_id: i64 },
    /// Unknown, expired or revoked; or the access token sent with it belongs elsewhere.
    Invalid,
}

/// The user of a live session, if `session_id` is live and belongs to `user_id` (the
/// claims of a verified access token).
pub async fn user_for_session(
    pool: &AnyPool,
    session_id: i64,
    user_id: i64,
    now: i64,
) -> Result<Option<UserRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {USER_COLUMNS}
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > $3"
    ))
    .bind(session_id)
    .bind(user_id)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    row.map(|r| UserRow::from_row(&r)).transpose()
}

/// Starts a session for a user who just proved who they are.
pub async fn create(
    tx: &mut Tx,
    user_id: i64,
    origin: &Origin<'_>,
    lifetimes: Lifetimes,
) -> Result<Issued, sqlx::Error> {
    let now = now_micros();
    let expires_at = now.saturating_add(micros(lifetimes.refresh));
    let session_id: i64 = sqlx::query_scalar(
        "INSERT INTO sessions (user_id, created_at, expires_at, last_used_at, user_agent, client_ip)
         VALUES ($1, $2, $3, $2, $4, $5) RETURNING id",
    )
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .bind(origin.user_agent)
    .bind(origin.ip)
    .fetch_one(&mut **tx)
    .await?;
    let refresh_token = token::generate();
    insert_refresh(tx, session_id, 0, &refresh_token).await?;
    Ok(Issued {
        session_id,
        user_id,
        expires_at,
        refresh_token,
    })
}

/// Presents a refresh token, and the session of the access token that came with it, if
/// any (verified by the caller: it must name this session).
///
/// The current token rotates. The immediate predecessor, within the grace, gets the
/// current token back (sealed under the predecessor at rotation) and a new access
/// token: requests that raced one rotation end on one lineage. Anything older, or the
/// predecessor after the grace, is reuse: the whole session is revoked.
pub async fn refresh(
    db: &Db,
    refresh_token: &str,
    access: AccessSent,
    origin: &Origin<'_>,
    lifetimes: Lifetimes,
) -> Result<Refresh, sqlx::Error> {
    // On PostgreSQL two rotations of one session can race: the loser's conditional
    // UPDATE matches nothing, and it starts over to find itself the predecessor.
    for _ in 0..3 {
        if let Some(outcome) = try_refresh(db, refresh_token, access, origin, lifetimes).await? {
            return Ok(outcome);
        }
    }
    Err(sqlx::Error::Protocol(
        "refresh token rotation kept losing races".into(),
    ))
}

async fn try_refresh(
    db: &Db,
    refresh_token: &str,
    access: AccessSent,
    origin: &Origin<'_>,
    lifetimes: Lifetimes,
) -> Result<Option<Refresh>, sqlx::Error> {
    let now = now_micros();
    let mut tx = db.begin().await?;
    let row = sqlx::query(
        "SELECT r.generation AS presented, s.id, s.user_id, s.generation, s.rotated_at,
                s.sealed_current, s.revoked_at, s.expires_at
         FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
         WHERE r.token_hash = $1",
    )
    .bind(token::hash(refresh_token))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(Some(Refresh::Invalid));
    };
    let session_id: i64 = row.try_get("id")?;
    let user_id: i64 = row.try_get("user_id")?;
    let generation: i64 = row.try_get("generation")?;
    let sealed_current: Option<String> = row.try_get("sealed_current")?;
    let expires_at: i64 = row.try_get("expires_at")?;
    let presented = Presented {
        generation: row.try_get("presented")?,
        current: generation,
        rotated_at: row.try_get("rotated_at")?,
        revoked: row.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
        expires_at,
    };
    let verdict = decide(presented, now, micros(lifetimes.grace));
    if verdict == Rotation::Dead {
        return Ok(Some(Refresh::Invalid));
    }
    // Reuse is judged on the refresh token alone: whoever replays a rotated-away token
    // must not dodge the revocation (and the log line) by sending a wrong access token.
    if verdict != Rotation::Reuse && !access.allows(session_id) {
        return Ok(Some(Refresh::Invalid));
    }

    let refresh_token_out = if verdict == Rotation::Rotate {
        let next = token::generate();
        let sealed = token::seal(&next, refresh_token);
        let updated = sqlx::query(
            "UPDATE sessions
             SET generation = generation + 1, rotated_at = $1, sealed_current = $2,
                 last_used_at = $1, client_ip = $3, user_agent = $4
             WHERE id = $5 AND generation = $6 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(sealed)
        .bind(origin.ip)
        .bind(origin.user_agent)
        .bind(session_id)
        .bind(generation)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Ok(None); // lost a race; the transaction rolls back on drop
        }
        insert_refresh(&mut tx, session_id, generation + 1, &next).await?;
        next
    } else if verdict == Rotation::RaceWithinGrace {
        match sealed_current.and_then(|s| token::open(&s, refresh_token)) {
            Some(token) => token,
            None => return Ok(Some(Refresh::Invalid)),
        }
    } else {
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(session_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Ok(Some(Refresh::ReuseDetected {
            session_id,
            user_id,
        }));
    };

    tx.commit().await?;
    Ok(Some(Refresh::Issued(Issued {
        session_id,
        user_id,
        expires_at,
        refresh_token: refresh_token_out,
    })))
}

/// Revokes a session: every token of it stops working at once. True if it was live.
pub async fn revoke(db: &Db, session_id: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let done =
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_micros())
            .bind(session_id)
            .execute(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes every live session of a user except `keep` (password changes, "log out
/// everywhere else"). Returns how many were revoked.
pub async fn revoke_all_for_user(
    tx: &mut Tx,
    user_id: i64,
    keep: Option<i64>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = $1
         WHERE user_id = $2 AND revoked_at IS NULL AND id <> $3",
    )
    .bind(now_micros())
    .bind(user_id)
    .bind(keep.unwrap_or(-1))
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// A live session as its owner sees it in the list of devices.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: i64,
    pub created_at: i64,
    pub last_used_at: i64,
    pub client_ip: String,
    pub user_agent: String,
}

/// The user's live sessions (neither revoked nor expired), newest first.
pub async fn live_for_user(
    pool: &AnyPool,
    user_id: i64,
    now: i64,
) -> Result<Vec<SessionRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, created_at, last_used_at, client_ip, user_agent FROM sessions
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
         ORDER BY created_at DESC, id DESC",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SessionRow {
                id: r.try_get("id")?,
                created_at: r.try_get("created_at")?,
                last_used_at: r.try_get("last_used_at")?,
                client_ip: r.try_get("client_ip")?,
                user_agent: r.try_get("user_agent")?,
            })
        })
        .collect()
}

/// Revokes one live session of a user. False if it is not theirs, or not live.
pub async fn revoke_for_user(db: &Db, session_id: i64, user_id: i64) -> Result<bool, sqlx::Error> {
    let now = now_micros();
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = $1
         WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(session_id)
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes sessions that ended (expired or revoked) more than a day ago, with their
/// tokens. Returns how many went.
pub async fn purge_ended(db: &Db) -> Result<u64, sqlx::Error> {
    let cutoff = now_micros() - micros(Duration::from_secs(24 * 3600));
    let mut tx = db.begin().await?;
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1")
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

async fn insert_refresh(
    tx: &mut Tx,
    session_id: i64,
    generation: i64,
    token: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, generation) VALUES ($1, $2, $3)",
    )
    .bind(token::hash(token))
    .bind(session_id)
    .bind(generation)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// When a session was started by a login (refreshes do not change it).
pub async fn created_at(pool: &AnyPool, session_id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT created_at FROM sessions WHERE id = $1")
        .bind(session_id)
        .fetch_optional(pool)
        .await
}
