//! Posts: rows with their authors, and the queries behind explore, profiles and the feed.
//!
//! Every list is newest first (`timestamp DESC, id DESC`), so that the indexes
//! `posts_timestamp` and `posts_author_timestamp` serve both the order and `after=`.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::QueryAs;
use sqlx::{Any, AnyPool, FromRow, Row};
use wire::Timestamp;

use crate::db::users::{USER_COLUMNS, UserRow};
use crate::db::{Backend, Db, Tx};

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

/// Post ids per block of `post_blocks` (migration 0003 divides by the same).
const POST_BLOCK: i64 = 1024;

/// The post columns (aliased apart from the user's `id`), the author's, and `more`.
fn select_posts(more: &str) -> String {
    format!(
        "SELECT p.id AS post_id, p.text AS post_text, p.timestamp AS post_timestamp, {USER_COLUMNS}{more}
         FROM posts p JOIN users u ON u.id = p.author_id"
    )
}

/// A post of a page, with the numbers that place the page in its list: the same on
/// every row, as scalar subqueries that the database evaluates once per query. One round
/// trip instead of two; on SQLite every round trip is two thread hand-offs.
struct Placed {
    post: PostRow,
    total: i64,
    /// With `after`: how many posts are at least as new as it.
    newer: Option<i64>,
}

impl FromRow<'_, AnyRow> for Placed {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            post: PostRow::from_row(row)?,
            total: row.try_get("list_total")?,
            newer: match row.try_get("list_newer") {
                Ok(n) => Some(n),
                Err(sqlx::Error::ColumnNotFound(_)) => None,
                Err(e) => return Err(e),
            },
        })
    }
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

/// The authors of a feed: the users that `$1` follows, and `$1`.
const FEED_AUTHORS: &str =
    "SELECT f.followed_id FROM follows f WHERE f.follower_id = $1 UNION ALL SELECT $1";

impl PostList {
    /// The condition on `p`, using `$1` for the user id; none for explore, so that its
    /// count is SQLite's table count (which reads pages, not rows).
    fn condition(self) -> Option<String> {
        match self {
            Self::All => None,
            Self::By(_) => Some("p.author_id = $1".to_owned()),
            // SQLite walks `posts_author_timestamp` once per author in the list.
            Self::Feed(_) => Some(format!("p.author_id IN ({FEED_AUTHORS})")),
        }
    }

