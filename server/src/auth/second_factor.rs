//! The second step of a login for an account with 2FA: a correct password yields only a
//! short-lived, single-use challenge; the challenge and a code (or a recovery code) yield
//! the tokens.
//!
//! A challenge dies when it expires, when it is used, when the password changes, or after
//! a few wrong codes; a dead one answers 410, so the client knows to ask for the password
//! again instead of another code.

use wire::{Timestamp, TwoFactorChallenge};

use crate::auth::login::{self, Method};
use crate::auth::token;
use crate::auth::two_factor::{Proof, Verdict, open_secret, verify};
use crate::db::sessions::Issued;
use crate::db::{micros, now_micros, two_factor};
use crate::error::ApiError;
use crate::extract::Client;
use crate::startup::AppState;

pub const CHALLENGE_GONE: &str =
    "This sign-in has expired or was already completed. Log in again with your password.";

/// Issues a challenge to a user who just gave the right password.
pub async fn challenge(
    state: &AppState,
    user_id: i64,
    password_hash: Option<&str>,
) -> Result<TwoFactorChallenge, ApiError> {
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
    Ok(TwoFactorChallenge {
        challenge,
        expires_at: Timestamp::from_micros(expires_at),
    })
}

/// Answers a challenge with a second factor.
pub async fn answer(
    state: &AppState,
    client: &Client,
    challenge: &str,
    proof: Proof<'_>,
) -> Result<Issued, ApiError> {
    let challenge_hash = token::hash(challenge);
    let Some(user_id) =
        two_factor::challenge_user(state.db.pool(), &challenge_hash, now_micros()).await?
    else {
        tracing::info!("2fa login failed: unknown, used or expired challenge");
        return Err(ApiError::Gone(CHALLENGE_GONE));
    };
    let Some(sealed) = two_factor::totp(state.db.pool(), user_id)
        .await?
        .filter(|t| t.enabled)
        .map(|t| t.secret)
    else {
        return Err(ApiError::Gone(CHALLENGE_GONE));
    };
    let secret = open_secret(state, user_id, &sealed)?;
    let attempt = state
        .throttle
        .reserve_two_factor(user_id, &client.ip)
        .await?;
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
            tracing::info!(user_id, "2fa login failed: {}", failure.log_text());
            return Err(ApiError::Unauthorized(failure.message(&proof)));
        }
    }
    if !two_factor::consume_challenge(&mut tx, &challenge_hash, now_micros()).await? {
        return Err(ApiError::Gone(CHALLENGE_GONE));
    }
    let method = match proof {
        Proof::Totp(_) => Method::TwoFactorCode,
        Proof::Recovery(_) => Method::RecoveryCode,
    };
    let completed = login::complete(state, client, tx, user_id, method).await;
    // The code was right. Refunded once the transaction is over (SQLite has one writer).
    attempt.refund().await;
    completed
}
