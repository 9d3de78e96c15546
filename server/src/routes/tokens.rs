//! `/api/tokens`: log in (with a second step for 2FA accounts), refresh, log out. The
//! steps live in [`crate::auth`].
//!
//! The access token goes to the client in the JSON body; the refresh token only in an
//! HttpOnly cookie scoped to this path (docs/security.md, "Cookies, CSRF and CORS"), unless
//! configured otherwise.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::{RefreshRequest, Token, TwoFactorLogin};

use crate::auth::login::{self, LoggedIn};
use crate::auth::refresh::{self, Refreshed};
use crate::auth::two_factor::{MALFORMED_CODE, Proof};
use crate::auth::{AuthUser, second_factor, totp};
use crate::db::now_micros;
use crate::db::sessions::{self, Issued};
use crate::error::ApiError;
use crate::extract::{Client, Json, basic_credentials, cookie, parse_json};
use crate::startup::AppState;
use crate::web::check_csrf;

/// The refresh cookie's name, and the path it is scoped to.
pub const REFRESH_COOKIE: &str = "refresh_token";
pub const REFRESH_COOKIE_PATH: &str = "/api/tokens";
/// A script-readable cookie that lives exactly as long as the refresh cookie and says only
/// "a session may exist": the SPA skips its start-up refresh without it (docs/security.md,
/// "In the browser"). It holds no token, and the server never reads it.
pub const SESSION_HINT_COOKIE: &str = "session_hint";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login, refresh, logout))
        .routes(routes!(verify_two_factor))
}

/// Log in with HTTP Basic credentials (username or email, and password).
#[utoipa::path(
    post, path = "/tokens", tag = "tokens",
    security(("basic" = [])),
    responses(
        (status = 200, description = "Logged in; the refresh token is in the cookie", body = Token),
        (status = 202, description = "Password right, and the account has 2FA: no token yet; answer the challenge at `POST /api/tokens/2fa`", body = wire::TwoFactorChallenge),
        (status = 401, description = "Invalid credentials (`WWW-Authenticate: Form`)", body = wire::ErrorBody),
        (status = 429, description = "Too many failed logins (`Retry-After`)", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip))]
async fn login(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some((name, password)) = basic_credentials(&headers) else {
        tracing::info!("login failed: no usable Basic credentials");
        return Err(ApiError::BadCredentials);
    };
    match login::with_password(&state, &client, &name, &password).await? {
        LoggedIn::Tokens(issued) => token_response(&state, issued),
        // A 2FA account gets a challenge, not tokens.
        LoggedIn::Challenge(challenge) => {
            Ok((StatusCode::ACCEPTED, axum::Json(challenge)).into_response())
        }
    }
}

/// Get a new access token (and rotate the refresh token) with the refresh cookie.
///
/// The body may carry `access_token` and `refresh_token`, each optional or `null`: the
/// cookie alone identifies the session. An `access_token`, when sent, must belong to it.
#[utoipa::path(
    put, path = "/tokens", tag = "tokens",
    request_body(content = RefreshRequest, description = "May be `{}`"),
    security(("refresh_cookie" = [])),
    responses(
        (status = 200, description = "New tokens; the cookie is rotated", body = Token),
        (status = 400, description = "The body is not a valid refresh request", body = wire::ErrorBody),
        (status = 401, description = "No valid refresh token; the cookie is cleared", body = wire::ErrorBody),
        (status = 403, description = "Cross-site request", body = wire::ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = wire::ErrorBody),
        (status = 415, description = "Not a JSON request", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip))]
async fn refresh(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    check_csrf(&headers, &state.config)?;
    // Read by hand (the body may be empty), so map the rejection to our JSON errors too.
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        _ => ApiError::BadRequest("The request body could not be read.".into()),
    })?;
    let request: RefreshRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RefreshRequest::default()
    } else {
        parse_json(&body)?
    };
    let refresh_token = request
        .refresh_token
        .filter(|t| !t.is_empty())
        .or_else(|| cookie(&headers, REFRESH_COOKIE));
    let Some(refresh_token) = refresh_token else {
        return Ok(unauthorized_clearing_cookie(&state, "No refresh token."));
    };
    let access_token = request.access_token.filter(|t| !t.is_empty());
    match refresh::refresh(&state, &client, &refresh_token, access_token.as_deref()).await? {
        Refreshed::Issued(issued) => token_response(&state, issued),
        Refreshed::Refused(description) => Ok(unauthorized_clearing_cookie(&state, description)),
    }
}

