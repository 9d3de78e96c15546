//! `/api/tokens/reset`: password reset by email. The steps live in [`crate::auth::reset`].

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::{PasswordReset, ResetRequest};

use crate::auth::reset;
use crate::domain::{Email, NewPassword};
use crate::error::{ApiError, Validation};
use crate::extract::{Client, Json};
use crate::startup::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(request_reset, reset_password))
}

/// Ask for a password-reset email. Answers 204 whatever the address.
#[utoipa::path(
    post, path = "/tokens/reset", tag = "tokens",
    request_body = ResetRequest,
    responses(
        (status = 204, description = "Accepted; an email goes out if the address has an account"),
        (status = 400, description = "Not an email address", body = wire::ErrorBody),
        (status = 429, description = "Too many requests (`Retry-After`)", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip))]
async fn request_reset(
    State(state): State<AppState>,
    client: Client,
    Json(request): Json<ResetRequest>,
) -> Result<StatusCode, ApiError> {
    let mut v = Validation::default();
    let email = v.check("email", Email::parse(&request.email));
    v.finish()?;
    let email = email.expect("validated");
    reset::request(&state, &client, &email).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set a new password with the token from a reset email. Signs out every session.
#[utoipa::path(
    put, path = "/tokens/reset", tag = "tokens",
    request_body = PasswordReset,
    responses(
        (status = 204, description = "Password set; every session of the account is revoked"),
        (status = 400, description = "Invalid, expired or used token; or a weak password (`errors.json.new_password`)", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip))]
async fn reset_password(
    State(state): State<AppState>,
    client: Client,
    Json(request): Json<PasswordReset>,
) -> Result<StatusCode, ApiError> {
    let mut v = Validation::default();
    let password = v.check("new_password", NewPassword::parse(&request.new_password));
    v.finish()?;
    let password = password.expect("validated");
    reset::set_new_password(&state, &request.token, &password).await?;
    Ok(StatusCode::NO_CONTENT)
}
