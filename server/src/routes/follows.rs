//! Follows: follow and unfollow, and the following and follower lists by username.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::{ErrorBody, Page, User};

use crate::auth::AuthUser;
use crate::db::follows;
use crate::db::is_unique_violation;
use crate::db::user_lists::{self, Follows};
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::routes::pagination::{PageQuery, Start, page, page_after};
use crate::startup::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_following))
        .routes(routes!(my_followers))
        .routes(routes!(is_followed, follow, unfollow))
        .routes(routes!(user_following))
        .routes(routes!(user_followers))
}

/// The users you follow, by username.
#[utoipa::path(
    get, path = "/me/following", tag = "follows",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of users; `after` is a username", body = Page<User>),
        (status = 400, description = "Invalid pagination", body = ErrorBody),
        (status = 401, description = "No valid access token", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = user.id()))]
async fn my_following(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<PageQuery>,
) -> Result<axum::Json<Page<User>>, ApiError> {
    list(&state, user.id(), Follows::Following(user.id()), query).await
}

/// The users who follow you, by username.
#[utoipa::path(
    get, path = "/me/followers", tag = "follows",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of users; `after` is a username", body = Page<User>),
        (status = 400, description = "Invalid pagination", body = ErrorBody),
        (status = 401, description = "No valid access token", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = user.id()))]
async fn my_followers(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<PageQuery>,
) -> Result<axum::Json<Page<User>>, ApiError> {
    list(&state, user.id(), Follows::Followers(user.id()), query).await
}

/// Whether you follow a user: 204 if you do, 404 if not.
#[utoipa::path(
    get, path = "/me/following/{id}", tag = "follows",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The other user's id")),
    responses(
        (status = 204, description = "You follow this user"),
        (status = 401, description = "No valid access token", body = ErrorBody),
        (status = 404, description = "You do not follow this user, or there is no such user", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = user.id()))]
async fn is_followed(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    if follows::exists(state.db.pool(), user.id(), id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("You are not following this user."))
    }
}

/// Follow a user.
#[utoipa::path(
    post, path = "/me/following/{id}", tag = "follows",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user to follow")),
    responses(
        (status = 204, description = "You now follow this user"),
        (status = 400, description = "You cannot follow yourself", body = ErrorBody),
        (status = 401, description = "No valid access token", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "You already follow this user", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = user.id(), followed_id = id))]
async fn follow(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    if id == user.id() {
        return Err(ApiError::BadRequest("You cannot follow yourself.".into()));
    }
    let mut tx = state.db.begin().await?;
    if !crate::db::users::exists(&mut *tx, id).await? {
        return Err(NO_SUCH_USER);
    }
    if follows::exists(&mut *tx, user.id(), id).await? {
        return Err(ALREADY_FOLLOWED);
    }
    // Two racing follows on PostgreSQL both pass the check; the primary key stops one.
    follows::insert(&mut tx, user.id(), id).await.map_err(|e| {
        if is_unique_violation(&e) {
            ALREADY_FOLLOWED
        } else {
            e.into()
        }
    })?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stop following a user.
#[utoipa::path(
    delete, path = "/me/following/{id}", tag = "follows",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user to unfollow")),
    responses(
        (status = 204, description = "You no longer follow this user"),
        (status = 401, description = "No valid access token", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "You were not following this user", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = user.id(), followed_id = id))]
async fn unfollow(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let mut tx = state.db.begin().await?;
    if !crate::db::users::exists(&mut *tx, id).await? {
        return Err(NO_SUCH_USER);
    }
    if !follows::delete(&mut tx, user.id(), id).await? {
        return Err(ApiError::Conflict("You are not following this user."));
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The users a user follows, by username.
#[utoipa::path(
    get, path = "/users/{id}/following", tag = "follows",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user's id"), PageQuery),
    responses(
        (status = 200, description = "A page of users; `after` is a username", body = Page<User>),
        (status = 400, description = "Invalid pagination", body = ErrorBody),
        (status = 401, description = "No valid access token", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = user.id()))]
async fn user_following(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
    Query(query): Query<PageQuery>,
) -> Result<axum::Json<Page<User>>, ApiError> {
    existing_user(&state, id).await?;
    list(&state, user.id(), Follows::Following(id), query).await
}

/// The users who follow a user, by username.
#[utoipa::path(
    get, path = "/users/{id}/followers", tag = "follows",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user's id"), PageQuery),
    responses(
        (status = 200, description = "A page of users; `after` is a username", body = Page<User>),
        (status = 400, description = "Invalid pagination", body = ErrorBody),
        (status = 401, description = "No valid access token", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = user.id()))]
async fn user_followers(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
    Query(query): Query<PageQuery>,
) -> Result<axum::Json<Page<User>>, ApiError> {
    existing_user(&state, id).await?;
    list(&state, user.id(), Follows::Followers(id), query).await
}

const NO_SUCH_USER: ApiError = ApiError::NotFound("No such user.");
const ALREADY_FOLLOWED: ApiError = ApiError::Conflict("You are already following this user.");

async fn existing_user(state: &AppState, id: i64) -> Result<(), ApiError> {
    if crate::db::users::exists(state.db.pool(), id).await? {
        Ok(())
    } else {
        Err(NO_SUCH_USER)
    }
}

/// One page of a following or follower list, as `viewer_id` sees it.
async fn list(
    state: &AppState,
    viewer_id: i64,
    list: Follows,
    query: PageQuery,
) -> Result<axum::Json<Page<User>>, ApiError> {
    let request = query.after_username()?;
    let to_wire = |rows: Vec<_>| {
        rows.iter()
            .map(|u: &crate::db::users::UserRow| u.to_wire(Some(viewer_id)))
            .collect()
    };
    let page = match request.start {
        Start::Offset(offset) => {
            let (rows, total) =
                user_lists::follows_from_offset(&state.db, list, request.limit, offset).await?;
            page(to_wire(rows), offset, request.limit, total)?
        }
        Start::After(after) => {
            let (rows, offset, total) =
                user_lists::follows_after(&state.db, list, request.limit, &after).await?;
            page_after(to_wire(rows), offset, request.limit, total)
        }
    };
    Ok(axum::Json(page))
}
