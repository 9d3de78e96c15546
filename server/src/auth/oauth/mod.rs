//! Signing in with an account at a provider (GitHub, Google, any OpenID Connect issuer),
//! and linking one to an account from its settings.
//!
//! The API is the confidential client: the browser goes to the provider and back with a
//! code, and hands it to us with the `state`; we exchange it with the client secret and
//! the PKCE verifier, which never leave the server. A flow is single-use and bound to the
//! browser that started it: its `state` is 256 random bits, stored (hashed) for ten
//! minutes, and the same hash sits in an HttpOnly cookie scoped to `/api/tokens`; a
//! `state` without that cookie, a second use, or a late one are refused.
//!
//! Accounts are keyed by (provider, subject), never by email: a first sign-in creates an
//! account, and an existing account gets a provider only by linking it while logged in.
//! A sign-in ends like a password login ([`login::complete`]): a 2FA account gets its
//! challenge first, and the same log line and known-address bookkeeping follow.

pub mod config;
pub mod provider;

use std::time::Duration;

use wire::{LinkedProvider, Timestamp, TwoFactorChallenge};

use crate::auth::login::{self, Method};
use crate::auth::oauth::provider::{Identity, ProviderError};
use crate::auth::{AuthUser, reauth, second_factor, token};
use crate::db::oauth::{self as db, LinkConflict, NewFlow, Unlinked};
use crate::db::sessions::Issued;
use crate::db::{micros, now_micros, sessions, two_factor, users};
use crate::domain::Username;
use crate::error::ApiError;
use crate::extract::Client;
use crate::startup::AppState;

/// The cookie holding the SHA-256 of the flow's `state`.
pub const FLOW_COOKIE: &str = "oauth2_flow";
/// How long a person has at the provider.
pub const FLOW_TTL: Duration = Duration::from_secs(600);
/// A login at most this old stands in for a password on an account without one.
pub const RECENT_LOGIN: Duration = Duration::from_secs(600);

const UNKNOWN_PROVIDER: &str = "Unknown OAuth2 provider.";
const FLOW_INVALID: &str =
    "This sign-in was not started in this browser, was already used, or has expired. Start again.";
const PROVIDER_REFUSED: &str =
    "The provider's answer could not be verified, so you are not signed in. Start again.";
const PROVIDER_DOWN: &str = "The provider could not be reached. Try again in a moment.";
const UNVERIFIED_EMAIL: &str = "The provider has not verified your email address. Verify it there, or sign up with a password.";
const EMAIL_EXISTS: &str = "An account with this email already exists. Log in to it and link this provider from Settings → Sign-in methods.";
const LINK_SESSION_GONE: &str = "The session that started linking has ended. Log in and try again.";
const IDENTITY_TAKEN: &str =
    "This account at the provider is already linked to a Microblog account.";
const PROVIDER_TAKEN: &str =
    "A different account at this provider is already linked. Unlink it first.";

/// A flow started: where to send the browser, and the cookie value binding it.
pub struct Started {
    pub url: String,
    pub state_hash: String,
}

/// How a flow ended.
pub enum Finished {
    /// Signed in: a new session.
    Tokens(Issued),
    /// Signed in to a 2FA account: the code comes next, at `POST /api/tokens/2fa`.
    Challenge(TwoFactorChallenge),
    /// The provider was linked to the account that started the flow from its settings.
    Linked(LinkedProvider),
}

