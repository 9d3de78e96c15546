//! `/api/me/2fa`: two-factor authentication settings (TOTP). The steps live in
//! [`crate::auth::two_factor`]; the login step is under `/api/tokens/2fa`.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::{
    PasswordAndCode, PasswordConfirmation, RecoveryCodes, TwoFactorCode, TwoFactorSetup,
    TwoFactorStatus,
};

use crate::auth::{AuthUser, two_factor};
use crate::error::ApiError;
use crate::extract::{Client, Json};
use crate::startup::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status, start_enrolment, confirm_enrolment, disable))
        .routes(routes!(regenerate_recovery_codes))
}

/// Whether two-factor authentication is on, and how many recovery codes are left.
#[utoipa::path(
    get, path = "/me/2fa", tag = "two-factor",
    security(("bearer" = [])),
    responses(
        (status = 200, body = TwoFactorStatus),
        (status = 401, description = "No valid access token", body = wire::ErrorBody),
    )
)]
async fn status(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<axum::Json<TwoFactorStatus>, ApiError> {
    two_factor::status(&state, &me).await.map(axum::Json)
}

/// Start enrolling: a new secret and its `otpauth://` URI. 2FA is on only once confirmed.
///
/// Starting again replaces a pending secret.
#[utoipa::path(
    post, path = "/me/2fa", tag = "two-factor",
    security(("bearer" = [])),
    request_body = PasswordConfirmation,
    responses(
        (status = 200, description = "A pending secret; confirm it with `PUT /api/me/2fa`", body = TwoFactorSetup),
        (status = 400, description = "Wrong password (`errors.json.password`), or an account without a password", body = wire::ErrorBody),
        (status = 409, description = "2FA is already on", body = wire::ErrorBody),
        (status = 429, description = "Too many wrong passwords or codes in this session (`Retry-After`)", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip, user_id = me.id()))]
async fn start_enrolment(
    State(state): State<AppState>,
    client: Client,
    me: AuthUser,
    Json(body): Json<PasswordConfirmation>,
) -> Result<axum::Json<TwoFactorSetup>, ApiError> {
    two_factor::start_enrolment(&state, &me, &body.password)
        .await
        .map(axum::Json)
}

/// Confirm enrolment with a current code: 2FA is on, the recovery codes are shown once,
/// and every other session of the account ends.
#[utoipa::path(
    put, path = "/me/2fa", tag = "two-factor",
    security(("bearer" = [])),
    request_body = TwoFactorCode,
    responses(
        (status = 200, description = "2FA is on; keep these codes, they are not shown again", body = RecoveryCodes),
        (status = 400, description = "Wrong, malformed or already used code (`errors.json.code`)", body = wire::ErrorBody),
        (status = 409, description = "No enrolment in progress, or 2FA already on", body = wire::ErrorBody),
        (status = 429, description = "Too many wrong passwords or codes in this session (`Retry-After`)", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip, user_id = me.id()))]
async fn confirm_enrolment(
    State(state): State<AppState>,
    client: Client,
    me: AuthUser,
    Json(body): Json<TwoFactorCode>,
) -> Result<axum::Json<RecoveryCodes>, ApiError> {
    two_factor::confirm_enrolment(&state, &me, &body.code)
        .await
        .map(axum::Json)
}

/// Turn 2FA off, with the password and a current code (or a recovery code); every other
/// session of the account ends.
#[utoipa::path(
    delete, path = "/me/2fa", tag = "two-factor",
    security(("bearer" = [])),
    request_body = PasswordAndCode,
    responses(
        (status = 204, description = "2FA is off; the secret and the recovery codes are gone"),
        (status = 400, description = "Wrong password or code (`errors.json.password`, `errors.json.code`)", body = wire::ErrorBody),
        (status = 409, description = "2FA is not on", body = wire::ErrorBody),
        (status = 429, description = "Too many wrong passwords or codes in this session (`Retry-After`)", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip, user_id = me.id()))]
async fn disable(
    State(state): State<AppState>,
    client: Client,
    me: AuthUser,
    Json(body): Json<PasswordAndCode>,
) -> Result<StatusCode, ApiError> {
    two_factor::disable(&state, &me, &body.password, &body.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace the recovery codes, with the password and a current code; the old codes die,
/// and every other session of the account ends.
#[utoipa::path(
    post, path = "/me/2fa/recovery-codes", tag = "two-factor",
    security(("bearer" = [])),
    request_body = PasswordAndCode,
    responses(
        (status = 200, description = "New codes, shown once", body = RecoveryCodes),
        (status = 400, description = "Wrong password or code (`errors.json.password`, `errors.json.code`)", body = wire::ErrorBody),
        (status = 409, description = "2FA is not on", body = wire::ErrorBody),
        (status = 429, description = "Too many wrong passwords or codes in this session (`Retry-After`)", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip, user_id = me.id()))]
async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    client: Client,
    me: AuthUser,
    Json(body): Json<PasswordAndCode>,
) -> Result<axum::Json<RecoveryCodes>, ApiError> {
    two_factor::regenerate_recovery_codes(&state, &me, &body.password, &body.code)
        .await
        .map(axum::Json)
}
