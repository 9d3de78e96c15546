//! Two-factor authentication with TOTP (auth rules 22-25): enrolment and its management
//! under `/api/me/2fa`, and the second step of a login at `/api/tokens/2fa`.
//!
//! Every change needs the password again, and turning 2FA off or replacing the recovery
//! codes also a current code. Wrong passwords and codes are throttled per account and per
//! address. Changes are logged (user id and address, never a code or the secret) and the
//! account's owner is told by email.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::{
    PasswordAndCode, PasswordConfirmation, RecoveryCodes, Timestamp, Token, TwoFactorChallenge,
    TwoFactorCode, TwoFactorLogin, TwoFactorSetup, TwoFactorStatus,
};

use crate::auth::{AuthUser, token, totp};
use crate::db::sessions::{self, Origin};
use crate::db::{Tx, micros, now_micros, two_factor};
use crate::error::ApiError;
use crate::extract::{Client, Json};
use crate::mail;
use crate::routes::tokens::token_response;
use crate::startup::AppState;

/// Recovery codes handed out at a time.
pub const RECOVERY_CODES: usize = 10;

const CHALLENGE_GONE: &str =
    "This sign-in has expired or was already completed. Log in again with your password.";
const WRONG_CODE: &str = "The code is incorrect.";
const REPLAYED_CODE: &str =
    "This code was already used. Wait for the next code from your authenticator app.";
const WRONG_RECOVERY_CODE: &str = "The recovery code is incorrect or was already used.";
const MALFORMED_CODE: &str = "Enter the 6-digit code from your authenticator app.";
const ALREADY_ON: &str =
    "Two-factor authentication is already on. Turn it off first to set it up again.";
const NOT_ON: &str = "Two-factor authentication is not on.";
const NO_ENROLMENT: &str = "No two-factor setup is in progress. Start it again.";
const NO_PASSWORD: &str = "This account has no password yet. Set one first (\"Forgot password\" \
     sends a link), then turn on two-factor authentication.";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status, start_enrolment, confirm_enrolment, disable))
        .routes(routes!(regenerate_recovery_codes))
        .routes(routes!(verify_login))
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
    user: AuthUser,
) -> Result<axum::Json<TwoFactorStatus>, ApiError> {
    let enabled = two_factor::is_enabled(state.db.pool(), user.id()).await?;
    let recovery_codes_left = if enabled {
        two_factor::recovery_codes_left(state.db.pool(), user.id()).await?
    } else {
        0
    };
    Ok(axum::Json(TwoFactorStatus {
        enabled,
        recovery_codes_left,
    }))
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
        (status = 429, description = "Too many wrong passwords or codes (`Retry-After`)", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip, user_id = user.id()))]
async fn start_enrolment(
    State(state): State<AppState>,
    client: Client,
    user: AuthUser,
    Json(body): Json<PasswordConfirmation>,
) -> Result<axum::Json<TwoFactorSetup>, ApiError> {
    check_password(&state, &user, &client, &body.password).await?;
    let secret = totp::generate_secret();
    let mut tx = state.db.begin().await?;
    if !two_factor::start_enrolment(&mut tx, user.id(), &secret, now_micros()).await? {
        return Err(ApiError::Conflict(ALREADY_ON));
    }
    tx.commit().await?;
    tracing::info!("2fa enrolment started");
    let otpauth_uri = totp::otpauth_uri(&state.config.totp_issuer, &user.user.username, &secret);
    Ok(axum::Json(TwoFactorSetup {
        secret,
        otpauth_uri,
    }))
}

/// Confirm enrolment with a current code: 2FA is on, and the recovery codes are shown once.
#[utoipa::path(
    put, path = "/me/2fa", tag = "two-factor",
    security(("bearer" = [])),
    request_body = TwoFactorCode,
    responses(
        (status = 200, description = "2FA is on; keep these codes, they are not shown again", body = RecoveryCodes),
        (status = 400, description = "Wrong, malformed or already used code (`errors.json.code`)", body = wire::ErrorBody),
        (status = 409, description = "No enrolment in progress, or 2FA already on", body = wire::ErrorBody),
        (status = 429, description = "Too many wrong codes (`Retry-After`)", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip, user_id = user.id()))]
