//! Users: rows and the queries that read and write them.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Executor, FromRow, Row};
use wire::Timestamp;

use crate::db::{Db, Tx, is_unique_violation, now_micros};

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
pub async fn by_id<'e>(
    db: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
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

/// Which of a username and an email already belong to someone other than `except`,
/// case-insensitively (as the unique indexes compare them).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    pub username: bool,
    pub email: bool,
}

/// Checks a username and an email (either may be absent) against other users. A quick
/// answer for the form; the unique indexes remain the arbiter (see [`conflict`]).
pub async fn taken(
    pool: &AnyPool,
    username: Option<&str>,
    email: Option<&str>,
    except: Option<i64>,
) -> Result<Taken, sqlx::Error> {
    let row = sqlx::query(
        "SELECT
           EXISTS (SELECT 1 FROM users WHERE lower(username) = lower($1) AND id <> $3) AS username_taken,
           EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($2) AND id <> $3) AS email_taken",
    )
    .bind(username)
    .bind(email)
    .bind(except.unwrap_or(-1))
    .fetch_one(pool)
    .await?;
    Ok(Taken {
        username: read_bool(&row, "username_taken")?,
        email: read_bool(&row, "email_taken")?,
    })
}

/// The field a unique violation is about, when a write lost a race to another request
/// that took the same username or email between the check and the write.
pub fn conflict(e: &sqlx::Error) -> Option<&'static str> {
    if !is_unique_violation(e) {
        return None;
    }
    let sqlx::Error::Database(d) = e else {
        return None;
    };
    // PostgreSQL names the constraint; SQLite names the index in its message. Both are
    // `users_email_key` or `users_username_key` (see the migrations).
    let about_email = d.constraint().is_some_and(|c| c.contains("email"))
        || d.message().contains("users_email_key")
        || d.message().contains("users.email");
    Some(if about_email { "email" } else { "username" })
}

/// A new account, already validated and with its password hashed.
#[derive(Debug)]
pub struct NewUserRow<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub about_me: &'a str,
}

/// Creates an account, in one transaction, and returns it.
pub async fn create(db: &Db, new: &NewUserRow<'_>) -> Result<UserRow, sqlx::Error> {
    let now = now_micros();
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (username, email, password_hash, about_me, first_seen, last_seen)
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(new.username)
    .bind(new.email)
    .bind(new.password_hash)
    .bind(new.about_me)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let user = by_id(&mut *tx, id).await?.ok_or(sqlx::Error::RowNotFound)?;
    tx.commit().await?;
    Ok(user)
}

/// What `PUT /me` changes; `None` leaves a column as it is.
#[derive(Debug, Default)]
pub struct Changes<'a> {
    pub username: Option<&'a str>,
    pub email: Option<&'a str>,
    pub about_me: Option<&'a str>,
    pub password_hash: Option<&'a str>,
}

/// Applies changes to a user inside the caller's transaction, and returns the result.
pub async fn update(tx: &mut Tx, id: i64, changes: &Changes<'_>) -> Result<UserRow, sqlx::Error> {
    sqlx::query(
        "UPDATE users SET username = COALESCE($1, username), email = COALESCE($2, email),
                about_me = COALESCE($3, about_me), password_hash = COALESCE($4, password_hash)
         WHERE id = $5",
    )
    .bind(changes.username)
    .bind(changes.email)
    .bind(changes.about_me)
    .bind(changes.password_hash)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    by_id(&mut **tx, id).await?.ok_or(sqlx::Error::RowNotFound)
}

/// The stored password hash of a user; `None` for accounts without a password (OAuth).
pub async fn password_hash(pool: &AnyPool, id: i64) -> Result<Option<String>, sqlx::Error> {
    let hash: Option<Option<String>> =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(hash.flatten())
}

/// Whether a user with this id exists.
pub async fn exists<'e>(
    db: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(found.is_some())
}

/// Sets a user's password hash.
pub async fn set_password(
    tx: &mut Tx,
    user_id: i64,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The stored password hash of a user, read inside a transaction.
pub async fn password_hash_in(tx: &mut Tx, id: i64) -> Result<Option<String>, sqlx::Error> {
    let hash: Option<Option<String>> =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(hash.flatten())
}
