//! `GET /api/users`: every user, by offset. (One user, registration and `/me` live in
//! `users.rs`; axum merges the methods of the same path.)

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::{ErrorBody, Page, User};

use crate::auth::AuthUser;
use crate::db::user_lists;
use crate::error::ApiError;
use crate::extract::Query;
use crate::routes::pagination::{PageQuery, Start, page};
use crate::startup::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_users))
}

/// Every user, in order of registration. Pages by `offset` only.
#[utoipa::path(
    get, path = "/users", tag = "users",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of users", body = Page<User>),
        (status = 400, description = "Invalid pagination, or `after` (this list pages by offset)", body = ErrorBody),
        (status = 401, description = "No valid access token", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = user.id()))]
async fn list_users(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<PageQuery>,
) -> Result<axum::Json<Page<User>>, ApiError> {
    let request = query.offset_only()?;
    // `offset_only` has already refused `after`.
    let offset = match request.start {
        Start::Offset(offset) => offset,
        Start::After(()) => 0,
    };
    let (rows, total) = user_lists::all_from_offset(state.db.pool(), request.limit, offset).await?;
    let users = rows.iter().map(|u| u.to_wire(Some(user.id()))).collect();
    Ok(axum::Json(page(users, offset, request.limit, total)?))
}
