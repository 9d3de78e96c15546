//! Rows written straight into the test database, for lists longer than registering users
//! one by one would allow (each registration hashes a password), and for posts with
//! chosen timestamps (ties, `after=`).

use serde_json::Value;
use sqlx::{AnyConnection, Connection};

use crate::helpers::TestApp;

/// A fixed point in time (2023-11-14T22:13:20Z), in microseconds: seeded posts are
/// `T0 + n` seconds, older than anything posted through the API during a test.
pub const T0: i64 = 1_700_000_000_000_000;

/// Seconds after [`T0`], in microseconds.
pub fn at(seconds: i64) -> i64 {
    T0 + seconds * 1_000_000
}

/// The wire form of a stored time, as `after=` takes it.
pub fn iso(micros: i64) -> String {
    wire::Timestamp::from_micros(micros).to_string()
}

/// A connection to the test's database.
pub struct Seed {
    conn: AnyConnection,
}

impl Seed {
    pub async fn connect(app: &TestApp) -> Self {
        sqlx::any::install_default_drivers();
        let mut conn = AnyConnection::connect(&app.database_url)
            .await
            .expect("database connection");
        // Test data need not survive a power cut: no flush to disk on every commit.
        let durability = if app.database_url.starts_with("sqlite:") {
            "PRAGMA synchronous = OFF"
        } else {
            "SET synchronous_commit = off"
        };
        sqlx::query(durability)
            .execute(&mut conn)
            .await
            .expect("relax durability");
        Self { conn }
    }

    /// A user who cannot log in (no password); returns the id.
    pub async fn user(&mut self, username: &str) -> i64 {
        sqlx::query_scalar(
            "INSERT INTO users (username, email, password_hash, about_me, first_seen, last_seen)
             VALUES ($1, $2, NULL, '', $3, $3) RETURNING id",
        )
        .bind(username)
        .bind(format!("{username}@example.com"))
        .bind(T0)
        .fetch_one(&mut self.conn)
        .await
        .expect("insert user")
    }

    /// A post at a chosen time; returns the id.
    pub async fn post(&mut self, author_id: i64, text: &str, timestamp: i64) -> i64 {
        sqlx::query_scalar(
            "INSERT INTO posts (author_id, text, timestamp) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(author_id)
        .bind(text)
        .bind(timestamp)
        .fetch_one(&mut self.conn)
        .await
        .expect("insert post")
    }

    /// Many posts at chosen times, in one transaction; returns their ids in order.
    pub async fn posts(&mut self, author_id: i64, timestamps: &[i64]) -> Vec<i64> {
        let mut tx = self.conn.begin().await.expect("begin");
        let mut ids = Vec::with_capacity(timestamps.len());
        for &timestamp in timestamps {
            let id = sqlx::query_scalar(
                "INSERT INTO posts (author_id, text, timestamp) VALUES ($1, 'seeded', $2) RETURNING id",
            )
            .bind(author_id)
            .bind(timestamp)
            .fetch_one(&mut *tx)
            .await
            .expect("insert post");
            ids.push(id);
        }
        tx.commit().await.expect("commit");
        ids
    }

    pub async fn delete_post(&mut self, id: i64) {
        sqlx::query("DELETE FROM posts WHERE id = $1")
            .bind(id)
            .execute(&mut self.conn)
            .await
            .expect("delete post");
    }

    pub async fn follow(&mut self, follower_id: i64, followed_id: i64) {
        sqlx::query("INSERT INTO follows (follower_id, followed_id) VALUES ($1, $2)")
            .bind(follower_id)
            .bind(followed_id)
            .execute(&mut self.conn)
            .await
            .expect("insert follow");
    }
}

/// The `id`s of a page's items, in order.
pub fn ids(page: &Value) -> Vec<i64> {
    page["data"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|item| item["id"].as_i64().expect("id"))
        .collect()
}

/// A page's `pagination` as `(offset, limit, count, total)`.
pub fn pagination(page: &Value) -> (i64, i64, i64, i64) {
    let p = &page["pagination"];
    let n = |k: &str| p[k].as_i64().unwrap_or_else(|| panic!("no {k} in {page}"));
    (n("offset"), n("limit"), n("count"), n("total"))
}