/// Starts a sign-in, or (with `link`) a link to the caller's account.
pub async fn start(
    state: &AppState,
    name: &str,
    link: Option<&AuthUser>,
) -> Result<Started, ApiError> {
    let provider = state
        .oauth
        .get(name)
        .ok_or(ApiError::NotFound(UNKNOWN_PROVIDER))?;
    let flow_state = token::generate();
    let nonce = token::generate();
    let state_hash = token::hash(&flow_state);
    let authorization = state
        .oauth
        .authorize(provider, &flow_state, &nonce)
        .await
        .map_err(|e| provider_error(name, e))?;
    let sealed = state.sealer.seal(
        authorization.pkce_verifier.as_bytes(),
        &flow_context(&state_hash),
    );
    let now = now_micros();
    db::create_flow(
        &state.db,
        &NewFlow {
            state_hash: &state_hash,
            provider: name,
            pkce_verifier: &sealed,
            nonce: &nonce,
            link: link.map(|me| (me.id(), me.session_id)),
            created_at: now,
            expires_at: now.saturating_add(micros(FLOW_TTL)),
        },
    )
    .await?;
    tracing::info!(
        provider = name,
        user_id = link.map(AuthUser::id),
        "oauth2 flow started"
    );
    Ok(Started {
        url: authorization.url,
        state_hash,
    })
}

/// Finishes a flow with the code and `state` the provider sent back to the browser, and
/// the flow cookie that browser holds.
pub async fn finish(
    state: &AppState,
    client: &Client,
    name: &str,
    code: &str,
    flow_state: &str,
    cookie: Option<&str>,
) -> Result<Finished, ApiError> {
    let provider = state
        .oauth
        .get(name)
        .ok_or(ApiError::NotFound(UNKNOWN_PROVIDER))?;
    let state_hash = token::hash(flow_state);
    // Both sides are SHA-256 digests of random values: comparing them leaks nothing.
    if cookie != Some(state_hash.as_str()) {
        tracing::info!(
            provider = name,
            "oauth2 sign-in refused: state not from this browser"
        );
        return Err(ApiError::Unauthorized(FLOW_INVALID));
    }
    // Taken out before anything else: whatever happens next, this state is spent.
    let Some(flow) = db::take_flow(&state.db, &state_hash).await? else {
        tracing::info!(
            provider = name,
            "oauth2 sign-in refused: unknown or used state"
        );
        return Err(ApiError::Unauthorized(FLOW_INVALID));
    };
    if flow.provider != name || flow.expires_at <= now_micros() {
        tracing::info!(
            provider = name,
            "oauth2 sign-in refused: expired or other provider"
        );
        return Err(ApiError::Unauthorized(FLOW_INVALID));
    }
    let verifier = state
        .sealer
        .open(&flow.pkce_verifier, &flow_context(&state_hash))
        .map_err(ApiError::Internal)?;
    let verifier = String::from_utf8(verifier).map_err(|e| ApiError::Internal(e.into()))?;
    let identity = state
        .oauth
        .identify(provider, code, &verifier, &flow.nonce)
        .await
        .map_err(|e| provider_error(name, e))?;
    match (flow.user_id, flow.session_id) {
        (Some(user_id), Some(session_id)) => {
            link(state, name, user_id, session_id, &identity).await
        }
        _ => sign_in(state, client, name, &identity).await,
    }
}

/// A sign-in through an identity: its account, or a new one.
async fn sign_in(
    state: &AppState,
    client: &Client,
    name: &str,
    identity: &Identity,
) -> Result<Finished, ApiError> {
    let mut tx = state.db.begin().await?;
    let now = now_micros();
    let user_id = match db::user_for_identity(&mut tx, name, &identity.subject).await? {
        Some(user_id) => {
            if two_factor::is_enabled(state.db.pool(), user_id).await? {
                drop(tx);
                state
                    .throttle
                    .reserve_challenge(user_id, &client.ip)
                    .await?;
                let password_hash = users::password_hash(state.db.pool(), user_id).await?;
                let challenge =
                    second_factor::challenge(state, user_id, password_hash.as_deref()).await?;
                tracing::info!(
                    user_id,
                    provider = name,
                    "oauth2 sign-in: 2fa challenge issued"
                );
                return Ok(Finished::Challenge(challenge));
            }
            let email = identity.email.as_deref().unwrap_or_default();
            db::touch_identity(&mut tx, name, &identity.subject, email, now).await?;
            user_id
        }
        None => {
            drop(tx);
            state.throttle.registration(&client.ip).await?;
            let email = identity
                .email
                .clone()
                .unwrap_or_else(|| placeholder_email(name, &identity.subject));
            let username = free_username(state, identity.username_hint.as_deref(), name).await?;
            tx = state.db.begin().await?;
            let user = db::create_user(&mut tx, &username, &email, now)
                .await
                .map_err(|e| match users::conflict(&e) {
                    Some("email") => ApiError::Conflict(EMAIL_EXISTS),
                    Some(_) => ApiError::Conflict("That username was just taken. Try again."),
                    None => e.into(),
                })?;
            let linked = db::link(
                &mut tx,
                user.id,
                name,
                &identity.subject,
                identity.email.as_deref().unwrap_or_default(),
                now,
            )
            .await?;
            if linked.is_err() {
                // Another request created the account for this identity a moment ago.
                return Err(ApiError::Conflict(
                    "This sign-in is already under way. Try again.",
                ));
            }
            tracing::info!(
                user_id = user.id,
                provider = name,
                "registered through oauth2"
            );
            user.id
        }
    };
    let issued = login::complete(state, client, tx, user_id, Method::Provider).await?;
    tracing::info!(user_id, provider = name, "oauth2 sign-in");
    Ok(Finished::Tokens(issued))
}

