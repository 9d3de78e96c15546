//! The database: SQLite by default, PostgreSQL for deployments that outgrow one machine.
//!
//! Queries are plain SQL that both accept (`$1` placeholders, `RETURNING`, integer times),
//! run through sqlx's `Any` driver. Each backend has its own migrations folder, since
//! their DDL differs (identity columns).

pub mod follows;
pub mod oauth;
pub mod options;
pub mod password_resets;
pub mod posts;
pub mod sessions;
pub mod signing_keys;
pub mod throttle;
pub mod two_factor;
pub mod user_lists;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Executor, Transaction};

pub use options::DbOptions;

/// Which database is behind the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The connection pools. SQLite allows one writer at a time and answers `SQLITE_BUSY`
/// to a second one that upgrades a read transaction; so on SQLite every write
/// transaction goes through a pool of one connection, and writers queue in-process
/// instead of failing. On PostgreSQL both pools are the same.
#[derive(Clone, Debug)]
pub struct Db {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
}

/// A write transaction. Dropped without `commit()`, it rolls back: nothing half-written.
pub type Tx = Transaction<'static, Any>;

impl Db {
    /// Connects with the default options, creating a SQLite file and its folder if
    /// needed, and runs the migrations.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Self::connect_with(url, &DbOptions::default()).await
    }

    /// Connects, waiting for PostgreSQL to come up (see [`DbOptions::connect_retry`]),
    /// and runs the migrations. Instances starting together run them once: sqlx holds an
    /// advisory lock on PostgreSQL (and SQLite has one writer), and each migration is
    /// recorded in `_sqlx_migrations`.
    pub async fn connect_with(url: &str, options: &DbOptions) -> anyhow::Result<Self> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite: or postgres:");
        };

        let db = match backend {
            Backend::Sqlite => {
                let url = sqlite_url_creating_file(url)?;
                let read = sqlite_pool(&url, options.sqlite_readers(), options, false).await?;
                let write = sqlite_pool(&url, 1, options, true).await?;
                // WAL lets readers run beside the writer; the mode is stored in the file.
                write.execute("PRAGMA journal_mode = WAL").await?;
                Self {
                    read,
                    write,
                    backend,
                }
            }
            Backend::Postgres => {
                let pool = postgres_pool(url, options).await?;
                Self {
                    read: pool.clone(),
                    write: pool,
                    backend,
                }
            }
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        migrator
            .run(&self.write)
            .await
            .context("database migration failed")
    }

    /// The pool for reads (and single-statement writes that need no transaction).
    pub fn pool(&self) -> &AnyPool {
        &self.read
    }

    /// Begins a write transaction.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        self.write.begin().await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes both pools, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// The PostgreSQL pool, once the server answers: connection failures that may pass by
/// themselves (not listening yet, starting up) are retried with backoff until
/// `connect_retry` has passed.
async fn postgres_pool(url: &str, options: &DbOptions) -> anyhow::Result<AnyPool> {
    let url = options::postgres_url(url, options)?;
    let started = std::time::Instant::now();
    let mut attempt = 0;
    loop {
        let connected = AnyPoolOptions::new()
            .max_connections(options.postgres_connections())
            .acquire_timeout(options.statement_timeout)
            .connect(&url)
            .await;
        match connected {
            Ok(pool) => return Ok(pool),
            Err(e) if options::is_transient(&e) && started.elapsed() < options.connect_retry => {
                let wait = options::backoff(attempt);
                tracing::warn!(
                    error = %e,
                    retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    "PostgreSQL does not answer yet"
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(e) => return Err(anyhow::Error::new(e).context("cannot connect to PostgreSQL")),
        }
    }
}

async fn sqlite_pool(
    url: &str,
    max: u32,
    options: &DbOptions,
    writes: bool,
) -> anyhow::Result<AnyPool> {
    let busy_timeout = format!("PRAGMA busy_timeout = {}", options.statement_timeout_ms());
    // Negative: in KiB rather than in pages.
    let cache_size = format!(
        "PRAGMA cache_size = -{}",
        u64::from(options.sqlite_cache_mib) * 1024
    );
    AnyPoolOptions::new()
        .max_connections(max.max(1))
        // When a COMMIT fails with SQLITE_FULL or SQLITE_IOERR, SQLite keeps the
        // transaction open; the next BEGIN on this connection would then only nest a
        // savepoint inside it, and every later "commit" would be lost when the connection
        // closes (a full disk lost acknowledged posts this way). So a writer's connection
        // starts from a clean slate: ROLLBACK, whose "no transaction is active" is the
        // normal answer.
        .before_acquire(move |conn, _| {
            Box::pin(async move {
                if writes {
                    let _ = conn.execute("ROLLBACK").await;
                }
                Ok(true)
            })
        })
        // Writers queue for the one writing connection: a request waits for it as long as
        // a statement may wait for the file's lock, and as long again for its turn.
        .acquire_timeout(options.statement_timeout.saturating_mul(3))
        // A SQLite connection is a file handle in this process: nothing can cut it, so
        // pinging it before each query only costs a round trip to its worker thread.
        .test_before_acquire(false)
        .after_connect(move |conn, _| {
            let busy_timeout = busy_timeout.clone();
            let cache_size = cache_size.clone();
            Box::pin(async move {
                // Foreign keys are off by default in SQLite; the schema relies on cascades.
                // NORMAL is durable across application crashes under WAL; only a power
                // loss can take back the last commits.
                // Reads through a memory map skip the read() calls that otherwise
                // dominate a small query; the page cache is `DATABASE_SQLITE_CACHE_MIB`.
                conn.execute(
                    "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                     PRAGMA mmap_size = 268435456",
                )
                .await?;
                conn.execute(cache_size.as_str()).await?;
                conn.execute(busy_timeout.as_str()).await?;
                Ok(())
            })
        })
        .connect(url)
        .await
        .with_context(|| "cannot open the SQLite database".to_owned())
}

/// Makes sure the SQLite file can be created: `mode=rwc` and an existing parent folder.
fn sqlite_url_creating_file(url: &str) -> anyhow::Result<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or_default();
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        anyhow::bail!("DATABASE_URL must name a SQLite file, e.g. sqlite://data/microblog.db");
    }
    if let Some(parent) = std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the folder {}", parent.display()))?;
    }
    let query = if query.contains("mode=") {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    // Validate early with the SQLite options parser, for a clear error.
    sqlx::sqlite::SqliteConnectOptions::from_str(&format!("sqlite://{path}?{query}"))
        .context("DATABASE_URL is not a valid SQLite URL")?;
    Ok(format!("sqlite://{path}?{query}"))
}

/// Microseconds since the epoch, now. Every stored time uses this unit.
pub fn now_micros() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// A duration in the stored unit.
pub fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// Whether a database error is a unique-constraint violation (a race two requests lost).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Whether a database error means the database is away or cannot write right now (a
/// lost connection, a pool with no connection to give, a full disk), so the request may
/// succeed if tried again later: a 503, not a 500.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => {
            let Some(code) = d.code() else {
                return false;
            };
            if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // Primary result codes (the low byte of an extended one): BUSY, IOERR,
                // FULL, CANTOPEN.
                code.parse::<i64>()
                    .is_ok_and(|c| matches!(c & 0xff, 5 | 10 | 13 | 14))
            } else {
                // SQLSTATE classes: 08 connection exception, 53 insufficient resources
                // (disk full, out of memory, too many connections), 57P operator
                // intervention (the server shutting down or starting).
                code.starts_with("08") || code.starts_with("53") || code.starts_with("57P")
            }
        }
        _ => false,
    }
}
