//! `/api/users` (register, profiles) and `/api/me` (one's own account).

use axum::Json as JsonBody;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::{NewUser, UpdateMe, User};

use crate::auth::AuthUser;
use crate::db::sessions;
use crate::db::users::{self, Changes, NewUserRow, UserRow};
use crate::domain::{AboutMe, Email, NewPassword, Username};
use crate::error::{ApiError, Validation};
use crate::extract::{Client, Json, Path};
use crate::startup::AppState;

const USERNAME_TAKEN: &str = "Use a different username.";
const EMAIL_TAKEN: &str = "Use a different email.";

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
        (status = 400, description = "Invalid or taken fields, under `errors.json`", body = wire::ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = wire::ErrorBody),
        (status = 415, description = "Not a JSON request", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(ip = %client.ip))]
async fn register(
    State(state): State<AppState>,
    client: Client,
    Json(body): Json<NewUser>,
) -> Result<impl IntoResponse, ApiError> {
    let new = ValidNewUser::parse(&state, &body).await?;
    let password_hash = state.hasher.hash(new.password.expose()).await?;
    let user = users::create(&state.db, &new.row(&password_hash))
        .await
        .map_err(taken_field)?;
    tracing::info!(user_id = user.id, "registered");
    let user = own(&user);
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

/// Update my account; a new `password` needs the current one in `old_password`.
///
/// Every field is optional. All changes are made together or not at all; a new password
/// logs out every other session of the account.
#[utoipa::path(
    put, path = "/me", tag = "users",
    request_body = UpdateMe,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated record", body = User),
        (status = 400, description = "Invalid or taken fields, or a wrong `old_password`", body = wire::ErrorBody),
        (status = 401, description = "No valid access token", body = wire::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = me.id(), ip = %client.ip))]
async fn update_me(
    State(state): State<AppState>,
    client: Client,
    me: AuthUser,
    Json(body): Json<UpdateMe>,
) -> Result<JsonBody<User>, ApiError> {
    let update = ValidUpdate::parse(&state, &client, &me, &body).await?;
    let password_hash = match &update.password {
        Some(p) => Some(state.hasher.hash(p.expose()).await?),
        None => None,
    };
    let mut tx = state.db.begin().await?;
    let changes = update.changes(password_hash.as_deref());
    let user = users::update(&mut tx, me.id(), &changes)
        .await
        .map_err(taken_field)?;
    // Auth rule 16: a new password logs out whoever else holds a session of the account.
    let revoked = match password_hash {
        Some(_) => {
            Some(sessions::revoke_all_for_user(&mut tx, me.id(), Some(me.session_id)).await?)
        }
        None => None,
    };
    tx.commit().await?;
    if let Some(revoked) = revoked {
        tracing::info!(revoked_sessions = revoked, "password changed");
    }
    Ok(JsonBody(own(&user)))
}

/// A user's record as they see it themselves: with the email.
fn own(user: &UserRow) -> User {
    user.to_wire(Some(user.id))
}

/// A write that lost a race for a username or email: the same answer as the check gives.
fn taken_field(e: sqlx::Error) -> ApiError {
    match users::conflict(&e) {
        Some("email") => ApiError::field("email", EMAIL_TAKEN),
        Some(_) => ApiError::field("username", USERNAME_TAKEN),
        None => e.into(),
    }
}

/// Records the "taken" errors of a username and an email that parsed.
async fn check_taken(
    state: &AppState,
    v: &mut Validation,
    username: Option<&Username>,
    email: Option<&Email>,
    except: Option<i64>,
) -> Result<(), ApiError> {
    if username.is_none() && email.is_none() {
        return Ok(());
    }
    let taken = users::taken(
        state.db.pool(),
        username.map(Username::as_str),
        email.map(Email::as_str),
        except,
    )
    .await?;
    if taken.username {
        refuse(v, "username", USERNAME_TAKEN);
    }
    if taken.email {
        refuse(v, "email", EMAIL_TAKEN);
    }
    Ok(())
}

fn refuse(v: &mut Validation, field: &str, message: &str) {
    v.check::<()>(field, Err(message.to_owned()));
}

