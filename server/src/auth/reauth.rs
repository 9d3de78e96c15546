//! Re-authentication: a logged-in user proves again who they are before changing what
//! protects the account (the email that receives reset links, the password, 2FA).
//!
//! An access token alone is not enough for those: it may have been stolen (XSS, a shared
//! computer), and it must not buy the account. Wrong answers count per session in their
//! own limiter, so a stolen token gets a few guesses and the owner's sessions none fewer.

use crate::auth::{AuthUser, verify_reserved};
use crate::db::users;
use crate::error::ApiError;
use crate::startup::AppState;

/// Whether `password` is the caller's current password. An account without a password
/// never matches. Throttled: past the limit, a 429 before any check.
pub async fn password(state: &AppState, me: &AuthUser, password: &str) -> Result<bool, ApiError> {
    let attempt = state.throttle.reserve_reauth(me.session_id).await?;
    let stored = users::password_hash(state.db.pool(), me.id()).await?;
    let right = verify_reserved(state, attempt, password, stored.as_deref()).await?;
    if !right {
        tracing::info!(
            user_id = me.id(),
            "re-authentication failed: wrong current password"
        );
    }
    Ok(right)
}
