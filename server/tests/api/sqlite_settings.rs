//! What every SQLite connection is set up with, on the reading pool and the writer alike.

use server::db::{Db, DbOptions};

/// `PRAGMA cache_size` on one connection: negative, in KiB.
async fn cache_size<'c, E>(conn: E) -> i64
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let (size,): (i64,) = sqlx::query_as("PRAGMA cache_size")
        .fetch_one(conn)
        .await
        .unwrap();
    size
}

#[tokio::test]
async fn every_connection_gets_the_configured_page_cache() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cache.db").display());
    let options = DbOptions {
        sqlite_cache_mib: 3,
        ..DbOptions::default()
    };
    let db = Db::connect_with(&url, &options).await.unwrap();
    // Three reading connections held at once: three separate connections.
    let mut readers = Vec::new();
    for _ in 0..3 {
        readers.push(db.pool().acquire().await.unwrap());
    }
    for reader in &mut readers {
        assert_eq!(cache_size(&mut **reader).await, -3 * 1024);
    }
    let mut writer = db.begin().await.unwrap();
    assert_eq!(cache_size(&mut *writer).await, -3 * 1024);
}
