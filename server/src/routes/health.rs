//! `/api/health`: whether the server and its database answer.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use std::time::{Duration, Instant};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use wire::{DatabaseHealth, Health};

use crate::db::Backend;

use crate::startup::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

/// How long the health check waits for the database before calling it down.
const DATABASE_WAIT: Duration = Duration::from_secs(2);

/// Report whether the server and its database answer, and the state of the pool.
#[utoipa::path(
    get, path = "/health", tag = "meta",
    responses(
        (status = 200, description = "Healthy", body = Health),
        (status = 503, description = "The database does not answer", body = Health),
    )
)]
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let started = Instant::now();
    let answered = tokio::time::timeout(
        DATABASE_WAIT,
        sqlx::query("SELECT 1").execute(state.db.pool()),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    let latency_ms =
        answered.then(|| u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
    let (status, text) = if answered {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    };
    let pool = state.db.pool();
    let body = Health {
        status: text.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        database: Some(DatabaseHealth {
            backend: match state.db.backend() {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgres",
            }
            .to_owned(),
            answered,
            latency_ms,
            connections: pool.size(),
            idle_connections: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max_connections: pool.options().get_max_connections(),
        }),
    };
    (status, Json(body))
}
