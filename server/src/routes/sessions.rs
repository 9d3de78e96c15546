//! `/api/me/sessions`: the caller's logged-in devices, and ending them. A revoked session's
//! tokens stop working at once (the access-token check joins the session).

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::{RevokedSessions, SessionInfo, Timestamp};

use crate::auth::AuthUser;
use crate::db::{now_micros, sessions};
use crate::error::ApiError;
use crate::extract::{Client, Path};
use crate::startup::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, revoke_others))
        .routes(routes!(revoke))
}

/// The caller's live sessions, newest first; `current` marks the one making the request.
#[utoipa::path(
    get, path = "/me/sessions", tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<SessionInfo>),
        (status = 401, description = "No valid access token", body = wire::ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<axum::Json<Vec<SessionInfo>>, ApiError> {
    let rows = sessions::live_for_user(state.db.pool(), user.id(), now_micros()).await?;
    let list = rows
        .into_iter()
        .map(|s| SessionInfo {
            id: s.id,
            created_at: Timestamp::from_micros(s.created_at),
            last_used_at: Timestamp::from_micros(s.last_used_at),
            device: describe_device(&s.user_agent),
            client_ip: s.client_ip,
            user_agent: s.user_agent,
            current: s.id == user.session_id,
        })
        .collect();
    Ok(axum::Json(list))
}

/// End one of the caller's sessions (the current one too: that is a logout).
#[utoipa::path(
    delete, path = "/me/sessions/{id}", tag = "sessions",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "A session id from the list")),
    responses(
        (status = 204, description = "Revoked; its tokens no longer work"),
        (status = 401, description = "No valid access token", body = wire::ErrorBody),
        (status = 404, description = "Not a live session of the caller", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip, user_id = user.id()))]
async fn revoke(
    State(state): State<AppState>,
    client: Client,
    user: AuthUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    if !sessions::revoke_for_user(&state.db, id, user.id()).await? {
        return Err(ApiError::NotFound("No such session."));
    }
    tracing::info!(session_id = id, "session revoked by its user");
    Ok(StatusCode::NO_CONTENT)
}

/// End every session of the caller but the current one.
#[utoipa::path(
    delete, path = "/me/sessions", tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "How many sessions were ended", body = RevokedSessions),
        (status = 401, description = "No valid access token", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip, user_id = user.id()))]
async fn revoke_others(
    State(state): State<AppState>,
    client: Client,
    user: AuthUser,
) -> Result<axum::Json<RevokedSessions>, ApiError> {
    let mut tx = state.db.begin().await?;
    let revoked = sessions::revoke_all_for_user(&mut tx, user.id(), Some(user.session_id)).await?;
    tx.commit().await?;
    tracing::info!(revoked, "other sessions revoked by their user");
    Ok(axum::Json(RevokedSessions { revoked }))
}

/// A readable "browser on system" from a user agent, e.g. `Chrome on Linux`. Only the
/// common cases: the raw string is in the list too.
pub fn describe_device(user_agent: &str) -> String {
    let ua = user_agent;
    let has = |s: &str| ua.contains(s);
    let browser = if has("Edg/") || has("EdgA/") || has("EdgiOS/") {
        Some("Edge")
    } else if has("OPR/") || has("Opera") {
        Some("Opera")
    } else if has("SamsungBrowser/") {
        Some("Samsung Internet")
    } else if has("Firefox/") || has("FxiOS/") {
        Some("Firefox")
    } else if has("Chrome/") || has("CriOS/") || has("Chromium/") {
        Some("Chrome")
    } else if has("Safari/") && has("Version/") {
        Some("Safari")
    } else if ua.starts_with("curl/") {
        Some("curl")
    } else {
        None
    };
    let system = if has("Windows") {
        Some("Windows")
    } else if has("iPhone") || has("iPad") || has("iPod") {
        Some("iOS")
    } else if has("Android") {
        Some("Android")
    } else if has("CrOS") {
        Some("ChromeOS")
    } else if has("Mac OS X") || has("Macintosh") {
        Some("macOS")
    } else if has("Linux") || has("X11") {
        Some("Linux")
    } else {
        None
    };
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => format!("Unknown browser on {s}"),
        (None, None) => "Unknown device".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_user_agents_read_as_browser_on_system() {
        for (ua, expected) in [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:131.0) Gecko/20100101 Firefox/131.0",
                "Firefox on macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari on iOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
                "Chrome on ChromeOS",
            ),
            ("curl/8.5.0", "curl"),
            ("", "Unknown device"),
            ("SomeBot/1.0 (Linux)", "Unknown browser on Linux"),
        ] {
            assert_eq!(describe_device(ua), expected, "{ua}");
        }
    }
}
