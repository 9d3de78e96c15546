//! Signing in with a provider (`/api/tokens/oauth2…`, as the reference API names them),
//! and the caller's linked providers (`/api/me/oauth2…`). The steps live in
//! [`crate::auth::oauth`].

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::{LinkRequest, LinkedProvider, OAuth2Code, OAuth2Provider, OAuth2Redirect};

use crate::auth::AuthUser;
use crate::auth::oauth::{self, FLOW_COOKIE, FLOW_TTL, Finished};
use crate::error::ApiError;
use crate::extract::{Client, Json, Path, cookie};
use crate::routes::tokens::{REFRESH_COOKIE_PATH, token_response};
use crate::startup::AppState;
use crate::web::check_csrf;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(providers))
        .routes(routes!(authorize, finish))
        .routes(routes!(linked))
        .routes(routes!(start_link))
        .routes(routes!(unlink))
}

/// The providers people can sign in with, for the SPA's "Continue with …" buttons.
#[utoipa::path(
    get, path = "/tokens/oauth2", tag = "tokens",
    responses((status = 200, body = Vec<OAuth2Provider>))
)]
async fn providers(State(state): State<AppState>) -> axum::Json<Vec<OAuth2Provider>> {
    axum::Json(
        state
            .oauth
            .all()
            .map(|p| OAuth2Provider {
                name: p.config.name.clone(),
                display_name: p.config.display_name.clone(),
            })
            .collect(),
    )
}

/// Start signing in with a provider: a redirect to its authorization page.
///
/// Open it as a top-level navigation. The flow's `state` is bound to this browser by a
/// short-lived HttpOnly cookie; the provider sends the browser back to
/// `/oauth2/{provider}/callback` with `code` and `state`, for `POST` here.
#[utoipa::path(
    get, path = "/tokens/oauth2/{provider}", tag = "tokens",
    params(("provider" = String, Path, description = "A name from `GET /api/tokens/oauth2`")),
    responses(
        (status = 302, description = "To the provider (`Location`), with the flow cookie set"),
        (status = 404, description = "Unknown provider", body = wire::ErrorBody),
        (status = 502, description = "The provider could not be reached", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip))]
async fn authorize(
    State(state): State<AppState>,
    client: Client,
    Path(provider): Path<String>,
) -> Result<Response, ApiError> {
    let started = oauth::start(&state, &provider, None).await?;
    let location = HeaderValue::from_str(&started.url).map_err(|e| ApiError::Internal(e.into()))?;
    let mut response = StatusCode::FOUND.into_response();
    response.headers_mut().insert(header::LOCATION, location);
    Ok(with_flow(&state, &started.state_hash, response))
}

/// Finish signing in (or linking) with the `code` and `state` the provider sent back.
///
/// The flow cookie must come with it, and each `state` works once. Answers like a login;
/// a flow started from the settings links the provider instead (201). The flow cookie is
/// cleared whatever the outcome.
#[utoipa::path(
    post, path = "/tokens/oauth2/{provider}", tag = "tokens",
    params(("provider" = String, Path, description = "The provider the flow was started with")),
    request_body = OAuth2Code,
    responses(
        (status = 200, description = "Signed in; the refresh token is in the cookie. A first sign-in creates the account", body = wire::Token),
        (status = 201, description = "The provider was linked to the account that started the flow from its settings", body = LinkedProvider),
        (status = 202, description = "The account has 2FA: answer the challenge at `POST /api/tokens/2fa`", body = wire::TwoFactorChallenge),
        (status = 400, description = "The body is not `{code, state}`", body = wire::ErrorBody),
        (status = 401, description = "Wrong, replayed or expired `state`, no flow cookie, or the provider's answer failed a check (code, PKCE, ID token)", body = wire::ErrorBody),
        (status = 403, description = "Cross-site request, or the provider gave an email it has not verified", body = wire::ErrorBody),
        (status = 404, description = "Unknown provider", body = wire::ErrorBody),
        (status = 409, description = "The email belongs to an account already (log in and link the provider), or the provider account is linked elsewhere", body = wire::ErrorBody),
        (status = 429, description = "Too many sign-ups or 2FA challenges from here (`Retry-After`)", body = wire::ErrorBody),
        (status = 502, description = "The provider could not be reached", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip))]
