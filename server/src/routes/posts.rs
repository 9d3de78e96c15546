//! Posts: write, read, edit and delete one; explore, a user's posts and the feed.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::{ErrorBody, Page, Post};

use crate::auth::AuthUser;
use crate::db::now_micros;
use crate::db::posts::{self, PostList, PostRow};
use crate::domain::PostText;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::routes::pagination::{PageQuery, Start, page, page_after};
use crate::startup::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_post, explore))
        .routes(routes!(get_post, edit_post, delete_post))
        .routes(routes!(user_posts))
        .routes(routes!(feed))
}

/// Write a post.
#[utoipa::path(
    post, path = "/posts", tag = "posts",
    security(("bearer" = [])),
    request_body = wire::PostText,
    responses(
        (status = 201, description = "Posted; `Location` is its URL", body = Post),
        (status = 400, description = "Invalid text", body = ErrorBody),
        (status = 401, description = "No valid access token", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = user.id()))]
async fn create_post(
    State(state): State<AppState>,
    user: AuthUser,
    Json(body): Json<wire::PostText>,
) -> Result<impl IntoResponse, ApiError> {
    let text = parse_text(&body.text)?;
    let now = now_micros();
    let mut tx = state.db.begin().await?;
    let id = posts::insert(&mut tx, user.id(), text.as_str(), now).await?;
    tx.commit().await?;
    let post = own_post(user, id, &text, now);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, post.url.clone())],
        axum::Json(post),
    ))
}

/// Explore: everyone's posts, newest first.
#[utoipa::path(
    get, path = "/posts", tag = "posts",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of posts; `after` is a timestamp", body = Page<Post>),
        (status = 400, description = "Invalid pagination", body = ErrorBody),
        (status = 401, description = "No valid access token", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = user.id()))]
async fn explore(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<PageQuery>,
) -> Result<axum::Json<Page<Post>>, ApiError> {
    list(&state, user.id(), PostList::All, query).await
}

/// Read a post.
#[utoipa::path(
    get, path = "/posts/{id}", tag = "posts",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The post's id")),
    responses(
        (status = 200, description = "The post", body = Post),
        (status = 401, description = "No valid access token", body = ErrorBody),
        (status = 404, description = "No such post", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = user.id()))]
async fn get_post(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
) -> Result<axum::Json<Post>, ApiError> {
    let post = posts::by_id(state.db.pool(), id)
        .await?
        .ok_or(NO_SUCH_POST)?;
    Ok(axum::Json(post.to_wire(user.id())))
}

/// Edit one of your posts.
#[utoipa::path(
    put, path = "/posts/{id}", tag = "posts",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The post's id")),
    request_body = wire::PostText,
    responses(
        (status = 200, description = "The edited post", body = Post),
        (status = 400, description = "Invalid text", body = ErrorBody),
        (status = 401, description = "No valid access token", body = ErrorBody),
        (status = 403, description = "Not your post", body = ErrorBody),
        (status = 404, description = "No such post", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = user.id()))]
async fn edit_post(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
    Json(body): Json<wire::PostText>,
) -> Result<axum::Json<Post>, ApiError> {
    let text = parse_text(&body.text)?;
    let mut tx = state.db.begin().await?;
    check_author(&mut tx, id, &user).await?;
    let timestamp = posts::update_text(&mut tx, id, text.as_str())
        .await?
        .ok_or(NO_SUCH_POST)?;
    tx.commit().await?;
    Ok(axum::Json(own_post(user, id, &text, timestamp)))
}

/// Delete one of your posts.
#[utoipa::path(
    delete, path = "/posts/{id}", tag = "posts",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The post's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid access token", body = ErrorBody),
        (status = 403, description = "Not your post", body = ErrorBody),
        (status = 404, description = "No such post", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = user.id()))]
async fn delete_post(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let mut tx = state.db.begin().await?;
    check_author(&mut tx, id, &user).await?;
    posts::delete(&mut tx, id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's posts, newest first.
#[utoipa::path(
    get, path = "/users/{id}/posts", tag = "posts",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user's id"), PageQuery),
    responses(
        (status = 200, description = "A page of posts; `after` is a timestamp", body = Page<Post>),
        (status = 400, description = "Invalid pagination", body = ErrorBody),
        (status = 401, description = "No valid access token", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = user.id()))]
async fn user_posts(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
    Query(query): Query<PageQuery>,
) -> Result<axum::Json<Page<Post>>, ApiError> {
    if !crate::db::users::exists(state.db.pool(), id).await? {
        return Err(ApiError::NotFound("No such user."));
    }
    list(&state, user.id(), PostList::By(id), query).await
}

/// Your feed: your posts and those of the users you follow, newest first.
#[utoipa::path(
    get, path = "/feed", tag = "posts",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of posts; `after` is a timestamp", body = Page<Post>),
        (status = 400, description = "Invalid pagination", body = ErrorBody),
        (status = 401, description = "No valid access token", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = user.id()))]
async fn feed(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<PageQuery>,
) -> Result<axum::Json<Page<Post>>, ApiError> {
    list(&state, user.id(), PostList::Feed(user.id()), query).await
}

const NO_SUCH_POST: ApiError = ApiError::NotFound("No such post.");

fn parse_text(text: &str) -> Result<PostText, ApiError> {
    PostText::parse(text).map_err(|message| ApiError::field("text", message))
}

/// A post the caller just wrote or edited, as they see it: built from what is known,
/// without reading it back.
fn own_post(user: AuthUser, id: i64, text: &PostText, timestamp: i64) -> Post {
    let post = PostRow {
        id,
        text: text.as_str().to_owned(),
        timestamp,
        author: user.user,
    };
    post.to_wire(post.author.id)
}

/// 404 if the post does not exist, 403 if the caller did not write it.
async fn check_author(tx: &mut crate::db::Tx, id: i64, user: &AuthUser) -> Result<(), ApiError> {
    match posts::author_of(tx, id).await? {
        None => Err(NO_SUCH_POST),
        Some(author) if author != user.id() => {
            Err(ApiError::Forbidden("You can only change your own posts."))
        }
        Some(_) => Ok(()),
    }
}

/// One page of a post list, as `viewer_id` sees it.
async fn list(
    state: &AppState,
    viewer_id: i64,
    list: PostList,
    query: PageQuery,
) -> Result<axum::Json<Page<Post>>, ApiError> {
    let request = query.after_timestamp()?;
    let to_wire = |rows: Vec<PostRow>| rows.iter().map(|p| p.to_wire(viewer_id)).collect();
    let page = match request.start {
        Start::Offset(offset) => {
            let (rows, total) =
                posts::page_from_offset(&state.db, list, request.limit, offset).await?;
            page(to_wire(rows), offset, request.limit, total)?
        }
        Start::After(after) => {
            let (rows, offset, total) =
                posts::page_after(&state.db, list, request.limit, after.as_micros()).await?;
            page_after(to_wire(rows), offset, request.limit, total)
        }
    };
    Ok(axum::Json(page))
}
