//! Refreshing a session: the rotation policy for refresh tokens.
//!
//! Each refresh rotates the token. The immediate predecessor, presented again within a
//! short grace, gets the current token back instead of a new one, so that requests that
//! raced one rotation (two tabs, a retry) end on one lineage with nobody logged out.
//! Anything older, or the predecessor after the grace, means the token was copied:
//! the whole session is revoked, and the event is logged.
//!
//! [`decide`] is that policy as a pure function; [`crate::db::sessions::refresh`]
//! carries out its verdict in one transaction.

use crate::db::sessions::{self, AccessSent, Issued, Origin, Refresh};
use crate::error::ApiError;
use crate::extract::Client;
use crate::startup::AppState;

/// What the session looked like when a refresh token of it was presented.
#[derive(Clone, Copy, Debug)]
pub struct Presented {
    /// The generation of the presented token.
    pub generation: i64,
    /// The session's current generation.
    pub current: i64,
    /// When the session last rotated, if ever.
    pub rotated_at: Option<i64>,
    pub revoked: bool,
    pub expires_at: i64,
}

/// The verdict on a presented refresh token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// The current token: issue the next one.
    Rotate,
    /// The immediate predecessor within the grace: hand back the current token.
    RaceWithinGrace,
    /// A rotated-away token: revoke the session.
    Reuse,
    /// A revoked or expired session: refuse, change nothing.
    Dead,
}

/// The rotation policy, at time `now` with a grace of `grace` (both in microseconds).
pub fn decide(p: Presented, now: i64, grace: i64) -> Rotation {
    if p.revoked || p.expires_at <= now {
        return Rotation::Dead;
    }
    if p.generation == p.current {
        return Rotation::Rotate;
    }
    let within_grace = p.rotated_at.is_some_and(|t| now - t <= grace);
    if p.generation == p.current - 1 && within_grace {
        Rotation::RaceWithinGrace
    } else {
        Rotation::Reuse
    }
}

/// The outcome of a refresh, as the handler answers it.
pub enum Refreshed {
    Issued(Issued),
    /// No usable token: the handler clears the cookie, with this description.
    Refused(&'static str),
}

/// Presents a refresh token (and the access token that came with it, if any).
pub async fn refresh(
    state: &AppState,
    client: &Client,
    refresh_token: &str,
    access_token: Option<&str>,
) -> Result<Refreshed, ApiError> {
    let origin = Origin {
        ip: &client.ip,
        user_agent: &client.user_agent,
    };
    // The reference client sends its (expired) access token along: it must be one we
    // signed, and name the refresh token's session.
    // Refused only after the refresh token was judged: replaying a rotated-away refresh
    // token must not dodge the revocation by sending a wrong access token.
    let access = match access_token {
        None => AccessSent::Nothing,
        Some(token) => match state
            .keys
            .verify(token, true, &state.db, &state.sealer)
            .await
        {
            Ok(claims) => AccessSent::OfSession(claims.sid),
            Err(_) => AccessSent::NotOurs,
        },
    };
    let outcome =
        sessions::refresh(&state.db, refresh_token, access, &origin, state.lifetimes()).await?;
    Ok(match outcome {
        Refresh::Issued(issued) => {
            tracing::info!(
                user_id = issued.user_id,
                session_id = issued.session_id,
                "refresh"
            );
            Refreshed::Issued(issued)
        }
        Refresh::ReuseDetected {
            session_id,
            user_id,
        } => {
            tracing::warn!(
                user_id,
                session_id,
                "refresh token reuse detected: session revoked"
            );
            Refreshed::Refused("The refresh token is no longer valid.")
        }
        Refresh::Invalid => {
            tracing::info!("refresh failed: unknown, expired or revoked token");
            Refreshed::Refused("The refresh token is invalid or has expired.")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: i64 = 10_000_000;
    const NOW: i64 = 1_000_000_000_000;

    fn session(generation: i64, current: i64, rotated_ago: Option<i64>) -> Presented {
        Presented {
            generation,
            current,
            rotated_at: rotated_ago.map(|ago| NOW - ago),
            revoked: false,
            expires_at: NOW + 1,
        }
    }

    #[test]
    fn the_current_token_rotates() {
        assert_eq!(
            decide(session(3, 3, Some(GRACE * 9)), NOW, GRACE),
            Rotation::Rotate
        );
        assert_eq!(decide(session(0, 0, None), NOW, GRACE), Rotation::Rotate);
    }

    #[test]
    fn the_predecessor_within_the_grace_raced_a_rotation() {
        assert_eq!(
            decide(session(2, 3, Some(GRACE)), NOW, GRACE),
            Rotation::RaceWithinGrace
        );
    }

    #[test]
    fn the_predecessor_after_the_grace_is_reuse() {
        assert_eq!(
            decide(session(2, 3, Some(GRACE + 1)), NOW, GRACE),
            Rotation::Reuse
        );
    }

    #[test]
    fn older_tokens_are_reuse_even_within_the_grace() {
        assert_eq!(decide(session(1, 3, Some(0)), NOW, GRACE), Rotation::Reuse);
    }

    #[test]
    fn revoked_or_expired_sessions_are_dead_whatever_the_token() {
        let revoked = Presented {
            revoked: true,
            ..session(3, 3, None)
        };
        assert_eq!(decide(revoked, NOW, GRACE), Rotation::Dead);
        let expired = Presented {
            expires_at: NOW,
            ..session(1, 3, None)
        };
        assert_eq!(decide(expired, NOW, GRACE), Rotation::Dead);
    }
}
