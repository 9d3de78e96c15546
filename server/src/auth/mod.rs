//! Identity: who the caller is, and the flows that prove it.
//!
//! The extractors here name the caller of a request. The flows, one module each (login,
//! second factor, refresh, reset, re-authentication, two-factor settings, account
//! credentials), own the steps of a multi-step operation: throttle reservation,
//! verification, session changes, logging and notification. Handlers parse the request,
//! call a flow, and shape its answer.

pub mod account;
pub mod jwt;
pub mod login;
pub mod oauth;
pub mod password;
pub mod reauth;
pub mod refresh;
pub mod reset;
pub mod second_factor;
pub mod token;
pub mod totp;
pub mod two_factor;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::db::now_micros;
use crate::db::users::UserRow;
use crate::error::ApiError;
use crate::startup::AppState;
use crate::throttle::Reservation;

/// How stale `last_seen` may get before a request refreshes it. Without a bound, every
/// authenticated read would also be a database write.
const LAST_SEEN_RESOLUTION_MICROS: i64 = 60 * 1_000_000;

/// The caller, proved by a live Bearer access token of a live session.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: UserRow,
    pub session_id: i64,
}

impl AuthUser {
    pub fn id(&self) -> i64 {
        self.user.id
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token =
            bearer(parts).ok_or(ApiError::Unauthorized("A valid access token is required."))?;
        const INVALID: ApiError =
            ApiError::Unauthorized("The access token is invalid or has expired.");
        let claims = state
            .keys
            .verify(token, false, &state.db, &state.sealer)
            .await
            .map_err(|_| INVALID)?;
        let (session_id, user_id) = (claims.sid, claims.user_id().ok_or(INVALID)?);
        let now = now_micros();
        // Signed is not enough: the session must be live, so logout ends the token at once.
        let found =
            crate::db::sessions::user_for_session(state.db.pool(), session_id, user_id, now)
                .await?;
        let Some(mut user) = found else {
            return Err(INVALID);
        };
        if now - user.last_seen > LAST_SEEN_RESOLUTION_MICROS {
            crate::db::users::touch_last_seen(&state.db, user.id, now).await?;
            user.last_seen = now;
        }
        Ok(Self { user, session_id })
    }
}

/// The caller if a valid access token came with the request; endpoints that need no
/// login ignore a bad one (the reference client sends `Bearer null` on register).
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

impl FromRequestParts<AppState> for MaybeAuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match AuthUser::from_request_parts(parts, state).await {
            Ok(user) => Ok(Self(Some(user))),
            Err(ApiError::Unauthorized(_)) => Ok(Self(None)),
            Err(e) => Err(e),
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Verifies a password under a throttle reservation taken for it: refunded when the
/// password is right (or could not be verified at all, the hashing queue being full),
/// kept as a failure when it is wrong.
pub async fn verify_reserved(
    state: &AppState,
    attempt: Reservation<'_>,
    password: &str,
    stored_hash: Option<&str>,
) -> Result<bool, ApiError> {
    match state.hasher.verify(password, stored_hash).await {
        Ok(true) => {
            attempt.refund().await;
            Ok(true)
        }
        Ok(false) => Ok(false),
        Err(e) => {
            attempt.refund().await;
            Err(e)
        }
    }
}