async fn confirm_enrolment(
    State(state): State<AppState>,
    client: Client,
    user: AuthUser,
    Json(body): Json<TwoFactorCode>,
) -> Result<axum::Json<RecoveryCodes>, ApiError> {
    state.throttle.check_two_factor(user.id(), &client.ip)?;
    let secret = match two_factor::totp(state.db.pool(), user.id()).await? {
        None => return Err(ApiError::Conflict(NO_ENROLMENT)),
        Some(t) if t.enabled => return Err(ApiError::Conflict(ALREADY_ON)),
        Some(t) => t.secret,
    };
    if totp::normalize_code(&body.code).is_none() {
        return Err(ApiError::field("code", MALFORMED_CODE));
    }
    let mut tx = state.db.begin().await?;
    check_code(
        &state,
        &mut tx,
        &user,
        &client,
        &secret,
        Proof::Totp(&body.code),
    )
    .await?;
    if !two_factor::enable(&mut tx, user.id(), now_micros()).await? {
        return Err(ApiError::Conflict(NO_ENROLMENT));
    }
    let codes = replace_recovery_codes(&mut tx, user.id()).await?;
    tx.commit().await?;
    tracing::info!("2fa enabled");
    notify(
        &state,
        &user,
        "Two-factor authentication is on",
        "Two-factor authentication was turned on for your Microblog account. Signing in now \
         needs a code from your authenticator app, or one of your recovery codes.",
    );
    Ok(axum::Json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

/// Turn 2FA off, with the password and a current code (or a recovery code).
#[utoipa::path(
    delete, path = "/me/2fa", tag = "two-factor",
    security(("bearer" = [])),
    request_body = PasswordAndCode,
    responses(
        (status = 204, description = "2FA is off; the secret and the recovery codes are gone"),
        (status = 400, description = "Wrong password or code (`errors.json.password`, `errors.json.code`)", body = wire::ErrorBody),
        (status = 409, description = "2FA is not on", body = wire::ErrorBody),
        (status = 429, description = "Too many wrong passwords or codes (`Retry-After`)", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip, user_id = user.id()))]
async fn disable(
    State(state): State<AppState>,
    client: Client,
    user: AuthUser,
    Json(body): Json<PasswordAndCode>,
) -> Result<StatusCode, ApiError> {
    let secret = enabled_secret(&state, &user).await?;
    check_password(&state, &user, &client, &body.password).await?;
    let mut tx = state.db.begin().await?;
    check_code(
        &state,
        &mut tx,
        &user,
        &client,
        &secret,
        Proof::typed(&body.code),
    )
    .await?;
    two_factor::disable(&mut tx, user.id()).await?;
    tx.commit().await?;
    tracing::info!("2fa disabled");
    notify(
        &state,
        &user,
        "Two-factor authentication is off",
        "Two-factor authentication was turned off for your Microblog account. Signing in now \
         needs only your password.",
    );
    Ok(StatusCode::NO_CONTENT)
}

/// Replace the recovery codes, with the password and a current code; the old codes die.
#[utoipa::path(
    post, path = "/me/2fa/recovery-codes", tag = "two-factor",
    security(("bearer" = [])),
    request_body = PasswordAndCode,
    responses(
        (status = 200, description = "New codes, shown once", body = RecoveryCodes),
        (status = 400, description = "Wrong password or code (`errors.json.password`, `errors.json.code`)", body = wire::ErrorBody),
        (status = 409, description = "2FA is not on", body = wire::ErrorBody),
        (status = 429, description = "Too many wrong passwords or codes (`Retry-After`)", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip, user_id = user.id()))]
