//! Creating an account, and changing what identifies and protects it.
//!
//! Registration is throttled per address, and checks whether a username or email is
//! taken only once every other field is valid: a probe for who has an account must cost
//! what a real registration costs. An email that is taken is still said so, for a person
//! who forgot they registered; what that reveals is written down in the security docs.
//!
//! The email receives reset links, so changing it is a credential change: like a new
//! password, it needs the current password (a stolen access token alone must not buy the
//! account), outstanding reset links die, and the old address is told. A new password ends
//! every other session.

use crate::auth::{AuthUser, reauth};
use crate::db::users::{self, Changes, NewUserRow, UserRow};
use crate::db::{password_resets, sessions};
use crate::domain::{AboutMe, Email, NewPassword, Username};
use crate::error::{ApiError, Validation};
use crate::extract::Client;
use crate::mail;
use crate::startup::AppState;

const USERNAME_TAKEN: &str = "Use a different username.";
const EMAIL_TAKEN: &str = "Use a different email.";
const NEED_OLD_PASSWORD: &str = "Enter your current password to change your email or password.";
const WRONG_OLD_PASSWORD: &str = "The current password is wrong.";
const NEED_RECENT_LOGIN: &str =
    "Sign out and in again with your provider, then set a password within ten minutes.";

/// Registers a new account.
pub async fn register(
    state: &AppState,
    client: &Client,
    body: &wire::NewUser,
) -> Result<UserRow, ApiError> {
    state.throttle.registration(&client.ip).await?;
    let mut v = Validation::default();
    let username = v.check("username", Username::parse(&body.username));
    let email = v.check("email", Email::parse(&body.email));
    let password = v.check("password", NewPassword::parse(&body.password));
    let about_me = v.check(
        "about_me",
        AboutMe::parse(body.about_me.as_deref().unwrap_or_default()),
    );
    let (Some(username), Some(email), Some(password), Some(about_me)) =
        (username, email, password, about_me)
    else {
        return Err(ApiError::Validation(v.into_errors()));
    };
    check_taken(state, &mut v, Some(&username), Some(&email), None).await?;
    v.finish()?;
    let password_hash = state.hasher.hash(password.expose()).await?;
    let row = NewUserRow {
        username: username.as_str(),
        email: email.as_str(),
        password_hash: &password_hash,
        about_me: about_me.as_str(),
    };
    let user = users::create(&state.db, &row).await.map_err(taken_field)?;
    tracing::info!(user_id = user.id, "registered");
    Ok(user)
}

/// Applies a `PUT /me`: every field optional, all changes made together or not at all.
pub async fn update(
    state: &AppState,
    me: &AuthUser,
    body: &wire::UpdateMe,
) -> Result<UserRow, ApiError> {
    let update = ValidUpdate::parse(state, me, body).await?;
    let password_hash = match &update.password {
        Some(p) => Some(state.hasher.hash(p.expose()).await?),
        None => None,
    };
    let email_changed = update.email_changes(me);
    let mut tx = state.db.begin().await?;
    let changes = Changes {
        username: update.username.as_ref().map(Username::as_str),
        email: update.email.as_ref().map(Email::as_str),
        about_me: update.about_me.as_ref().map(AboutMe::as_str),
        password_hash: password_hash.as_deref(),
    };
    let user = users::update(&mut tx, me.id(), &changes)
        .await
        .map_err(taken_field)?;
    // Links mailed to the old address must not outlive it.
    let dead_links = if email_changed {
        password_resets::delete_for_user(&mut tx, me.id()).await?
    } else {
        0
    };
    // A new password logs out whoever else holds a session of the account.
    let revoked = match password_hash {
        Some(_) => {
            Some(sessions::revoke_all_for_user(&mut tx, me.id(), Some(me.session_id)).await?)
        }
        None => None,
    };
    tx.commit().await?;
    if email_changed {
        tracing::info!(dead_reset_links = dead_links, "email changed");
        tell_old_address(state, me, &user);
    }
    if let Some(revoked) = revoked {
        tracing::info!(revoked_sessions = revoked, "password changed");
    }
    Ok(user)
}

/// A `PUT /me` whose every present field passed validation, and whose `old_password` is
/// right where a change needs it.
struct ValidUpdate {
    username: Option<Username>,
    email: Option<Email>,
    about_me: Option<AboutMe>,
    password: Option<NewPassword>,
}

impl ValidUpdate {
    async fn parse(
        state: &AppState,
        me: &AuthUser,
        body: &wire::UpdateMe,
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
        let update = Self {
            username,
            email,
            about_me,
            password,
        };
        // The reference client sends the unchanged email with every profile edit: only a
        // different address is a change that needs the password.
        let needs_password = body.password.is_some() || update.email_changes(me);
        // An account made by a provider has no password to give: its first one needs a
        // recent sign-in instead (the provider was the proof), and nothing else may change
        // with it.
        let first_password = needs_password && !me.user.has_password && !update.email_changes(me);
        if first_password {
            if v.is_empty() && !crate::auth::oauth::recent_login(state, me).await? {
                refuse(&mut v, "password", NEED_RECENT_LOGIN);
            }
        } else if needs_password {
            match body.old_password.as_deref() {
                None | Some("") => refuse(&mut v, "old_password", NEED_OLD_PASSWORD),
                // Verified only for an otherwise valid request: no hash for a bad one.
                Some(old) if v.is_empty() => {
                    if !reauth::password(state, me, old).await? {
                        refuse(&mut v, "old_password", WRONG_OLD_PASSWORD);
                    }
                }
                Some(_) => {}
            }
        }
        v.finish()?;
        Ok(update)
    }

    fn email_changes(&self, me: &AuthUser) -> bool {
        self.email
            .as_ref()
            .is_some_and(|e| !e.as_str().eq_ignore_ascii_case(&me.user.email))
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

/// A write that lost a race for a username or email: the same answer as the check gives.
fn taken_field(e: sqlx::Error) -> ApiError {
    match users::conflict(&e) {
        Some("email") => ApiError::field("email", EMAIL_TAKEN),
        Some(_) => ApiError::field("username", USERNAME_TAKEN),
        None => e.into(),
    }
}

/// The old address hears of the change: if it was not its owner, they learn at once,
/// while their password still works.
fn tell_old_address(state: &AppState, me: &AuthUser, user: &UserRow) {
    state.mailer.send(mail::Email {
        to: me.user.email.clone(),
        subject: "Your Microblog email was changed".into(),
        body: format!(
            "Hello {},\n\nThe email of your Microblog account was changed to {}. Emails \
             about the account, password-reset links included, now go there, and any reset \
             link sent here before no longer works.\n\nIf this was not you, sign in at once, \
             change your password, and set your email back.\n",
            me.user.username, user.email
        ),
        kind: "email changed",
    });
}
