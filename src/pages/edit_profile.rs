use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use wire::{UpdateMe, User, limits};

use super::form::FormState;
use super::set_title;
use crate::api::{ApiError, use_session};
use crate::components::{Field, FieldKind, FormAlert, Loading};
use crate::flash::use_flashes;
use crate::lazy::split;
use crate::routes::AppRoute;

const FIELDS: [&str; 3] = ["username", "email", "about_me"];

split!(pub fn load_edit_profile / prefetch_edit_profile in edit_profile: () = |()| view! { <EditProfilePage /> }.into_any());

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

/// Only changed fields are sent, so an unchanged username is never re-checked.
fn changes(before: &User, username: &str, email: &str, about_me: &str) -> UpdateMe {
    UpdateMe {
        username: (username != before.username).then(|| username.to_owned()),
        email: (Some(email) != before.email.as_deref()).then(|| email.to_owned()),
        about_me: (about_me != before.about_me).then(|| about_me.to_owned()),
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
    let form = FormState::new();
    let back = AppRoute::User(user.username.clone()).path();
    let before = StoredValue::new(user);
    let save = Action::new_local(move |update: &UpdateMe| {
        let update = update.clone();
        let navigate = navigate.clone();
        async move {
            match session.client().update_me(&update).await {
                Ok(user) => {
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
        let update = before.with_value(|before| {
            changes(
                before,
                username.get_untracked().trim(),
                email.get_untracked().trim(),
                about_me.get_untracked().trim(),
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