async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    client: Client,
    user: AuthUser,
    Json(body): Json<PasswordAndCode>,
) -> Result<axum::Json<RecoveryCodes>, ApiError> {
    let secret = enabled_secret(&state, &user).await?;
    check_password(&state, &user, &client, &body.password).await?;
    let mut tx = state.db.begin().await?;
    check_code(
        &state,
        &mut tx,
        &user,
        &client,
        &secret,
        Proof::typed(&body.code),
    )
    .await?;
    let codes = replace_recovery_codes(&mut tx, user.id()).await?;
    tx.commit().await?;
    tracing::info!("2fa recovery codes replaced");
    notify(
        &state,
        &user,
        "New recovery codes",
        "New recovery codes were made for your Microblog account; the old ones no longer work.",
    );
    Ok(axum::Json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

/// Finish a login with the challenge from `POST /api/tokens` and a code or a recovery code.
///
/// Answers like a login: the access token in the body, the refresh token in the cookie.
/// A wrong code leaves the challenge usable until it expires or fails too often.
#[utoipa::path(
    post, path = "/tokens/2fa", tag = "tokens",
    request_body = TwoFactorLogin,
    responses(
        (status = 200, description = "Logged in; the refresh token is in the cookie", body = Token),
        (status = 400, description = "Neither or both of `code` and `recovery_code`, or a malformed code", body = wire::ErrorBody),
        (status = 401, description = "Wrong or replayed code; or the challenge expired or was used (log in again)", body = wire::ErrorBody),
        (status = 429, description = "Too many wrong codes (`Retry-After`)", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip))]
async fn verify_login(
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
    let challenge_hash = token::hash(&body.challenge);
    let now = now_micros();
    let Some(user_id) = two_factor::challenge_user(state.db.pool(), &challenge_hash, now).await?
    else {
        tracing::info!("2fa login failed: unknown, used or expired challenge");
        return Err(ApiError::Unauthorized(CHALLENGE_GONE));
    };
    state.throttle.check_two_factor(user_id, &client.ip)?;
    let Some(secret) = two_factor::totp(state.db.pool(), user_id)
        .await?
        .filter(|t| t.enabled)
        .map(|t| t.secret)
    else {
        return Err(ApiError::Unauthorized(CHALLENGE_GONE));
    };
    let mut tx = state.db.begin().await?;
    match verify(&mut tx, user_id, &secret, &proof).await? {
        Verdict::Accepted => {}
        failure => {
            drop(tx);
            two_factor::challenge_failed(
                &state.db,
                &challenge_hash,
                state.config.two_factor_challenge_max_failures,
            )
            .await?;
            state.throttle.two_factor_failed(user_id, &client.ip);
            tracing::info!(user_id, "2fa login failed: {}", failure.log_text());
            return Err(ApiError::Unauthorized(failure.message(&proof)));
        }
    }
    if !two_factor::consume_challenge(&mut tx, &challenge_hash, now_micros()).await? {
        return Err(ApiError::Unauthorized(CHALLENGE_GONE));
    }
    let origin = Origin {
        ip: &client.ip,
        user_agent: &client.user_agent,
    };
    let issued = sessions::create(&mut tx, user_id, &origin, state.lifetimes()).await?;
    tx.commit().await?;
    tracing::info!(
        user_id,
        session_id = issued.session_id,
        recovery_code = matches!(proof, Proof::Recovery(_)),
        "login with 2fa"
    );
    Ok(token_response(&state, issued))
}

/// For a login whose password was right: if the account has 2FA, a 202 with a challenge
/// instead of tokens (auth rule 24). `None` for accounts without 2FA, which log in as ever.
pub async fn challenge_if_enabled(
    state: &AppState,
    user_id: i64,
    password_hash: Option<&str>,
) -> Result<Option<Response>, ApiError> {
    if !two_factor::is_enabled(state.db.pool(), user_id).await? {
        return Ok(None);
    }
    let challenge = token::generate();
    let now = now_micros();
    let expires_at = now.saturating_add(micros(state.config.two_factor_challenge_ttl));
    let mut tx = state.db.begin().await?;
    two_factor::create_challenge(
        &mut tx,
        user_id,
        &token::hash(&challenge),
        now,
        expires_at,
        password_hash,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user_id, "login: password accepted, 2fa challenge issued");
    let body = TwoFactorChallenge {
        challenge,
        expires_at: Timestamp::from_micros(expires_at),
    };
    Ok(Some(
        (StatusCode::ACCEPTED, axum::Json(body)).into_response(),
    ))
}

/// What the user typed as a second factor.
enum Proof<'a> {
    Totp(&'a str),
    Recovery(&'a str),
}

impl<'a> Proof<'a> {
    /// Six digits are a TOTP code; anything else is tried as a recovery code.
    fn typed(code: &'a str) -> Self {
        if totp::normalize_code(code).is_some() {
            Self::Totp(code)
        } else {
            Self::Recovery(code)
        }
    }
}

enum Verdict {
    Accepted,
    Wrong,
    Replayed,
}

impl Verdict {
    fn message(&self, proof: &Proof<'_>) -> &'static str {
        match (self, proof) {
            (Self::Replayed, _) => REPLAYED_CODE,
            (_, Proof::Recovery(_)) => WRONG_RECOVERY_CODE,
            _ => WRONG_CODE,
        }
    }

    fn log_text(&self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Wrong => "wrong code",
            Self::Replayed => "replayed code",
        }
    }
}

/// Checks a second factor, using it up in `tx`: a TOTP step becomes the last accepted one,
/// a recovery code is deleted. Nothing is used up unless the transaction commits.
async fn verify(
    tx: &mut Tx,
    user_id: i64,
    secret: &str,
    proof: &Proof<'_>,
) -> Result<Verdict, sqlx::Error> {
    match proof {
        Proof::Totp(code) => match totp::matching_step(secret, code, totp::current_step()) {
            None => Ok(Verdict::Wrong),
            Some(step) if two_factor::accept_step(tx, user_id, step).await? => {
                Ok(Verdict::Accepted)
            }
            Some(_) => Ok(Verdict::Replayed),
        },
        Proof::Recovery(code) => match totp::normalize_recovery_code(code) {
            Some(normal)
                if two_factor::use_recovery_code(tx, user_id, &token::hash(&normal)).await? =>
            {
                Ok(Verdict::Accepted)
            }
            _ => Ok(Verdict::Wrong),
        },
    }
}

/// [`verify`] for the settings endpoints: a failure is a field error on `code`, counted
/// by the throttle.
async fn check_code(
    state: &AppState,
    tx: &mut Tx,
    user: &AuthUser,
    client: &Client,
    secret: &str,
    proof: Proof<'_>,
) -> Result<(), ApiError> {
    match verify(tx, user.id(), secret, &proof).await? {
        Verdict::Accepted => Ok(()),
        failure => {
            state.throttle.two_factor_failed(user.id(), &client.ip);
            tracing::info!("2fa change refused: {}", failure.log_text());
            Err(ApiError::field("code", failure.message(&proof)))
        }
    }
}

/// Re-authentication for 2FA changes: the password again, throttled with the codes.
async fn check_password(
    state: &AppState,
    user: &AuthUser,
    client: &Client,
    password: &str,
) -> Result<(), ApiError> {
    state.throttle.check_two_factor(user.id(), &client.ip)?;
    let Some(hash) = two_factor::password_hash(state.db.pool(), user.id())
        .await?
        .flatten()
    else {
        return Err(ApiError::BadRequest(NO_PASSWORD.into()));
    };
    if state.hasher.verify(password, Some(&hash)).await? {
        return Ok(());
    }
    state.throttle.two_factor_failed(user.id(), &client.ip);
    tracing::info!("2fa change refused: wrong password");
    Err(ApiError::field("password", "Incorrect password."))
}

async fn enabled_secret(state: &AppState, user: &AuthUser) -> Result<String, ApiError> {
    match two_factor::totp(state.db.pool(), user.id()).await? {
        Some(t) if t.enabled => Ok(t.secret),
        _ => Err(ApiError::Conflict(NOT_ON)),
    }
}

/// New recovery codes in `tx`, replacing the old; returns them in plaintext, once.
async fn replace_recovery_codes(tx: &mut Tx, user_id: i64) -> Result<Vec<String>, sqlx::Error> {
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| totp::generate_recovery_code())
        .collect();
    let hashes: Vec<String> = codes
        .iter()
        .filter_map(|c| totp::normalize_recovery_code(c))
        .map(|c| token::hash(&c))
        .collect();
    two_factor::replace_recovery_codes(tx, user_id, &hashes).await?;
    Ok(codes)
}

fn notify(state: &AppState, user: &AuthUser, subject: &str, text: &str) {
    state.mailer.send(mail::Email {
        to: user.user.email.clone(),
        subject: subject.to_owned(),
        body: format!(
            "Hello {},\n\n{text}\n\nIf this was not you, change your password at once.\n",
            user.user.username
        ),
        kind: "two-factor change",
    });
}
