//! `/.well-known/jwks.json`: the public keys that verify access tokens, for any service.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::Jwks;

use crate::startup::AppState;

/// How long verifiers may cache the key set: shorter than the time a new key is published
/// before it signs (`SIGNING_KEY_PUBLISH_SECS`, at least 360 s), so no verifier meets a
/// token signed by a key it has not seen.
pub const MAX_AGE_SECS: u64 = 300;

/// Served at the root, not under `/api`: where verifiers look for it.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(jwks))
}

/// The public keys (JWK Set, Ed25519) that verify access tokens.
///
/// A key appears before it signs anything and stays until every token it signed has
/// expired. Cache it for `max-age`; on a token with an unknown `kid`, fetch it again.
#[utoipa::path(
    get, path = "/.well-known/jwks.json", tag = "tokens",
    responses(
        (status = 200, description = "The JWK Set; `Cache-Control: public, max-age=300`", body = Jwks),
    )
)]
async fn jwks(State(state): State<AppState>) -> Response {
    let mut response = Json(state.keys.jwks()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_str(&format!("public, max-age={MAX_AGE_SECS}"))
            .expect("ASCII header value"),
    );
    response
}
