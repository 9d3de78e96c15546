//! Two-factor settings: enrolment, turning it off, new recovery codes; and the check of a
//! second factor that the settings and the login step share.
//!
//! Every change needs the password again, and turning 2FA off or replacing the recovery
//! codes also a current code (see [`crate::auth::reauth`]). Every change ends the
//! account's other sessions, the current one staying: whoever else held a session, a thief
//! included, must not outlive a change of the account's protection. Changes are logged
//! (user id and address, never a code or the secret) and the owner is told by email.

use anyhow::Context;
use wire::{RecoveryCodes, TwoFactorSetup, TwoFactorStatus};

use crate::auth::{AuthUser, reauth, token, totp};
use crate::db::{Tx, now_micros, sessions, two_factor, users};
use crate::error::ApiError;
use crate::mail;
use crate::secrets::totp_context;
use crate::startup::AppState;
use crate::throttle::Reservation;

/// Recovery codes handed out at a time.
pub const RECOVERY_CODES: usize = 10;

const WRONG_CODE: &str = "The code is incorrect.";
const REPLAYED_CODE: &str =
    "This code was already used. Wait for the next code from your authenticator app.";
const WRONG_RECOVERY_CODE: &str = "The recovery code is incorrect or was already used.";
pub const MALFORMED_CODE: &str = "Enter the 6-digit code from your authenticator app.";
const ALREADY_ON: &str =
    "Two-factor authentication is already on. Turn it off first to set it up again.";
const NOT_ON: &str = "Two-factor authentication is not on.";
const NO_ENROLMENT: &str = "No two-factor setup is in progress. Start it again.";
const NO_PASSWORD: &str = "This account has no password yet. Set one first (\"Forgot password\" \
     sends a link), then turn on two-factor authentication.";

