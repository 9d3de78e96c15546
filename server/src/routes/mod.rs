//! The API's routes, one module per resource, merged here.

pub mod avatars;
pub mod contract;
pub mod docs;
pub mod follows;
pub mod health;
pub mod jwks;
pub mod oauth;
pub mod pagination;
pub mod posts;
pub mod reset;
pub mod sessions;
pub mod tokens;
pub mod two_factor;
pub mod user_lists;
pub mod users;

use axum::Router;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::startup::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Microblog API",
        description = "The token-authenticated API of the microblog. Access tokens go in \
            `Authorization: Bearer`; the refresh token travels only in an HttpOnly cookie \
            scoped to `/api/tokens`. Compatible with the reference microblog API's clients.",
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "tokens", description = "Log in (with a second factor for 2FA accounts), refresh, log out, reset a password"),
        (name = "two-factor", description = "Two-factor authentication with TOTP: enrolment, recovery codes, turning it off"),
        (name = "sessions", description = "The caller's logged-in devices, and ending them"),
        (name = "users", description = "Accounts and profiles"),
        (name = "posts", description = "Posts, the feed and explore"),
        (name = "follows", description = "Following and followers"),
        (name = "meta", description = "Health and documentation"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
        components.add_security_scheme(
            "refresh_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(tokens::REFRESH_COOKIE))),
        );
    }
}

/// Every API route, with its OpenAPI description, relative to `/api`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(tokens::router())
        .merge(oauth::router())
        .merge(users::router())
        .merge(avatars::router())
        .merge(posts::router())
        .merge(follows::router())
        .merge(user_lists::router())
        .merge(reset::router())
        .merge(two_factor::router())
        .merge(sessions::router())
}

/// JSON answers for unknown paths and methods under `/api`: never HTML from the API.
pub fn with_fallbacks(api: Router<AppState>) -> Router<AppState> {
    api.fallback(|| async { ApiError::NotFound("The requested URL was not found on the server.") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
}
