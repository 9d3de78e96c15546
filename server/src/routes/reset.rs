//! `/api/tokens/reset`: password reset by email (auth rules 16, 26, 27).
//!
//! A request answers 204 at once, whatever the address: the lookup, the token and the email
//! happen afterwards in one background worker, so that neither the status, the body nor
//! the time taken tells whether the address has an account. One worker, in order, so a
//! newer request always replaces an older one's token.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use tokio::sync::mpsc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::{PasswordReset, ResetRequest};

use crate::auth::token;
use crate::config::Config;
use crate::db::{Db, micros, now_micros, password_resets, sessions, two_factor};
use crate::domain::{Email, NewPassword};
use crate::error::{ApiError, Validation};
use crate::extract::{Client, Json};
use crate::mail::{self, Mailer};
use crate::startup::AppState;

/// Requests waiting for the worker; past this, new ones are dropped (and logged). The
/// throttle keeps the queue far from it.
const QUEUE_CAPACITY: usize = 1024;

/// The one message for every token that cannot be used, so that none says more.
const BAD_TOKEN: &str = "This reset link is invalid, expired or already used. Request a new one.";

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
    state.throttle.reset_requested(email.as_str(), &client.ip)?;
    state.resets.push(email.as_str().to_owned(), client.ip);
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
    let token_hash = token::hash(&request.token);
    // Checked before the slow hash, so bad tokens cost no Argon2 time; checked again,
    // and used up, in the transaction.
    if !password_resets::is_usable(state.db.pool(), &token_hash, now_micros()).await? {
        tracing::info!("password reset failed: bad, expired or used token");
        return Err(ApiError::BadRequest(BAD_TOKEN.into()));
    }
    let password_hash = state
        .hasher
        .hash(password.expect("validated").expose())
        .await?;
    let now = now_micros();
    let mut tx = state.db.begin().await?;
    let Some(user) = password_resets::redeem(&mut tx, &token_hash, now).await? else {
        tracing::info!("password reset failed: bad, expired or used token");
        return Err(ApiError::BadRequest(BAD_TOKEN.into()));
    };
    password_resets::set_password(&mut tx, user.user_id, &password_hash).await?;
    let revoked = sessions::revoke_all_for_user(&mut tx, user.user_id, None).await?;
    two_factor::delete_challenges(&mut tx, user.user_id).await?;
    tx.commit().await?;
    tracing::info!(user_id = user.user_id, revoked, "password reset");
    state.mailer.send(mail::Email {
        to: user.email,
        subject: "Your Microblog password was changed".into(),
        body: format!(
            "Hello {},\n\nThe password of your Microblog account was just changed with a \
             reset link, and every device was signed out.\n\nIf this was not you, reset your \
             password again at once and check your account's two-factor settings.\n",
            user.username
        ),
        kind: "password changed",
    });
    Ok(StatusCode::NO_CONTENT)
}

/// The queue of reset requests, served by one background worker.
#[derive(Clone, Debug)]
pub struct ResetQueue {
    sender: mpsc::Sender<(String, String)>,
}

impl ResetQueue {
    /// Starts the worker; it stops when the last clone of the queue is dropped.
    pub fn start(db: Db, mailer: Mailer, config: Arc<Config>) -> Self {
        let (sender, mut receiver) = mpsc::channel::<(String, String)>(QUEUE_CAPACITY);
        tokio::spawn(async move {
            while let Some((email, ip)) = receiver.recv().await {
                if let Err(e) = issue(&db, &mailer, &config, &email, &ip).await {
                    tracing::error!(error = ?e, %ip, "password reset request failed");
                }
            }
        });
        Self { sender }
    }

    fn push(&self, email: String, ip: String) {
        if self.sender.try_send((email, ip)).is_err() {
            tracing::warn!("password reset queue full: a request was dropped");
        }
    }
}

/// Issues a token and emails the link, if the address has an account.
async fn issue(
    db: &Db,
    mailer: &Mailer,
    config: &Config,
    email: &str,
    ip: &str,
) -> anyhow::Result<()> {
    let Some(user) = password_resets::recipient_by_email(db.pool(), email).await? else {
        tracing::info!(%ip, "password reset requested for an unknown address");
        return Ok(());
    };
    let reset_token = token::generate();
    let now = now_micros();
    let mut tx = db.begin().await?;
    password_resets::replace(
        &mut tx,
        &user,
        &token::hash(&reset_token),
        now,
        now.saturating_add(micros(config.reset_token_ttl)),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, %ip, "password reset requested");
    // From configuration, never from the request's Host (auth rule 27).
    let link = format!("{}/reset?token={reset_token}", config.public_url);
    let minutes = config.reset_token_ttl.as_secs().div_ceil(60);
    mailer.send(mail::Email {
        to: user.email,
        subject: "Reset your Microblog password".into(),
        body: format!(
            "Hello {},\n\nSomeone, hopefully you, asked to reset the password of your \
             Microblog account. To choose a new one, open this link within {minutes} \
             minutes:\n\n{link}\n\nThe link works once. If you did not ask for it, ignore \
             this email: your password stays as it is.\n",
            user.username
        ),
        kind: "password reset",
    });
    Ok(())
}