/// What the user typed as a second factor.
pub enum Proof<'a> {
    Totp(&'a str),
    Recovery(&'a str),
}

impl<'a> Proof<'a> {
    /// Six digits are a TOTP code; anything else is tried as a recovery code.
    pub fn typed(code: &'a str) -> Self {
        if totp::normalize_code(code).is_some() {
            Self::Totp(code)
        } else {
            Self::Recovery(code)
        }
    }
}

pub enum Verdict {
    Accepted,
    Wrong,
    Replayed,
}

impl Verdict {
    pub fn message(&self, proof: &Proof<'_>) -> &'static str {
        match (self, proof) {
            (Self::Replayed, _) => REPLAYED_CODE,
            (_, Proof::Recovery(_)) => WRONG_RECOVERY_CODE,
            _ => WRONG_CODE,
        }
    }

    pub fn log_text(&self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Wrong => "wrong code",
            Self::Replayed => "replayed code",
        }
    }
}

/// Checks a second factor, using it up in `tx`: a TOTP step becomes the last accepted one,
/// a recovery code is deleted. Nothing is used up unless the transaction commits.
pub async fn verify(
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

/// Whether 2FA is on, and how many recovery codes are left.
pub async fn status(state: &AppState, me: &AuthUser) -> Result<TwoFactorStatus, ApiError> {
    let enabled = two_factor::is_enabled(state.db.pool(), me.id()).await?;
    let recovery_codes_left = if enabled {
        two_factor::recovery_codes_left(state.db.pool(), me.id()).await?
    } else {
        0
    };
    Ok(TwoFactorStatus {
        enabled,
        recovery_codes_left,
    })
}

/// Starts (or restarts) enrolment: a pending secret, on only once a code confirms it.
pub async fn start_enrolment(
    state: &AppState,
    me: &AuthUser,
    password: &str,
) -> Result<TwoFactorSetup, ApiError> {
    check_password(state, me, password).await?;
    let secret = totp::generate_secret();
    let mut tx = state.db.begin().await?;
    let sealed = state.sealer.seal(secret.as_bytes(), &totp_context(me.id()));
    if !two_factor::start_enrolment(&mut tx, me.id(), &sealed, now_micros()).await? {
        return Err(ApiError::Conflict(ALREADY_ON));
    }
    tx.commit().await?;
    tracing::info!("2fa enrolment started");
    let otpauth_uri = totp::otpauth_uri(&state.config.totp_issuer, &me.user.username, &secret);
    Ok(TwoFactorSetup {
        secret,
        otpauth_uri,
    })
}

/// Confirms enrolment with a current code: 2FA is on, and the recovery codes come back.
pub async fn confirm_enrolment(
    state: &AppState,
    me: &AuthUser,
    code: &str,
) -> Result<RecoveryCodes, ApiError> {
    let secret = match two_factor::totp(state.db.pool(), me.id()).await? {
        None => return Err(ApiError::Conflict(NO_ENROLMENT)),
        Some(t) if t.enabled => return Err(ApiError::Conflict(ALREADY_ON)),
        Some(t) => open_secret(state, me.id(), &t.secret)?,
    };
    if totp::normalize_code(code).is_none() {
        return Err(ApiError::field("code", MALFORMED_CODE));
    }
    let (mut tx, attempt) = begin_with_code(state, me, &secret, Proof::Totp(code)).await?;
    if !two_factor::enable(&mut tx, me.id(), now_micros()).await? {
        return Err(ApiError::Conflict(NO_ENROLMENT));
    }
    let codes = replace_recovery_codes(&mut tx, me.id()).await?;
    let revoked = sessions::revoke_all_for_user(&mut tx, me.id(), Some(me.session_id)).await?;
    tx.commit().await?;
    attempt.refund().await;
    tracing::info!(revoked_sessions = revoked, "2fa enabled");
    notify(
        state,
        me,
        "Two-factor authentication is on",
        "Two-factor authentication was turned on for your Microblog account, and every other \
         device was signed out. Signing in now needs a code from your authenticator app, or \
         one of your recovery codes.",
    );
    Ok(RecoveryCodes {
        recovery_codes: codes,
    })
}

/// Turns 2FA off, with the password and a current code (or a recovery code).
pub async fn disable(
    state: &AppState,
    me: &AuthUser,
    password: &str,
    code: &str,
) -> Result<(), ApiError> {
    let secret = enabled_secret(state, me).await?;
    check_password(state, me, password).await?;
    let (mut tx, attempt) = begin_with_code(state, me, &secret, Proof::typed(code)).await?;
    two_factor::disable(&mut tx, me.id()).await?;
    let revoked = sessions::revoke_all_for_user(&mut tx, me.id(), Some(me.session_id)).await?;
    tx.commit().await?;
    attempt.refund().await;
    tracing::info!(revoked_sessions = revoked, "2fa disabled");
    notify(
        state,
        me,
        "Two-factor authentication is off",
        "Two-factor authentication was turned off for your Microblog account, and every other \
         device was signed out. Signing in now needs only your password.",
    );
    Ok(())
}

/// Replaces the recovery codes, with the password and a current code; the old codes die.
pub async fn regenerate_recovery_codes(
    state: &AppState,
    me: &AuthUser,
    password: &str,
    code: &str,
) -> Result<RecoveryCodes, ApiError> {
    let secret = enabled_secret(state, me).await?;
    check_password(state, me, password).await?;
    let (mut tx, attempt) = begin_with_code(state, me, &secret, Proof::typed(code)).await?;
    let codes = replace_recovery_codes(&mut tx, me.id()).await?;
    let revoked = sessions::revoke_all_for_user(&mut tx, me.id(), Some(me.session_id)).await?;
    tx.commit().await?;
    attempt.refund().await;
    tracing::info!(revoked_sessions = revoked, "2fa recovery codes replaced");
    notify(
        state,
        me,
        "New recovery codes",
        "New recovery codes were made for your Microblog account; the old ones no longer \
         work, and every other device was signed out.",
    );
    Ok(RecoveryCodes {
        recovery_codes: codes,
    })
}

/// A second factor for a settings change: a failure is a field error on `code`, counted
/// with the session's other re-authentication failures. On success, the write transaction
/// the code is used up in, and the attempt to refund once it commits (reserved before the
/// transaction begins: SQLite has one writer, and the throttle writes too).
async fn begin_with_code<'a>(
    state: &'a AppState,
    me: &AuthUser,
    secret: &str,
    proof: Proof<'_>,
) -> Result<(Tx, Reservation<'a>), ApiError> {
    let attempt = state.throttle.reserve_reauth(me.session_id).await?;
    let mut tx = state.db.begin().await?;
    match verify(&mut tx, me.id(), secret, &proof).await? {
        Verdict::Accepted => Ok((tx, attempt)),
        failure => {
            tracing::info!("2fa change refused: {}", failure.log_text());
            Err(ApiError::field("code", failure.message(&proof)))
        }
    }
}

/// The password again, for a 2FA change.
async fn check_password(state: &AppState, me: &AuthUser, password: &str) -> Result<(), ApiError> {
    if users::password_hash(state.db.pool(), me.id())
        .await?
        .is_none()
    {
        return Err(ApiError::BadRequest(NO_PASSWORD.into()));
    }
    if reauth::password(state, me, password).await? {
        return Ok(());
    }
    tracing::info!("2fa change refused: wrong password");
    Err(ApiError::field("password", "Incorrect password."))
}

async fn enabled_secret(state: &AppState, me: &AuthUser) -> Result<String, ApiError> {
    match two_factor::totp(state.db.pool(), me.id()).await? {
        Some(t) if t.enabled => open_secret(state, me.id(), &t.secret),
        _ => Err(ApiError::Conflict(NOT_ON)),
    }
}

/// A stored TOTP secret, opened (base32).
pub fn open_secret(state: &AppState, user_id: i64, sealed: &str) -> Result<String, ApiError> {
    let plain = state
        .sealer
        .open(sealed, &totp_context(user_id))
        .context("a TOTP secret does not open")?;
    Ok(String::from_utf8(plain).context("a TOTP secret is not UTF-8")?)
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

fn notify(state: &AppState, me: &AuthUser, subject: &str, text: &str) {
    state.mailer.send(mail::Email {
        to: me.user.email.clone(),
        subject: subject.to_owned(),
        body: format!(
            "Hello {},\n\n{text}\n\nIf this was not you, change your password at once.\n",
            me.user.username
        ),
        kind: "two-factor change",
    });
}