/// Links an identity to the account whose session started the flow, if it is still live.
async fn link(
    state: &AppState,
    name: &str,
    user_id: i64,
    session_id: i64,
    identity: &Identity,
) -> Result<Finished, ApiError> {
    let now = now_micros();
    if sessions::user_for_session(state.db.pool(), session_id, user_id, now)
        .await?
        .is_none()
    {
        return Err(ApiError::Unauthorized(LINK_SESSION_GONE));
    }
    let email = identity.email.as_deref().unwrap_or_default();
    let mut tx = state.db.begin().await?;
    match db::link(&mut tx, user_id, name, &identity.subject, email, now).await? {
        Ok(()) => {}
        Err(conflict) => {
            tracing::info!(user_id, provider = name, ?conflict, "oauth2 link refused");
            return Err(ApiError::Conflict(match conflict {
                LinkConflict::IdentityTaken => IDENTITY_TAKEN,
                LinkConflict::ProviderTaken => PROVIDER_TAKEN,
            }));
        }
    }
    tx.commit().await?;
    tracing::info!(user_id, provider = name, "oauth2 provider linked");
    Ok(Finished::Linked(LinkedProvider {
        provider: name.to_owned(),
        display_name: display_name(state, name),
        email: identity.email.clone(),
        linked_at: Timestamp::from_micros(now),
    }))
}

/// Checks that the caller may link a provider: their password, or for an account
/// without one a recent login (the provider was the proof).
pub async fn may_link(
    state: &AppState,
    me: &AuthUser,
    password: Option<&str>,
) -> Result<(), ApiError> {
    if me.user.has_password {
        let Some(password) = password.filter(|p| !p.is_empty()) else {
            return Err(ApiError::field(
                "password",
                "Enter your password to link a provider.",
            ));
        };
        if !reauth::password(state, me, password).await? {
            return Err(ApiError::field("password", "Incorrect password."));
        }
        return Ok(());
    }
    if recent_login(state, me).await? {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Sign out and in again with your provider first: this needs a recent sign-in.",
        ))
    }
}

/// Whether the caller's session began with a login in the last [`RECENT_LOGIN`].
pub async fn recent_login(state: &AppState, me: &AuthUser) -> Result<bool, ApiError> {
    let started = sessions::created_at(state.db.pool(), me.session_id).await?;
    Ok(started.is_some_and(|t| now_micros() - t < micros(RECENT_LOGIN)))
}

/// The caller's linked providers.
pub async fn linked(state: &AppState, me: &AuthUser) -> Result<Vec<LinkedProvider>, ApiError> {
    Ok(db::for_user(state.db.pool(), me.id())
        .await?
        .into_iter()
        .map(|row| LinkedProvider {
            display_name: display_name(state, &row.provider),
            email: Some(row.email).filter(|e| !e.is_empty()),
            linked_at: Timestamp::from_micros(row.created_at),
            provider: row.provider,
        })
        .collect())
}

