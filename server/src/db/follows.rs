//! Follows: who follows whom.

use sqlx::{Any, Executor};

use crate::db::Tx;

/// Whether `follower_id` follows `followed_id`.
pub async fn exists<'e>(
    db: impl Executor<'e, Database = Any>,
    follower_id: i64,
    followed_id: i64,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM follows WHERE follower_id = $1 AND followed_id = $2")
            .bind(follower_id)
            .bind(followed_id)
            .fetch_optional(db)
            .await?;
    Ok(found.is_some())
}

/// Records that `follower_id` follows `followed_id`. The caller checked that it did not.
pub async fn insert(tx: &mut Tx, follower_id: i64, followed_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO follows (follower_id, followed_id) VALUES ($1, $2)")
        .bind(follower_id)
        .bind(followed_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Forgets that `follower_id` follows `followed_id`; false if they did not.
pub async fn delete(tx: &mut Tx, follower_id: i64, followed_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM follows WHERE follower_id = $1 AND followed_id = $2")
        .bind(follower_id)
        .bind(followed_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() > 0)
}
