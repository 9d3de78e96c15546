//! Builds the application from its configuration and runs it until told to stop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;

use crate::auth::password::Hasher;
use crate::config::Config;
use crate::db::Db;
use crate::db::sessions::Lifetimes;
use crate::mail::Mailer;
use crate::routes::reset::ResetQueue;
use crate::throttle::Throttle;

/// The largest request body the API reads. Posts are 280 characters; 64 KiB is plenty.
const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub hasher: Hasher,
    pub mailer: Mailer,
    pub throttle: Arc<Throttle>,
    /// Password-reset requests, handled in order by a background worker.
    pub resets: ResetQueue,
}

impl AppState {
    pub fn lifetimes(&self) -> Lifetimes {
        Lifetimes {
            access: self.config.access_token_ttl,
            refresh: self.config.refresh_token_ttl,
            grace: self.config.refresh_grace,
        }
    }
}

/// A server bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl Application {
    /// Connects to the database, runs migrations and binds the port (0 picks a free one).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = Db::connect(&config.database_url).await?;
        let addr = SocketAddr::new(config.host, config.port);
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let mailer = Mailer::new(&config)?;
        let config = Arc::new(config);
        let state = AppState {
            resets: ResetQueue::start(db.clone(), mailer.clone(), Arc::clone(&config)),
            throttle: Arc::new(Throttle::new(&config.throttle)),
            db,
            config,
            hasher: Hasher::default(),
            mailer,
        };
        let router = router(state.clone());
        Ok(Self {
            listener,
            router,
            state,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serves until SIGTERM or Ctrl-C, letting in-flight requests finish.
    pub async fn run(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` completes, letting in-flight requests finish.
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let purge = tokio::spawn(purge_ended_sessions(
            self.state.db.clone(),
            Arc::clone(&self.state.throttle),
        ));
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(stop)
            .await
            .context("server error")?;
        purge.abort();
        self.state.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// The whole application: the API under `/api`, the SPA everywhere else.
pub fn router(state: AppState) -> Router {
    let (api, mut openapi) = crate::routes::router().split_for_parts();
    // Handlers declare paths relative to the API's mount point; the document names them
    // as clients call them.
    openapi.paths.paths = std::mem::take(&mut openapi.paths.paths)
        .into_iter()
        .map(|(path, item)| (format!("/api{path}"), item))
        .collect();
    let api = crate::routes::with_fallbacks(api.merge(crate::routes::docs::router(openapi)))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(crate::web::cors(&state.config));
    let app = Router::new()
        .nest("/api", api)
        .merge(crate::web::spa(&state.config))
        .with_state(state.clone());
    crate::web::with_layers(app, &state.config)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Hourly, deletes sessions that ended more than a day ago, expired reset tokens and
/// login challenges, and ended throttle windows.
async fn purge_ended_sessions(db: Db, throttle: Arc<Throttle>) {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        match crate::db::sessions::purge_ended(&db).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, "purged ended sessions"),
            Err(e) => tracing::warn!(error = %e, "purging ended sessions failed"),
        }
        let now = crate::db::now_micros();
        if let Err(e) = crate::db::password_resets::purge_expired(&db, now).await {
            tracing::warn!(error = %e, "purging expired reset tokens failed");
        }
        if let Err(e) = crate::db::two_factor::purge_expired(&db, now).await {
            tracing::warn!(error = %e, "purging expired login challenges failed");
        }
        throttle.sweep();
    }
}