    /// `WHERE` with the list's condition and `extra`, if any.
    fn filter(self, extra: Option<&str>) -> String {
        let conditions: Vec<String> = self
            .condition()
            .into_iter()
            .chain(extra.map(str::to_owned))
            .collect();
        if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        }
    }

    /// A query for the number of posts in the list. The feed sums its authors' post
    /// counts (kept by triggers): a few dozen rows instead of thousands of index entries.
    /// So does explore on PostgreSQL, where `COUNT(*)` visits every row; SQLite counts a
    /// table by its pages, faster than summing the users.
    fn total(self, backend: Backend) -> String {
        let sum = "SELECT CAST(COALESCE(SUM(u.post_count), 0) AS BIGINT) FROM users u";
        match (self, backend) {
            (Self::Feed(_), _) => format!("{sum} WHERE u.id IN ({FEED_AUTHORS})"),
            (Self::All, Backend::Postgres) => sum.to_owned(),
            (Self::All | Self::By(_), _) => {
                format!("SELECT COUNT(*) FROM posts p {}", self.filter(None))
            }
        }
    }

    /// A query for the number of posts in the list at least as new as `after_arg`.
    fn newer(self, after_arg: &str) -> String {
        match self {
            // Explore sums whole blocks of the timeline and visits only the posts of the
            // blocks that straddle the cursor (migration 0003), not every newer post.
            Self::All => format!(
                "SELECT CAST(COALESCE((SELECT SUM(b.n) FROM post_blocks b WHERE b.min_ts >= {after_arg}), 0)
                    + (SELECT COUNT(*) FROM post_blocks b
                       JOIN posts p ON p.id >= b.block * {POST_BLOCK} AND p.id < (b.block + 1) * {POST_BLOCK}
                       WHERE b.min_ts < {after_arg} AND b.max_ts >= {after_arg} AND p.timestamp >= {after_arg})
                 AS BIGINT)"
            ),
            // A user's posts and a feed are short enough to count.
            Self::By(_) | Self::Feed(_) => format!(
                "SELECT COUNT(*) FROM posts p {}",
                self.filter(Some(&format!("p.timestamp >= {after_arg}")))
            ),
        }
    }

    /// A query for one page: its ids come from an index alone, newest first (`extra`
    /// narrows the list, `window` is the `LIMIT`/`OFFSET`); then only those posts are read
    /// and joined to their authors, never the rows that a sort or an offset skips. `more`
    /// adds columns.
    fn page(self, extra: Option<&str>, window: &str, more: &str) -> String {
        format!(
            "{} WHERE p.id IN (SELECT p.id FROM posts p {} {NEWEST_FIRST} {window}) {NEWEST_FIRST}",
            select_posts(more),
            self.filter(extra),
        )
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
    db: &Db,
    list: PostList,
    limit: i64,
    offset: i64,
) -> Result<(Vec<PostRow>, i64), sqlx::Error> {
    let total = list.total(db.backend());
    let window = format!("LIMIT {} OFFSET {}", list.arg(1), list.arg(2));
    let placed: Vec<Placed> = list
        .bind(sqlx::query_as(&list.page(
            None,
            &window,
            &format!(", ({total}) AS list_total"),
        )))
        .bind(limit)
        .bind(offset)
        .fetch_all(db.pool())
        .await?;
    let total = match placed.first() {
        Some(first) => first.total,
        // An empty page (an empty list, or an offset past its end) carries no numbers.
        None => {
            list.bind(sqlx::query_as::<_, (i64,)>(&total))
                .fetch_one(db.pool())
                .await?
                .0
        }
    };
    Ok((placed.into_iter().map(|p| p.post).collect(), total))
}

/// A page of a post list, newest first, of the posts strictly older than `after`:
/// `(posts, offset, total)`, where `offset` counts the posts at least as new as `after`.
pub async fn page_after(
    db: &Db,
    list: PostList,
    limit: i64,
    after: i64,
) -> Result<(Vec<PostRow>, i64, i64), sqlx::Error> {
    let after_arg = list.arg(1);
    let total = list.total(db.backend());
    let newer = list.newer(&after_arg);
    let older = format!("p.timestamp < {after_arg}");
    let window = format!("LIMIT {}", list.arg(2));
    let placed: Vec<Placed> = list
        .bind(sqlx::query_as(&list.page(
            Some(&older),
            &window,
            &format!(", ({total}) AS list_total, ({newer}) AS list_newer"),
        )))
        .bind(after)
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    let (total, newer) = match placed.first() {
        Some(first) => (
            first.total,
            first
                .newer
                .ok_or_else(|| sqlx::Error::ColumnNotFound("list_newer".into()))?,
        ),
        // An empty page (nothing older than `after`) carries no numbers.
        None => {
            list.bind(sqlx::query_as::<_, (i64, i64)>(&format!(
                "SELECT ({total}), ({newer})"
            )))
            .bind(after)
            .fetch_one(db.pool())
            .await?
        }
    };
    Ok((placed.into_iter().map(|p| p.post).collect(), newer, total))
}

/// A post by id, with its author.
pub async fn by_id(pool: &AnyPool, id: i64) -> Result<Option<PostRow>, sqlx::Error> {
    sqlx::query_as(&format!("{} WHERE p.id = $1", select_posts("")))
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

/// Replaces a post's text; returns its timestamp, which stays (it orders the lists),
/// or `None` if the post is gone.
pub async fn update_text(tx: &mut Tx, id: i64, text: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("UPDATE posts SET text = $1 WHERE id = $2 RETURNING timestamp")
        .bind(text)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

/// Deletes a post.
pub async fn delete(tx: &mut Tx, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM posts WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
