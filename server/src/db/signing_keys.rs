//! The keys that sign access tokens (see `auth::jwt`).

use sqlx::{AnyPool, Row};

use crate::db::Tx;

/// A key as stored: the private half still sealed.
#[derive(Clone)]
pub struct StoredKey {
    pub kid: String,
    pub public_key: String,
    pub sealed_private_key: String,
    pub signs_from: i64,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("signs_from", &self.signs_from)
            .finish_non_exhaustive()
    }
}

/// Every key, oldest first.
pub async fn all(pool: &AnyPool) -> Result<Vec<StoredKey>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT kid, public_key, private_key, signs_from FROM signing_keys
         ORDER BY signs_from, kid",
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(StoredKey {
                kid: r.try_get("kid")?,
                public_key: r.try_get("public_key")?,
                sealed_private_key: r.try_get("private_key")?,
                signs_from: r.try_get("signs_from")?,
            })
        })
        .collect()
}

/// Stores a new key.
pub async fn insert(tx: &mut Tx, key: &StoredKey, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, public_key, private_key, created_at, signs_from)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&key.kid)
    .bind(&key.public_key)
    .bind(&key.sealed_private_key)
    .bind(now)
    .bind(key.signs_from)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// How many keys exist; taken in `tx` so that instances starting together create one.
pub async fn count(tx: &mut Tx) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM signing_keys")
        .fetch_one(&mut **tx)
        .await
}

/// Deletes keys that no token can still need (see `auth::jwt::KeySet::expired`).
pub async fn delete(tx: &mut Tx, kids: &[String]) -> Result<(), sqlx::Error> {
    for kid in kids {
        sqlx::query("DELETE FROM signing_keys WHERE kid = $1")
            .bind(kid)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Every sealed private key, for re-sealing under a new SECRET_KEY.
pub async fn all_private(tx: &mut Tx) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query("SELECT kid, private_key FROM signing_keys")
        .fetch_all(&mut **tx)
        .await?;
    rows.into_iter()
        .map(|r| Ok((r.try_get("kid")?, r.try_get("private_key")?)))
        .collect()
}

/// Replaces a sealed private key (same key, sealed again).
pub async fn set_private(tx: &mut Tx, kid: &str, sealed: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE signing_keys SET private_key = $1 WHERE kid = $2")
        .bind(sealed)
        .bind(kid)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