async fn finish(
    State(state): State<AppState>,
    client: Client,
    Path(provider): Path<String>,
    headers: HeaderMap,
    Json(body): Json<OAuth2Code>,
) -> Response {
    let outcome = async {
        check_csrf(&headers, &state.config)?;
        let flow_cookie = cookie(&headers, FLOW_COOKIE);
        let finished = oauth::finish(
            &state,
            &client,
            &provider,
            &body.code,
            &body.state,
            flow_cookie.as_deref(),
        )
        .await?;
        match finished {
            Finished::Tokens(issued) => token_response(&state, issued),
            Finished::Challenge(challenge) => {
                Ok((StatusCode::ACCEPTED, axum::Json(challenge)).into_response())
            }
            Finished::Linked(linked) => {
                Ok((StatusCode::CREATED, axum::Json(linked)).into_response())
            }
        }
    }
    .await;
    let mut response = outcome.unwrap_or_else(IntoResponse::into_response);
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_flow_cookie(&state));
    response
}

/// The providers linked to the caller's account.
#[utoipa::path(
    get, path = "/me/oauth2", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<LinkedProvider>),
        (status = 401, description = "No valid access token", body = wire::ErrorBody),
    )
)]
async fn linked(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<axum::Json<Vec<LinkedProvider>>, ApiError> {
    oauth::linked(&state, &me).await.map(axum::Json)
}

/// Start linking a provider to the caller's account: where to send the browser.
///
/// Under `/api/tokens` because it sets the flow cookie scoped there (and so is sent with
/// the credentials of the token endpoints).
/// Needs the password of an account that has one; an account without one needs a
/// sign-in in the last ten minutes. Sets the flow cookie; the provider sends the browser
/// back to the callback page, which finishes with `POST /api/tokens/oauth2/{provider}`.
#[utoipa::path(
    post, path = "/tokens/oauth2/{provider}/link", tag = "users",
    security(("bearer" = [])),
    params(("provider" = String, Path, description = "A name from `GET /api/tokens/oauth2`")),
    request_body = LinkRequest,
    responses(
        (status = 200, description = "Navigate to `url`; the flow cookie is set", body = OAuth2Redirect),
        (status = 400, description = "Missing or wrong password (`errors.json.password`)", body = wire::ErrorBody),
        (status = 401, description = "No valid access token", body = wire::ErrorBody),
        (status = 403, description = "An account without a password whose sign-in is not recent", body = wire::ErrorBody),
        (status = 404, description = "Unknown provider", body = wire::ErrorBody),
        (status = 429, description = "Too many wrong passwords in this session (`Retry-After`)", body = wire::ErrorBody),
        (status = 502, description = "The provider could not be reached", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip, user_id = me.id()))]
async fn start_link(
    State(state): State<AppState>,
    client: Client,
    me: AuthUser,
    Path(provider): Path<String>,
    Json(body): Json<LinkRequest>,
) -> Result<Response, ApiError> {
    if state.oauth.get(&provider).is_none() {
        return Err(ApiError::NotFound("Unknown OAuth2 provider."));
    }
    oauth::may_link(&state, &me, body.password.as_deref()).await?;
    let started = oauth::start(&state, &provider, Some(&me)).await?;
    let response = axum::Json(OAuth2Redirect { url: started.url }).into_response();
    Ok(with_flow(&state, &started.state_hash, response))
}

/// A started flow's answer: never cached, and carrying the flow cookie.
fn with_flow(state: &AppState, state_hash: &str, mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.append(header::SET_COOKIE, flow_cookie(state, state_hash));
    response
}

/// Unlink a provider. Refused when it is the account's only way to sign in.
#[utoipa::path(
    delete, path = "/me/oauth2/{provider}", tag = "users",
    security(("bearer" = [])),
    params(("provider" = String, Path)),
    responses(
        (status = 204, description = "Unlinked"),
        (status = 401, description = "No valid access token", body = wire::ErrorBody),
        (status = 404, description = "Not linked to this account", body = wire::ErrorBody),
        (status = 409, description = "The account has no password and no other provider", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip, user_id = me.id()))]
async fn unlink(
    State(state): State<AppState>,
    client: Client,
    me: AuthUser,
    Path(provider): Path<String>,
) -> Result<StatusCode, ApiError> {
    oauth::unlink(&state, &me, &provider).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn flow_cookie(state: &AppState, state_hash: &str) -> HeaderValue {
    let cookie = format!(
        "{FLOW_COOKIE}={state_hash}; HttpOnly; Secure; SameSite={}; Path={REFRESH_COOKIE_PATH}; Max-Age={}",
        state.config.refresh_cookie_same_site.as_str(),
        FLOW_TTL.as_secs(),
    );
    HeaderValue::from_str(&cookie).expect("cookie text is ASCII")
}

fn clear_flow_cookie(state: &AppState) -> HeaderValue {
    let cookie = format!(
        "{FLOW_COOKIE}=; HttpOnly; Secure; SameSite={}; Path={REFRESH_COOKIE_PATH}; Max-Age=0",
        state.config.refresh_cookie_same_site.as_str(),
    );
    HeaderValue::from_str(&cookie).expect("cookie text is ASCII")
}