/// Log out: revoke this session (its access token stops working at once) and clear the cookie.
#[utoipa::path(
    delete, path = "/tokens", tag = "tokens",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out; the cookie is cleared"),
        (status = 401, description = "No valid access token", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip))]
async fn logout(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    user: AuthUser,
) -> Result<Response, ApiError> {
    check_csrf(&headers, &state.config)?;
    sessions::revoke(&state.db, user.session_id).await?;
    tracing::info!(user_id = user.id(), session_id = user.session_id, "logout");
    let mut response = StatusCode::NO_CONTENT.into_response();
    for cookie in clear_cookie(&state) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// Finish a login with the challenge from `POST /api/tokens` and a code or a recovery code.
///
/// Answers like a login: the access token in the body, the refresh token in the cookie.
/// A wrong code leaves the challenge usable until it expires or fails too often; a dead
/// challenge answers 410, and the client asks for the password again.
#[utoipa::path(
    post, path = "/tokens/2fa", tag = "tokens",
    request_body = TwoFactorLogin,
    responses(
        (status = 200, description = "Logged in; the refresh token is in the cookie", body = Token),
        (status = 400, description = "Neither or both of `code` and `recovery_code`, or a malformed code", body = wire::ErrorBody),
        (status = 401, description = "Wrong or replayed code; the challenge stays usable", body = wire::ErrorBody),
        (status = 410, description = "The challenge expired, was used, or failed too often: log in again with the password", body = wire::ErrorBody),
        (status = 429, description = "Too many wrong codes (`Retry-After`)", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip))]
async fn verify_two_factor(
    State(state): State<AppState>,
    client: Client,
    Json(body): Json<TwoFactorLogin>,
) -> Result<Response, ApiError> {
    let proof = match (&body.code, &body.recovery_code) {
        (Some(code), None) if totp::normalize_code(code).is_none() => {
            return Err(ApiError::field("code", MALFORMED_CODE));
        }
        (Some(code), None) => Proof::Totp(code),
        (None, Some(code)) => Proof::Recovery(code),
        _ => {
            return Err(ApiError::field(
                "_schema",
                "Send either code or recovery_code.",
            ));
        }
    };
    let issued = second_factor::answer(&state, &client, &body.challenge, proof).await?;
    token_response(&state, issued)
}

/// The JSON token body, with an access token signed for the session, and the refresh
/// cookie set.
pub fn token_response(state: &AppState, issued: Issued) -> Result<Response, ApiError> {
    let access_token = state.keys.sign(issued.user_id, issued.session_id)?;
    let remaining_secs = ((issued.expires_at - now_micros()) / 1_000_000).max(0);
    let cookie = format!(
        "{REFRESH_COOKIE}={}; HttpOnly; Secure; SameSite={}; Path={REFRESH_COOKIE_PATH}; Max-Age={remaining_secs}",
        issued.refresh_token,
        state.config.refresh_cookie_same_site.as_str(),
    );
    let body = Token {
        access_token,
        refresh_token: state
            .config
            .refresh_token_in_body
            .then_some(issued.refresh_token),
    };
    let hint = format!(
        "{SESSION_HINT_COOKIE}=1; Secure; SameSite=Strict; Path=/; Max-Age={remaining_secs}"
    );
    let mut response = axum::Json(body).into_response();
    if let (Ok(hint), Ok(cookie)) = (HeaderValue::from_str(&hint), HeaderValue::from_str(&cookie)) {
        // The refresh cookie last: a client that keeps one `Set-Cookie` per response (wrk's
        // Lua, in `cargo xtask bench`) keeps the one that matters.
        response.headers_mut().append(header::SET_COOKIE, hint);
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// The same cookies, expired: same names, paths and flags, so the browser replaces them.
/// The refresh cookie last, as in [`token_response`].
fn clear_cookie(state: &AppState) -> [HeaderValue; 2] {
    let cookie = format!(
        "{REFRESH_COOKIE}=; HttpOnly; Secure; SameSite={}; Path={REFRESH_COOKIE_PATH}; Max-Age=0",
        state.config.refresh_cookie_same_site.as_str(),
    );
    let hint = format!("{SESSION_HINT_COOKIE}=; Secure; SameSite=Strict; Path=/; Max-Age=0");
    [hint, cookie].map(|c| HeaderValue::from_str(&c).expect("cookie text is ASCII"))
}

fn unauthorized_clearing_cookie(state: &AppState, description: &'static str) -> Response {
    let mut response = ApiError::Unauthorized(description).into_response();
    for cookie in clear_cookie(state) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}
