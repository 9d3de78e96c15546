//! `/api/users` (register, profiles) and `/api/me` (one's own account).

use axum::Json as JsonBody;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::{NewUser, UpdateMe, User};

use crate::auth::{AuthUser, account};
use crate::db::users::{self, UserRow};
use crate::error::ApiError;
use crate::extract::{Client, Json, Path};
use crate::startup::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(get_user))
        .routes(routes!(get_me, update_me))
}

/// Register a new account.
///
/// Needs no login and ignores any `Authorization` header (the reference client sends
/// `Bearer null`). Usernames and emails are unique regardless of case.
#[utoipa::path(
    post, path = "/users", tag = "users",
    request_body = NewUser,
    responses(
        (status = 201, description = "Created; `Location` names the new user", body = User),
        (status = 400, description = "Invalid fields, under `errors.json`; whether a username or email is taken is checked only when every field is valid", body = wire::ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = wire::ErrorBody),
        (status = 415, description = "Not a JSON request", body = wire::ErrorBody),
        (status = 429, description = "Too many registrations from this address (`Retry-After`)", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip))]
async fn register(
    State(state): State<AppState>,
    client: Client,
    Json(body): Json<NewUser>,
) -> Result<impl IntoResponse, ApiError> {
    let user = own(&account::register(&state, &client, &body).await?);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, user.url.clone())],
        JsonBody(user),
    ))
}

/// Get a user by id, or by username (a path segment of digits only is an id).
#[utoipa::path(
    get, path = "/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user's id, or their username")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user; `email` only in one's own record", body = User),
        (status = 401, description = "No valid access token", body = wire::ErrorBody),
        (status = 404, description = "No such user", body = wire::ErrorBody),
    )
)]
async fn get_user(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id_or_name): Path<String>,
) -> Result<JsonBody<User>, ApiError> {
    let found = if id_or_name.bytes().all(|b| b.is_ascii_digit()) {
        match id_or_name.parse() {
            Ok(id) => users::by_id(state.db.pool(), id).await?,
            Err(_) => None, // more digits than any id has
        }
    } else {
        users::by_username(state.db.pool(), &id_or_name).await?
    };
    let user = found.ok_or(ApiError::NotFound("No such user."))?;
    Ok(JsonBody(user.to_wire(Some(me.id()))))
}

/// Get my own account, with my email.
#[utoipa::path(
    get, path = "/me", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's own record", body = User),
        (status = 401, description = "No valid access token", body = wire::ErrorBody),
    )
)]
async fn get_me(me: AuthUser) -> JsonBody<User> {
    JsonBody(own(&me.user))
}

/// Update my account; a new `password` or a different `email` needs the current password
/// in `old_password`.
///
/// Every field is optional. All changes are made together or not at all; a new password
/// logs out every other session of the account, and a new email is announced to the old
/// address, whose outstanding reset links die.
#[utoipa::path(
    put, path = "/me", tag = "users",
    request_body = UpdateMe,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated record", body = User),
        (status = 400, description = "Invalid or taken fields, or a missing or wrong `old_password`", body = wire::ErrorBody),
        (status = 401, description = "No valid access token", body = wire::ErrorBody),
        (status = 429, description = "Too many wrong current passwords in this session (`Retry-After`)", body = wire::ErrorBody),
        (status = 503, description = "Too many passwords being checked right now (`Retry-After`)", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = me.id(), ip = %client.ip))]
async fn update_me(
    State(state): State<AppState>,
    client: Client,
    me: AuthUser,
    Json(body): Json<UpdateMe>,
) -> Result<JsonBody<User>, ApiError> {
    let user = account::update(&state, &me, &body).await?;
    Ok(JsonBody(own(&user)))
}

/// A user's record as they see it themselves: with the email.
fn own(user: &UserRow) -> User {
    user.to_wire(Some(user.id))
}
