//! Builds the application from its configuration and runs it until told to stop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;

use crate::auth::jwt::{self, Keys};
use crate::auth::oauth::provider::Providers;
use crate::auth::password::Hasher;
use crate::auth::reset::ResetQueue;
use crate::config::Config;
use crate::db::Db;
use crate::db::sessions::Lifetimes;
use crate::mail::Mailer;
use crate::secrets::{Sealer, parse_key};
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
    /// The keys that sign and verify access tokens.
    pub keys: Arc<Keys>,
    /// Seals and opens secrets at rest (TOTP secrets, signing keys).
    pub sealer: Sealer,
    /// The OAuth 2 / OpenID Connect providers people can sign in with.
    pub oauth: Arc<Providers>,
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
        let db = Db::connect_with(&config.database_url, &config.database).await?;
        let addr = SocketAddr::new(config.host, config.port);
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let mailer = Mailer::new(&config)?;
        let sealer = sealer(&config)?;
        let resealed = crate::secrets::reseal_all(&db, &sealer).await?;
        if resealed > 0 {
            tracing::info!(
                resealed,
                "sealed stored secrets under the current SECRET_KEY"
            );
        }
        let keys = Arc::new(Keys::load(&db, &sealer, jwt_settings(&config)).await?);
        let oauth = Arc::new(Providers::new(&config.oauth)?);
        let config = Arc::new(config);
        let state = AppState {
            oauth,
            keys,
            sealer,
            resets: ResetQueue::start(db.clone(), mailer.clone(), Arc::clone(&config)),
            throttle: Arc::new(Throttle::new(&config.throttle, db.clone())),
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
        let key_upkeep = tokio::spawn(keep_signing_keys(self.state.clone()));
        crate::serve::serve(self.listener, self.router, stop).await;
        purge.abort();
        key_upkeep.abort();
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
    let (well_known, well_known_doc) = crate::routes::jwks::router().split_for_parts();
    openapi.merge(well_known_doc);
    let api = crate::routes::with_fallbacks(api.merge(crate::routes::docs::router(openapi)))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        // Inside CORS, so that a cross-origin SPA can read the 500 too.
        .layer(axum::middleware::from_fn(crate::catch_panic::catch_panic))
        .layer(crate::web::cors(&state.config));
    let app = Router::new()
        .nest("/api", api)
        .merge(well_known)
        .merge(crate::web::spa(&state.config))
        .layer(axum::middleware::from_fn(crate::serve::request_timeout))
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
        if let Err(e) = crate::db::oauth::purge_expired_flows(&db, now).await {
            tracing::warn!(error = %e, "purging expired oauth2 flows failed");
        }
        if let Err(e) = throttle.sweep().await {
            tracing::warn!(error = %e, "purging ended throttle windows failed");
        }
    }
}

/// The sealer of secrets at rest, from `SECRET_KEY` (and `SECRET_KEY_PREVIOUS`).
pub fn sealer(config: &Config) -> anyhow::Result<Sealer> {
    use secrecy::ExposeSecret;
    let current = parse_key(config.secret_key.expose_secret())?;
    let previous = config
        .secret_key_previous
        .as_ref()
        .map(|k| parse_key(k.expose_secret()))
        .transpose()?;
    Ok(Sealer::new(&current, previous.as_ref()))
}

/// Who signs access tokens, for whom, for how long.
pub fn jwt_settings(config: &Config) -> jwt::Settings {
    jwt::Settings {
        issuer: config.public_url.trim_end_matches('/').to_owned(),
        audience: config.access_token_audience.clone(),
        lifetime: config.access_token_ttl,
        publish_ahead: config.signing_key_publish,
    }
}

/// Every minute, reads the signing keys again (another instance may have rotated, or a
/// published key may have started signing); hourly, rotates when the optional schedule
/// says so, and deletes keys no token can need.
async fn keep_signing_keys(state: AppState) {
    let mut every_minute = tokio::time::interval(Duration::from_secs(60));
    let settings = jwt_settings(&state.config);
    let mut minutes = 0u32;
    loop {
        every_minute.tick().await;
        if minutes.is_multiple_of(60) {
            if let Some(every) = state.config.signing_key_rotation {
                match jwt::rotate_if_due(&state.db, &state.sealer, &settings, every).await {
                    Ok(Some(kid)) => tracing::info!(%kid, "signing key rotated on schedule"),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "scheduled signing-key rotation failed"),
                }
            }
            if let Err(e) = jwt::purge(&state.db, &settings).await {
                tracing::warn!(error = %e, "purging retired signing keys failed");
            }
        }
        minutes = minutes.wrapping_add(1);
        if let Err(e) = state.keys.reload(&state.db, &state.sealer).await {
            tracing::warn!(error = %e, "reloading signing keys failed");
        }
    }
}
