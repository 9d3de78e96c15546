//! How the server connects: pool size, statement timeout, and how long it waits for
//! PostgreSQL to come up at start.

use std::time::Duration;

/// Pool and timeout settings (`DATABASE_*` in the configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DbOptions {
    /// `DATABASE_MAX_CONNECTIONS`: connections per instance (PostgreSQL), or reading
    /// connections beside the one writer (SQLite). Default 16 on PostgreSQL, 8 on SQLite.
    pub max_connections: Option<u32>,
    /// `DATABASE_STATEMENT_TIMEOUT_MS`: PostgreSQL cancels a statement that runs longer
    /// (`statement_timeout`, sent with each connection's start-up options); SQLite waits at
    /// most this long for the write lock (`busy_timeout`). Also how long a request waits
    /// for a free connection. Default 10000.
    pub statement_timeout: Duration,
    /// `DATABASE_CONNECT_RETRY_SECS`: at start, how long to keep trying to reach a
    /// PostgreSQL server that is not up yet, with backoff, before giving up. Default 60;
    /// 0 tries once.
    pub connect_retry: Duration,
    /// `DATABASE_SQLITE_CACHE_MIB`: the page cache of each SQLite connection, in MiB.
    /// SQLite fills a connection's cache as the database grows and keeps it, so the
    /// connections settle at up to (`max_connections` + 1) times this. Default 2 (SQLite's
    /// own default): reads go through the memory-mapped file, which the operating system
    /// caches once for every connection.
    pub sqlite_cache_mib: u32,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: None,
            statement_timeout: Duration::from_secs(10),
            connect_retry: Duration::from_secs(60),
            sqlite_cache_mib: 2,
        }
    }
}

impl DbOptions {
    pub fn postgres_connections(&self) -> u32 {
        self.max_connections.unwrap_or(16)
    }

    pub fn sqlite_readers(&self) -> u32 {
        self.max_connections.unwrap_or(8)
    }

    /// `statement_timeout` in milliseconds, at least 1 (0 would turn it off).
    pub fn statement_timeout_ms(&self) -> u64 {
        u64::try_from(self.statement_timeout.as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }
}

/// `url` with `statement_timeout` among the options PostgreSQL applies when each
/// connection starts (no extra round trip), unless the URL sets it already.
pub fn postgres_url(url: &str, options: &DbOptions) -> anyhow::Result<String> {
    let mut parsed =
        url::Url::parse(url).map_err(|e| anyhow::anyhow!("DATABASE_URL is not a URL: {e}"))?;
    if url.contains("statement_timeout") {
        return Ok(url.to_owned());
    }
    parsed.query_pairs_mut().append_pair(
        "options[statement_timeout]",
        &options.statement_timeout_ms().to_string(),
    );
    Ok(parsed.into())
}

/// Whether a failure to connect may pass by itself: the server is not listening yet, is
/// starting or shutting down, or has no connection slot free. A wrong password or a
/// missing database is not retried.
pub fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(d) => matches!(
            d.code().as_deref(),
            // cannot_connect_now (starting up), too_many_connections, admin/crash shutdown
            Some("57P03" | "53300" | "57P01" | "57P02")
        ),
        _ => false,
    }
}

/// The waits between attempts: 250 ms, doubling up to 5 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250u64.saturating_mul(1 << attempt.min(5))).min(Duration::from_secs(5))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_timeout_travels_in_the_connection_options() {
        let o = DbOptions {
            statement_timeout: Duration::from_millis(2500),
            ..DbOptions::default()
        };
        let url = postgres_url("postgres://u:p@db.example:5432/blog?sslmode=require", &o).unwrap();
        assert_eq!(
            url,
            "postgres://u:p@db.example:5432/blog?sslmode=require&options%5Bstatement_timeout%5D=2500"
        );
        // One set in the URL wins.
        let own = "postgres://db/blog?options[statement_timeout]=100";
        assert_eq!(postgres_url(own, &o).unwrap(), own);
    }

    #[test]
    fn backoff_doubles_to_five_seconds() {
        let waits: Vec<u64> = (0..8).map(|a| backoff(a).as_millis() as u64).collect();
        assert_eq!(waits, [250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
    }
}
