//! The session's calls to the API that the first page can start: the start-up refresh, the
//! login and the logout. Their code (the client's send and refresh, the JSON parsing, the
//! wire types) lives in a chunk (`session`), not in the first download: the main module
//! reached all of it through these three, and is 21 K of brotli smaller without it.
//!
//! The login page's first paint asks for the chunk (src/app.rs, `prefetch_likely`), so a
//! person typing their password finds it there; a browser that may hold a session asks for
//! it at start, to restore the session. A chunk that cannot be fetched is a failed call
//! ([`ApiError::Network`]), and the next call fetches it anew.

use futures::FutureExt;
use futures::future::LocalBoxFuture;

use super::client::LoginOutcome;
use super::{ApiError, Session};
use crate::lazy::split;

/// The flows, as functions of the chunk.
pub struct Flows {
    pub restore: fn(Session) -> LocalBoxFuture<'static, ()>,
    pub login:
        fn(Session, String, String) -> LocalBoxFuture<'static, Result<LoginOutcome, ApiError>>,
    pub logout: fn(Session) -> LocalBoxFuture<'static, Result<(), ApiError>>,
}

split!(fn load_flows / prefetch_flows in session -> Flows = Flows {
    restore: |session| session.restore_now().boxed_local(),
    login: |session, username, password| {
        async move { session.login_now(&username, &password).await }.boxed_local()
    },
    logout: |session| session.logout_now().boxed_local(),
});

/// The flows, once their chunk is here.
pub async fn load() -> Result<Flows, ApiError> {
    load_flows().await.map_err(|_| ApiError::Network)
}

/// Fetches the chunk without running anything (a failure costs nothing: the next call
/// fetches it again).
pub async fn prefetch() {
    let _ = prefetch_flows().await;
}
