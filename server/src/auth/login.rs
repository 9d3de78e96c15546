//! Logging in with a password, and what every completed login does.
//!
//! The attempt is reserved in the throttle before the password is verified and refunded
//! only if it was right, so parallel guesses can never exceed the limits. An unknown
//! name costs the same hash as a known one, against a dummy hash. A 2FA account gets a
//! challenge instead of tokens; a password alone mints a limited number of them.

use wire::TwoFactorChallenge;

use crate::auth::{second_factor, verify_reserved};
use crate::db::sessions::{self, Issued, Origin};
use crate::db::{Tx, two_factor, users};
use crate::error::ApiError;
use crate::extract::Client;
use crate::startup::AppState;
use crate::throttle;

/// What a right password leads to.
pub enum LoggedIn {
    /// Tokens: the account has no second factor.
    Tokens(Issued),
    /// A challenge to answer with a code at `POST /api/tokens/2fa`.
    Challenge(TwoFactorChallenge),
}

/// Checks a name (username or email) and password.
pub async fn with_password(
    state: &AppState,
    client: &Client,
    name: &str,
    password: &str,
) -> Result<LoggedIn, ApiError> {
    let user = users::credentials_for_login(state.db.pool(), name).await?;
    // Throttled per account and address, unknown names alike.
    let account = throttle::account_key(user.as_ref().map(|u| u.id), name);
    let attempt = state.throttle.reserve_login(&account, &client.ip).await?;
    let stored_hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
    // Verified even when the user is unknown, against a dummy hash: same time, same answer.
    let valid = verify_reserved(state, attempt, password, stored_hash).await?;
    let user = match user {
        Some(user) if valid => user,
        other => {
            tracing::info!(
                user_id = other.map(|u| u.id),
                "login failed: bad credentials"
            );
            return Err(ApiError::BadCredentials);
        }
    };
    if two_factor::is_enabled(state.db.pool(), user.id).await? {
        state
            .throttle
            .reserve_challenge(user.id, &client.ip)
            .await?;
        let challenge =
            second_factor::challenge(state, user.id, user.password_hash.as_deref()).await?;
        return Ok(LoggedIn::Challenge(challenge));
    }
    let tx = state.db.begin().await?;
    let issued = complete(state, client, tx, user.id, Method::Password).await?;
    Ok(LoggedIn::Tokens(issued))
}

/// How a login was proved, for the log.
#[derive(Clone, Copy, Debug)]
pub enum Method {
    Password,
    TwoFactorCode,
    RecoveryCode,
    /// An OAuth 2 / OpenID Connect provider.
    Provider,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::TwoFactorCode => "2fa code",
            Self::RecoveryCode => "recovery code",
            Self::Provider => "oauth2 provider",
        }
    }
}

/// Starts the session of a login that passed every step, in `tx` with whatever the last
/// step used up, and commits: the address becomes known to the account (see
/// [`crate::throttle::Throttle::login_completed`]).
pub async fn complete(
    state: &AppState,
    client: &Client,
    mut tx: Tx,
    user_id: i64,
    method: Method,
) -> Result<Issued, ApiError> {
    let issued = sessions::create(&mut tx, user_id, &origin(client), state.lifetimes()).await?;
    tx.commit().await?;
    // The session is committed: a failure to remember the address costs the user nothing.
    if let Err(e) = state.throttle.login_completed(user_id, &client.ip).await {
        tracing::warn!(user_id, error = ?e, "remembering the login's address failed");
    }
    tracing::info!(
        user_id,
        session_id = issued.session_id,
        method = method.as_str(),
        "login"
    );
    Ok(issued)
}

/// Where a session is started from.
pub fn origin(client: &Client) -> Origin<'_> {
    Origin {
        ip: &client.ip,
        user_agent: &client.user_agent,
    }
}
