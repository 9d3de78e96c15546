//! The `throttle` table: attempt counters per limit and key, and the addresses each
//! account completed a login from, shared by every instance of the API.
//!
//! Each write is one statement that the database applies atomically (an upsert whose
//! update is conditional), so instances never lose a count to a race.

use sqlx::{AnyPool, Row};

use crate::db::Tx;

/// Counts one attempt in `bucket`: in its live window when it has room, or in a new one
/// (from `now` to `now + window`) when the old one has ended. `Ok(window_start)` when
/// counted, `Err(ends_at)` of the full window when not (nothing is written then).
pub async fn reserve(
    tx: &mut Tx,
    bucket: &str,
    now: i64,
    window: i64,
    max: u32,
) -> Result<Result<i64, i64>, sqlx::Error> {
    // Every SET reads the row as it was, so the three CASEs agree on whether it ended.
    let counted = sqlx::query(
        "INSERT INTO throttle (bucket, window_start, ends_at, count) VALUES ($1, $2, $3, 1) \
         ON CONFLICT (bucket) DO UPDATE SET \
           window_start = CASE WHEN throttle.ends_at <= $2 THEN $2 ELSE throttle.window_start END, \
           ends_at = CASE WHEN throttle.ends_at <= $2 THEN $3 ELSE throttle.ends_at END, \
           count = CASE WHEN throttle.ends_at <= $2 THEN 1 ELSE throttle.count + 1 END \
         WHERE throttle.ends_at <= $2 OR throttle.count < $4 \
         RETURNING window_start",
    )
    .bind(bucket)
    .bind(now)
    .bind(now.saturating_add(window))
    .bind(i64::from(max))
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(row) = counted {
        return Ok(Ok(row.try_get("window_start")?));
    }
    // Full: the row is locked by our upsert attempt (PostgreSQL) or by the one writer
    // (SQLite), so it is still the window that refused us.
    let ends_at: i64 = sqlx::query("SELECT ends_at FROM throttle WHERE bucket = $1")
        .bind(bucket)
        .fetch_one(&mut **tx)
        .await?
        .try_get("ends_at")?;
    Ok(Err(ends_at))
}

/// Gives back one attempt counted in the window that started at `window_start`; nothing
/// if that window has been replaced since. A window whose last attempt is given back is
/// deleted, so the next attempt opens a new one.
pub async fn refund(tx: &mut Tx, bucket: &str, window_start: i64) -> Result<(), sqlx::Error> {
    let deleted =
        sqlx::query("DELETE FROM throttle WHERE bucket = $1 AND window_start = $2 AND count <= 1")
            .bind(bucket)
            .bind(window_start)
            .execute(&mut **tx)
            .await?
            .rows_affected();
    if deleted == 0 {
        sqlx::query(
            "UPDATE throttle SET count = count - 1 WHERE bucket = $1 AND window_start = $2",
        )
        .bind(bucket)
        .bind(window_start)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Forgets `bucket`.
pub async fn clear(tx: &mut Tx, bucket: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM throttle WHERE bucket = $1")
        .bind(bucket)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Keeps `bucket` live from `now` until `ends_at` (a known address).
pub async fn remember(
    tx: &mut Tx,
    bucket: &str,
    now: i64,
    ends_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO throttle (bucket, window_start, ends_at, count) VALUES ($1, $2, $3, 1) \
         ON CONFLICT (bucket) DO UPDATE SET window_start = $2, ends_at = $3",
    )
    .bind(bucket)
    .bind(now)
    .bind(ends_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether `bucket` has a window that has not ended at `now`.
pub async fn is_live(pool: &AnyPool, bucket: &str, now: i64) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT 1 AS live FROM throttle WHERE bucket = $1 AND ends_at > $2")
        .bind(bucket)
        .bind(now)
        .fetch_optional(pool)
        .await?;
    Ok(row.is_some())
}

/// Deletes the rows whose window ended before `now`; returns how many.
pub async fn purge_ended(tx: &mut Tx, now: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM throttle WHERE ends_at <= $1")
        .bind(now)
        .execute(&mut **tx)
        .await?
        .rows_affected())
}

/// How many rows the table holds (tests).
pub async fn count_rows(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM throttle")
        .fetch_one(pool)
        .await?
        .try_get("n")
}
