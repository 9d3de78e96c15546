//! Users: rows and the queries that read them.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, FromRow, Row};
use wire::Timestamp;

use crate::db::Db;

/// The columns every query that returns a user selects, in this order, so that
/// [`UserRow::from_row`] can read them (optionally behind a table alias).
pub const USER_COLUMNS: &str = "u.id, u.username, u.email, u.password_hash IS NOT NULL AS has_password, u.about_me, u.first_seen, u.last_seen";

/// A user as stored, without the password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub has_password: bool,
    pub about_me: String,
    pub first_seen: i64,
    pub last_seen: i64,
}

impl FromRow<'_, AnyRow> for UserRow {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            email: row.try_get("email")?,
            has_password: read_bool(row, "has_password")?,
            about_me: row.try_get("about_me")?,
            first_seen: row.try_get("first_seen")?,
            last_seen: row.try_get("last_seen")?,
        })
    }
}

/// Reads a boolean expression: PostgreSQL returns a boolean, SQLite an integer.
pub fn read_bool(row: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    match row.try_get::<bool, _>(column) {
        Ok(b) => Ok(b),
        Err(_) => Ok(row.try_get::<i64, _>(column)? != 0),
    }
}

impl UserRow {
    /// The user as `viewer_id` sees it: the email only in one's own record.
    pub fn to_wire(&self, viewer_id: Option<i64>) -> wire::User {
        let id = self.id;
        wire::User {
            id,
            username: self.username.clone(),
            email: (viewer_id == Some(id)).then(|| self.email.clone()),
            about_me: self.about_me.clone(),
            // Our own identicon, not Gravatar: no hash of the email leaves the server and
            // the CSP needs no exception. It already has a `?`: clients append `&s=48`.
            avatar_url: format!("/api/avatars/{id}?d=identicon"),
            first_seen: Timestamp::from_micros(self.first_seen),
            last_seen: Timestamp::from_micros(self.last_seen),
            posts_url: format!("/api/users/{id}/posts"),
            url: format!("/api/users/{id}"),
            has_password: self.has_password,
        }
    }
}

/// A user by id.
pub async fn by_id(pool: &AnyPool, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// A user by username, case-insensitively.
pub async fn by_username(pool: &AnyPool, username: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE lower(u.username) = lower($1)"
    ))
    .bind(username)
    .fetch_optional(pool)
    .await
}

/// What a login needs to check a password.
#[derive(Debug, FromRow)]
pub struct LoginRow {
    pub id: i64,
    pub password_hash: Option<String>,
}

/// The login record of a user named by username or email, case-insensitively. A
/// username cannot contain `@`, so the two never collide.
pub async fn credentials_for_login(
    pool: &AnyPool,
    name: &str,
) -> Result<Option<LoginRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, password_hash FROM users
         WHERE lower(username) = lower($1) OR lower(email) = lower($1)",
    )
    .bind(name.trim())
    .fetch_optional(pool)
    .await
}

/// Bumps `last_seen`. Callers bound how often (see `auth::LAST_SEEN_RESOLUTION_MICROS`).
pub async fn touch_last_seen(db: &Db, id: i64, now: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE users SET last_seen = $1 WHERE id = $2 AND last_seen < $1")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}