/// Unlinks a provider from the caller's account, unless it is their last way in.
pub async fn unlink(state: &AppState, me: &AuthUser, name: &str) -> Result<(), ApiError> {
    match db::unlink(&state.db, me.id(), name).await? {
        Unlinked::Done => {
            tracing::info!(
                user_id = me.id(),
                provider = name,
                "oauth2 provider unlinked"
            );
            Ok(())
        }
        Unlinked::NotLinked => Err(ApiError::NotFound(
            "This provider is not linked to your account.",
        )),
        Unlinked::LastMethod => Err(ApiError::Conflict(
            "This is your only way to sign in. Set a password or link another provider first.",
        )),
    }
}

fn display_name(state: &AppState, name: &str) -> String {
    state
        .oauth
        .get(name)
        .map_or_else(|| name.to_owned(), |p| p.config.display_name.clone())
}

fn flow_context(state_hash: &str) -> String {
    format!("oauth2 flow {state_hash}")
}

fn provider_error(name: &str, e: ProviderError) -> ApiError {
    tracing::info!(provider = name, error = %e, "oauth2 sign-in refused");
    match e {
        ProviderError::Unreachable(_) => ApiError::BadGateway(PROVIDER_DOWN),
        ProviderError::Refused(_) => ApiError::Unauthorized(PROVIDER_REFUSED),
        ProviderError::UnverifiedEmail => ApiError::Forbidden(UNVERIFIED_EMAIL),
    }
}

/// For an account whose provider shared no email: unique, and never deliverable
/// (`.invalid` is reserved). The person sets a real one in their settings.
fn placeholder_email(provider: &str, subject: &str) -> String {
    format!("{provider}.{}@users.invalid", &token::hash(subject)[..16])
}

/// A username from the provider's, made valid, with a number added until it is free.
async fn free_username(
    state: &AppState,
    hint: Option<&str>,
    provider: &str,
) -> Result<String, ApiError> {
    let base = username_base(hint, provider);
    for n in 0..50u32 {
        let candidate = if n == 0 {
            base.clone()
        } else {
            format!("{base}{}", n + 1)
        };
        if !users::taken(state.db.pool(), Some(candidate.as_str()), None, None)
            .await?
            .username
        {
            return Ok(candidate);
        }
    }
    let random = &token::hash(&token::generate())[..8];
    Ok(format!("{base}-{random}"))
}

/// The provider's name for the person, in the characters usernames allow.
pub fn username_base(hint: Option<&str>, provider: &str) -> String {
    let cleaned: String = hint
        .unwrap_or_default()
        .chars()
        .filter_map(|c| match c {
            c if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') => Some(c),
            ' ' => Some('_'),
            _ => None,
        })
        .skip_while(|c| !c.is_ascii_alphanumeric())
        .take(54)
        .collect();
    if Username::parse(&cleaned).is_ok() {
        cleaned
    } else {
        let fallback: String = format!("{provider}_user").chars().take(54).collect();
        fallback
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_come_from_the_providers_name_made_valid() {
        assert_eq!(username_base(Some("octocat"), "github"), "octocat");
        assert_eq!(username_base(Some("Jane Doe"), "google"), "Jane_Doe");
        assert_eq!(username_base(Some("_émile!"), "mock"), "mile");
        assert_eq!(username_base(Some("jo"), "mock"), "mock_user");
        assert_eq!(username_base(Some("12345"), "mock"), "mock_user");
        assert_eq!(username_base(None, "github"), "github_user");
        assert_eq!(username_base(Some(&"a".repeat(100)), "x").len(), 54);
    }

    #[test]
    fn placeholder_emails_are_valid_unique_and_undeliverable() {
        let a = placeholder_email("mock", "johndoe");
        assert!(a.ends_with("@users.invalid"));
        assert_ne!(a, placeholder_email("mock", "janedoe"));
        assert!(crate::domain::Email::parse(&a).is_ok());
    }
}