/// A registration whose every field passed validation.
struct ValidNewUser {
    username: Username,
    email: Email,
    password: NewPassword,
    about_me: AboutMe,
}

impl ValidNewUser {
    /// Parses every field, reporting all the errors at once, taken names included.
    async fn parse(state: &AppState, body: &NewUser) -> Result<Self, ApiError> {
        let mut v = Validation::default();
        let username = v.check("username", Username::parse(&body.username));
        let email = v.check("email", Email::parse(&body.email));
        let password = v.check("password", NewPassword::parse(&body.password));
        let about_me = v.check(
            "about_me",
            AboutMe::parse(body.about_me.as_deref().unwrap_or_default()),
        );
        check_taken(state, &mut v, username.as_ref(), email.as_ref(), None).await?;
        match (username, email, password, about_me) {
            (Some(username), Some(email), Some(password), Some(about_me)) if v.is_empty() => {
                Ok(Self {
                    username,
                    email,
                    password,
                    about_me,
                })
            }
            _ => Err(ApiError::Validation(v.into_errors())),
        }
    }

    fn row<'a>(&'a self, password_hash: &'a str) -> NewUserRow<'a> {
        NewUserRow {
            username: self.username.as_str(),
            email: self.email.as_str(),
            password_hash,
            about_me: self.about_me.as_str(),
        }
    }
}

/// A `PUT /me` whose every present field passed validation (and whose `old_password`
/// is right, when a new password is asked for).
struct ValidUpdate {
    username: Option<Username>,
    email: Option<Email>,
    about_me: Option<AboutMe>,
    password: Option<NewPassword>,
}

impl ValidUpdate {
    async fn parse(
        state: &AppState,
        client: &Client,
        me: &AuthUser,
        body: &UpdateMe,
    ) -> Result<Self, ApiError> {
        let mut v = Validation::default();
        let username = optional(
            &mut v,
            "username",
            body.username.as_deref(),
            Username::parse,
        );
        let email = optional(&mut v, "email", body.email.as_deref(), Email::parse);
        let about_me = optional(&mut v, "about_me", body.about_me.as_deref(), AboutMe::parse);
        let password = optional(
            &mut v,
            "password",
            body.password.as_deref(),
            NewPassword::parse,
        );
        check_taken(
            state,
            &mut v,
            username.as_ref(),
            email.as_ref(),
            Some(me.id()),
        )
        .await?;
        if body.password.is_some() {
            check_old_password(state, client, me, &mut v, body.old_password.as_deref()).await?;
        }
        v.finish()?;
        Ok(Self {
            username,
            email,
            about_me,
            password,
        })
    }

    fn changes<'a>(&'a self, password_hash: Option<&'a str>) -> Changes<'a> {
        Changes {
            username: self.username.as_ref().map(Username::as_str),
            email: self.email.as_ref().map(Email::as_str),
            about_me: self.about_me.as_ref().map(AboutMe::as_str),
            password_hash,
        }
    }
}

/// Parses a field of a partial update, if it is there.
fn optional<T>(
    v: &mut Validation,
    field: &str,
    value: Option<&str>,
    parse: fn(&str) -> Result<T, String>,
) -> Option<T> {
    value.and_then(|s| v.check(field, parse(s)))
}

/// A new password must come with the current one: a stolen access token alone must not
/// be enough to take the account over, nor to guess the password here without limit: wrong
/// guesses count with the other re-authentication failures (2FA changes) of the account.
/// Accounts without a password (OAuth only) set one through the password reset instead.
async fn check_old_password(
    state: &AppState,
    client: &Client,
    me: &AuthUser,
    v: &mut Validation,
    old_password: Option<&str>,
) -> Result<(), ApiError> {
    let Some(old_password) = old_password else {
        refuse(
            v,
            "old_password",
            "Give your current password to set a new one.",
        );
        return Ok(());
    };
    state.throttle.check_two_factor(me.id(), &client.ip)?;
    let stored = users::password_hash(state.db.pool(), me.id()).await?;
    if !state.hasher.verify(old_password, stored.as_deref()).await? {
        state.throttle.two_factor_failed(me.id(), &client.ip);
        tracing::info!("password change refused: wrong current password");
        refuse(v, "old_password", "The current password is wrong.");
    }
    Ok(())
}
