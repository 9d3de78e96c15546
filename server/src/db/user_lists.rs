//! Lists of users: everyone, and whom a user follows or is followed by.

use sqlx::AnyPool;

use crate::db::users::{USER_COLUMNS, UserRow};
use crate::db::{Backend, Db};

/// A page of all users, in order of registration: `(users, total)`.
pub async fn all_from_offset(
    pool: &AnyPool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<UserRow>, i64), sqlx::Error> {
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(pool)
        .await?;
    let users = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users u ORDER BY u.id LIMIT $1 OFFSET $2"
    ))
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    Ok((users, total))
}

/// One side of the follow relation of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follows {
    /// The users that this user follows.
    Following(i64),
    /// The users that follow this user.
    Followers(i64),
}

impl Follows {
    /// `FROM ... WHERE ...` with the user id as `$1`; the follows primary key serves the
    /// first, the `follows_followed` index the second.
    fn source(self) -> &'static str {
        match self {
            Self::Following(_) => {
                "FROM follows f JOIN users u ON u.id = f.followed_id WHERE f.follower_id = $1"
            }
            Self::Followers(_) => {
                "FROM follows f JOIN users u ON u.id = f.follower_id WHERE f.followed_id = $1"
            }
        }
    }

    fn user_id(self) -> i64 {
        match self {
            Self::Following(id) | Self::Followers(id) => id,
        }
    }
}

/// The sort key of these lists: the username, case-insensitively, compared byte by byte
/// on both databases (PostgreSQL's default collation would otherwise order `_` and `.`
/// differently from SQLite).
fn username_key(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "lower(u.username)",
        Backend::Postgres => "lower(u.username) COLLATE \"C\"",
    }
}

/// A page of followed users or followers by username, from an offset: `(users, total)`.
pub async fn follows_from_offset(
    db: &Db,
    list: Follows,
    limit: i64,
    offset: i64,
) -> Result<(Vec<UserRow>, i64), sqlx::Error> {
    let source = list.source();
    let key = username_key(db.backend());
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) {source}"))
        .bind(list.user_id())
        .fetch_one(db.pool())
        .await?;
    let users = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} {source} ORDER BY {key} LIMIT $2 OFFSET $3"
    ))
    .bind(list.user_id())
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    Ok((users, total))
}

/// A page of followed users or followers whose username sorts strictly after `after`:
/// `(users, offset, total)`, where `offset` counts those at or before it.
pub async fn follows_after(
    db: &Db,
    list: Follows,
    limit: i64,
    after: &str,
) -> Result<(Vec<UserRow>, i64, i64), sqlx::Error> {
    let source = list.source();
    let key = username_key(db.backend());
    let (total, offset): (i64, i64) = sqlx::query_as(&format!(
        "SELECT (SELECT COUNT(*) {source}),
                (SELECT COUNT(*) {source} AND {key} <= lower($2))"
    ))
    .bind(list.user_id())
    .bind(after)
    .fetch_one(db.pool())
    .await?;
    let users = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} {source} AND {key} > lower($2) ORDER BY {key} LIMIT $3"
    ))
    .bind(list.user_id())
    .bind(after)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok((users, offset, total))
}
