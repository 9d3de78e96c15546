//! Posts: rows with their authors, and the queries behind explore, profiles and the feed.
//!
//! Every list is newest first (`timestamp DESC, id DESC`), so that the indexes
//! `posts_timestamp` and `posts_author_timestamp` serve both the order and `after=`.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::QueryAs;
use sqlx::{Any, AnyPool, FromRow, Row};
use wire::Timestamp;

use crate::db::Tx;
use crate::db::users::{USER_COLUMNS, UserRow};

/// A post with its author, as one row of a JOIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRow {
    pub id: i64,
    pub text: String,
    pub timestamp: i64,
    pub author: UserRow,
}

impl FromRow<'_, AnyRow> for PostRow {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("post_id")?,
            text: row.try_get("post_text")?,
            timestamp: row.try_get("post_timestamp")?,
            author: UserRow::from_row(row)?,
        })
    }
}

impl PostRow {
    /// The post as `viewer_id` sees it (the author's email only if they are the viewer).
    pub fn to_wire(&self, viewer_id: i64) -> wire::Post {
        wire::Post {
            id: self.id,
            text: self.text.clone(),
            timestamp: Timestamp::from_micros(self.timestamp),
            url: format!("/api/posts/{}", self.id),
            author: self.author.to_wire(Some(viewer_id)),
        }
    }
}

/// The order of every post list; ids break ties between posts of the same microsecond.
const NEWEST_FIRST: &str = "ORDER BY p.timestamp DESC, p.id DESC";

/// The post columns (aliased apart from the user's `id`) followed by the author's.
fn select_posts() -> String {
    format!(
        "SELECT p.id AS post_id, p.text AS post_text, p.timestamp AS post_timestamp, {USER_COLUMNS}
         FROM posts p JOIN users u ON u.id = p.author_id"
    )
}

/// Which posts a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostList {
    /// Everyone's posts (explore).
    All,
    /// One user's posts (a profile).
    By(i64),
    /// A user's own posts and those of everyone they follow.
    Feed(i64),
}

impl PostList {
    /// The condition on `p`, using `$1` for the user id if there is one.
    fn condition(self) -> &'static str {
        match self {
            Self::All => "1 = 1",
            Self::By(_) => "p.author_id = $1",
            // The IN list (the followed ids plus one's own) is small; SQLite either walks
            // `posts_author_timestamp` once per author or `posts_timestamp` while probing
            // the list, whichever its planner prefers for the page asked.
            Self::Feed(_) => {
                "p.author_id IN (SELECT f.followed_id FROM follows f WHERE f.follower_id = $1 UNION ALL SELECT $1)"
            }
        }
    }

    fn user_id(self) -> Option<i64> {
        match self {
            Self::All => None,
            Self::By(id) | Self::Feed(id) => Some(id),
        }
    }

    /// The placeholder for the `n`th argument after the list's own.
    fn arg(self, n: usize) -> String {
        format!("${}", n + usize::from(self.user_id().is_some()))
    }

    fn bind<'q, O>(
        self,
        query: QueryAs<'q, Any, O, AnyArguments<'q>>,
    ) -> QueryAs<'q, Any, O, AnyArguments<'q>> {
        match self.user_id() {
            Some(id) => query.bind(id),
            None => query,
        }
    }
}

/// A page of a post list, newest first, from an offset: `(posts, total)`.
pub async fn page_from_offset(
    pool: &AnyPool,
    list: PostList,
    limit: i64,
    offset: i64,
) -> Result<(Vec<PostRow>, i64), sqlx::Error> {
    let condition = list.condition();
    let (total,): (i64,) = list
        .bind(sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM posts p WHERE {condition}"
        )))
        .fetch_one(pool)
        .await?;
    let sql = format!(
        "{} WHERE {condition} {NEWEST_FIRST} LIMIT {} OFFSET {}",
        select_posts(),
        list.arg(1),
        list.arg(2)
    );
    let rows = list
        .bind(sqlx::query_as(&sql))
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
    Ok((rows, total))
}

/// A page of a post list, newest first, of the posts strictly older than `after`:
/// `(posts, offset, total)`, where `offset` counts the posts at least as new as `after`.
pub async fn page_after(
    pool: &AnyPool,
    list: PostList,
    limit: i64,
    after: i64,
) -> Result<(Vec<PostRow>, i64, i64), sqlx::Error> {
    let condition = list.condition();
    let after_arg = list.arg(1);
    // Two scalar subqueries in one round trip; each uses an index of its own.
    let (total, offset): (i64, i64) = list
        .bind(sqlx::query_as(&format!(
            "SELECT (SELECT COUNT(*) FROM posts p WHERE {condition}),
                    (SELECT COUNT(*) FROM posts p WHERE {condition} AND p.timestamp >= {after_arg})"
        )))
        .bind(after)
        .fetch_one(pool)
        .await?;
    let sql = format!(
        "{} WHERE {condition} AND p.timestamp < {after_arg} {NEWEST_FIRST} LIMIT {}",
        select_posts(),
        list.arg(2)
    );
    let rows = list
        .bind(sqlx::query_as(&sql))
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    Ok((rows, offset, total))
}

/// A post by id, with its author.
pub async fn by_id(pool: &AnyPool, id: i64) -> Result<Option<PostRow>, sqlx::Error> {
    sqlx::query_as(&format!("{} WHERE p.id = $1", select_posts()))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// The author of a post, read inside the write transaction that changes it.
pub async fn author_of(tx: &mut Tx, id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT author_id FROM posts WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

/// Stores a new post; returns its id.
pub async fn insert(tx: &mut Tx, author_id: i64, text: &str, now: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO posts (author_id, text, timestamp) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(author_id)
    .bind(text)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
}

/// Replaces a post's text. The timestamp stays: it orders the lists.
pub async fn update_text(tx: &mut Tx, id: i64, text: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE posts SET text = $1 WHERE id = $2")
        .bind(text)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Deletes a post.
pub async fn delete(tx: &mut Tx, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM posts WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
