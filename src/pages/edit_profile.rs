use crate::nav::A;
use crate::nav::NavigateOptions;
use crate::nav::use_navigate;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::{UpdateMe, User, limits};

use super::form::FormState;
use super::set_title;
use crate::api::{ApiError, use_session};
use crate::components::{Field, FieldKind, FormAlert, Loading};
use crate::flash::use_flashes;
use crate::lazy::split;
use crate::routes::AppRoute;
use crate::validate;

const FIELDS: [&str; 4] = ["username", "email", "about_me", "old_password"];

split!(pub fn load_edit_profile / prefetch_edit_profile in settings: () = |()| view! { <EditProfilePage /> }.into_any());

/// Edit one's username, email and "about me".
#[component]
fn EditProfilePage() -> impl IntoView {
    set_title("Edit profile");
    let session = use_session();
    // A plain signal, not a resource with <Transition>: no suspense code to download.
    let me = RwSignal::new(None::<Result<User, ApiError>>);
    let attempt = RwSignal::new(0_u32);
    Effect::new(move |_| {
        attempt.track();
        spawn_local(async move {
            let _ = me.try_set(Some(session.client().me().await));
        });
    });
    view! {
        <div class="narrow">
            <h1 tabindex="-1">"Edit profile"</h1>
            {move || match me.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Ok(user)) => view! { <ProfileForm user /> }.into_any(),
                Some(Err(err)) => view! {
                    <div role="alert">
                        <p>{err.to_string()}</p>
                        <button type="button" on:click=move |_| attempt.update(|n| *n += 1)>"Try again"</button>
                    </div>
                }
                .into_any(),
            }}
        </div>
    }
}

/// Whether `email` (as typed, trimmed) is another address than the account's. Case alone
/// does not count, as the server sees it.
fn email_changed(before: &User, email: &str) -> bool {
    !email
        .trim()
        .eq_ignore_ascii_case(before.email.as_deref().unwrap_or_default())
}

/// Only changed fields are sent, so an unchanged username is never re-checked; the
/// current password goes with a new email address only.
fn changes(
    before: &User,
    username: &str,
    email: &str,
    about_me: &str,
    old_password: &str,
) -> UpdateMe {
    let email_changed = email_changed(before, email);
    UpdateMe {
        username: (username != before.username).then(|| username.to_owned()),
        email: email_changed.then(|| email.to_owned()),
        about_me: (about_me != before.about_me).then(|| about_me.to_owned()),
        old_password: email_changed.then(|| old_password.to_owned()),
        ..UpdateMe::default()
    }
}

#[component]
fn ProfileForm(user: User) -> impl IntoView {
    let session = use_session();
    let flashes = use_flashes();
    let navigate = use_navigate();
    let username = RwSignal::new(user.username.clone());
    let email = RwSignal::new(user.email.clone().unwrap_or_default());
    let about_me = RwSignal::new(user.about_me.clone());
    let old_password = RwSignal::new(String::new());
    let form = FormState::new();
    let back = AppRoute::User(user.username.clone()).path();
    let before = StoredValue::new(user);
    // Asked for only while the email differs from the account's.
    let needs_password =
        Memo::new(move |_| email.with(|e| before.with_value(|b| email_changed(b, e))));
    let save = Action::new_local(move |update: &UpdateMe| {
        let update = update.clone();
        let navigate = navigate.clone();
        async move {
            match session.client().update_me(&update).await {
                Ok(user) => {
                    old_password.set(String::new());
                    let path = AppRoute::User(user.username.clone()).path();
                    session.set_user(user);
                    flashes.success("Your profile has been updated.");
                    navigate(&path, NavigateOptions::default());
                }
                Err(err) => form.api_error(&err, &FIELDS),
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.clear();
        let password = old_password.get_untracked();
        if !form.check(validate::profile_change(
            needs_password.get_untracked(),
            &password,
        )) {
            return;
        }
        let update = before.with_value(|before| {
            changes(
                before,
                username.get_untracked().trim(),
                email.get_untracked().trim(),
                about_me.get_untracked().trim(),
                &password,
            )
        });
        if update == UpdateMe::default() {
            form.fail("Nothing has changed.");
        } else {
            save.dispatch(update);
        }
    };
    let pending = save.pending();
    view! {
        <form on:submit=submit novalidate>
            <FormAlert message=form.alert />
            <Field label="Username" name="username" value=username errors=form.field("username")
                autocomplete="username" required=true maxlength=limits::USERNAME_MAX_CHARS />
            <Field label="Email address" name="email" value=email errors=form.field("email")
                kind=FieldKind::Email autocomplete="email" required=true maxlength=limits::EMAIL_MAX_CHARS />
            <Show when=move || needs_password.get()>
                <Field label="Current password" name="old_password" value=old_password
                    errors=form.field("old_password") kind=FieldKind::Password
                    autocomplete="current-password" required=true
                    hint=Signal::stored("Needed to change your email address.".to_owned()) />
            </Show>
            <Field label="About me" name="about_me" value=about_me errors=form.field("about_me")
                kind=FieldKind::TextArea maxlength=limits::ABOUT_ME_MAX_CHARS />
            <div class="actions">
                <button type="submit" class="primary" disabled=move || pending.get()>
                    {move || if pending.get() { "Saving…" } else { "Save" }}
                </button>
                <A href=back>"Cancel"</A>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use wire::Timestamp;

    use super::*;

    fn susan() -> User {
        User {
            id: 1,
            username: "susan".into(),
            email: Some("susan@example.com".into()),
            about_me: String::new(),
            avatar_url: "/api/avatars/1?d=identicon".into(),
            first_seen: Timestamp::from_micros(0),
            last_seen: Timestamp::from_micros(0),
            posts_url: "/api/users/1/posts".into(),
            url: "/api/users/1".into(),
            has_password: true,
        }
    }

    #[test]
    fn a_new_email_goes_with_the_current_password() {
        let update = changes(&susan(), "susan", "new@example.com", "", "hunter22");
        assert_eq!(update.email.as_deref(), Some("new@example.com"));
        assert_eq!(update.old_password.as_deref(), Some("hunter22"));
        assert_eq!(update.username, None);
    }

    #[test]
    fn the_password_is_not_sent_when_the_email_stays() {
        let update = changes(
            &susan(),
            "susan2",
            "susan@example.com",
            "Hi",
            "typed anyway",
        );
        assert_eq!(update.old_password, None);
        assert_eq!(update.email, None);
        assert_eq!(update.username.as_deref(), Some("susan2"));
        assert!(!email_changed(&susan(), " susan@example.com "));
        assert!(!email_changed(&susan(), "Susan@Example.com"));
        assert!(email_changed(&susan(), "susan@example.org"));
    }
}
