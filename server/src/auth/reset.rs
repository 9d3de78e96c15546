//! Password reset by email.
//!
//! A request answers 204 at once, whatever the address: the lookup, the token and the email
//! happen afterwards in one background worker, so that neither the status, the body nor
//! the time taken tells whether the address has an account. One worker, in order, so a
//! newer request always replaces an older one's token. Redeeming a token sets the
//! password, ends every session and every pending 2FA challenge, and tells the owner.

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::auth::token;
use crate::config::Config;
use crate::db::{Db, micros, now_micros, password_resets, sessions, two_factor, users};
use crate::domain::{Email, NewPassword};
use crate::error::ApiError;
use crate::extract::Client;
use crate::mail::{self, Mailer};
use crate::startup::AppState;

/// Requests waiting for the worker; past this, new ones are dropped (and logged). The
/// throttle keeps the queue far from it.
const QUEUE_CAPACITY: usize = 1024;

/// The one message for every token that cannot be used, so that none says more.
const BAD_TOKEN: &str = "This reset link is invalid, expired or already used. Request a new one.";

/// Counts the request against the throttle and queues it for the worker.
pub async fn request(state: &AppState, client: &Client, email: &Email) -> Result<(), ApiError> {
    state
        .throttle
        .reset_requested(email.as_str(), &client.ip)
        .await?;
    state
        .resets
        .push(email.as_str().to_owned(), client.ip.clone());
    Ok(())
}

/// Sets a new password with the token from a reset email.
pub async fn set_new_password(
    state: &AppState,
    token: &str,
    password: &NewPassword,
) -> Result<(), ApiError> {
    let token_hash = token::hash(token);
    // Checked before the slow hash, so bad tokens cost no Argon2 time; checked again,
    // and used up, in the transaction.
    if !password_resets::is_usable(state.db.pool(), &token_hash, now_micros()).await? {
        tracing::info!("password reset failed: bad, expired or used token");
        return Err(ApiError::BadRequest(BAD_TOKEN.into()));
    }
    let password_hash = state.hasher.hash(password.expose()).await?;
    let now = now_micros();
    let mut tx = state.db.begin().await?;
    let Some(user) = password_resets::redeem(&mut tx, &token_hash, now).await? else {
        tracing::info!("password reset failed: bad, expired or used token");
        return Err(ApiError::BadRequest(BAD_TOKEN.into()));
    };
    users::set_password(&mut tx, user.user_id, &password_hash).await?;
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
    Ok(())
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

    pub fn push(&self, email: String, ip: String) {
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
    // From configuration, never from the request's Host (docs/security.md, "Password
    // reset").
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
