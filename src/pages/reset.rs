use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use wire::PasswordReset;

use super::form::FormState;
use super::set_title;
use crate::api::use_session;
use crate::components::{Field, FieldKind, FormAlert};
use crate::flash::use_flashes;
use crate::routes::AppRoute;
use crate::validate;

const FIELDS: [&str; 1] = ["new_password"];

/// The `token` parameter of a query string (`?token=...`).
pub fn token_from_search(search: &str) -> Option<String> {
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .and_then(|token| js_sys::decode_uri_component(token).ok())
        .map(String::from)
        .filter(|token| !token.is_empty())
}

/// Where the reset email's link lands. The token is read once and the address bar is
/// replaced at once, so it leaves the URL, the history and any referrer; from then on it
/// lives only in this page's memory.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    set_title("Choose a new password");
    let location = window().location();
    let token = token_from_search(&location.search().unwrap_or_default());
    if token.is_some() {
        // Same path, so the router keeps this page and only forgets the query. Right after
        // this render, not during it.
        let navigate = use_navigate();
        queue_microtask(move || {
            navigate(
                &AppRoute::ResetPassword.path(),
                NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..NavigateOptions::default()
                },
            );
        });
    }
    let body = match token {
        Some(token) => view! { <ResetForm token /> }.into_any(),
        None => view! {
            <p class="form-alert" role="alert">
                "This page needs the link from a password-reset email. "
                <A href=AppRoute::ForgotPassword.path()>"Request a new link"</A> "."
            </p>
        }
        .into_any(),
    };
    view! {
        <div class="narrow">
            <h1 tabindex="-1">"Choose a new password"</h1>
            {body}
        </div>
    }
}

#[component]
fn ResetForm(token: String) -> impl IntoView {
    let session = use_session();
    let flashes = use_flashes();
    let navigate = use_navigate();
    let token = StoredValue::new(token);
    let password = RwSignal::new(String::new());
    let password2 = RwSignal::new(String::new());
    // The server refused the token: bad, used or expired. Only a new link helps.
    let dead_link = RwSignal::new(None::<String>);
    let form = FormState::new();
    let reset = Action::new_local(move |reset: &PasswordReset| {
        let reset = reset.clone();
        let navigate = navigate.clone();
        async move {
            match session.client().reset_password(&reset).await {
                Ok(()) => {
                    password.set(String::new());
                    password2.set(String::new());
                    token.set_value(String::new());
                    // The server ended every session of the account, this browser's too.
                    session.ended_by_server();
                    flashes.success(
                        "Your password has been changed, and every device was logged out. \
                         You can now log in with the new password.",
                    );
                    navigate(
                        &AppRoute::Login.path(),
                        NavigateOptions {
                            replace: true,
                            ..NavigateOptions::default()
                        },
                    );
                }
                Err(err) if err.is_status(400) && err.field_errors("new_password").is_empty() => {
                    token.set_value(String::new());
                    dead_link.set(Some(err.to_string()));
                }
                Err(err) => form.api_error(&err, &FIELDS),
            }
        }
    });
    let busy = reset.pending();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.clear();
        let (new, new2) = (password.get_untracked(), password2.get_untracked());
        if form.check(validate::password_reset(&new, &new2)) {
            reset.dispatch(PasswordReset {
                token: token.get_value(),
                new_password: new,
            });
        }
    };
    move || match dead_link.get() {
        Some(message) => view! {
            <div class="form-alert-region" role="alert">
                <p class="form-alert">{message}</p>
            </div>
            <p><A href=AppRoute::ForgotPassword.path()>"Request a new link"</A></p>
        }
        .into_any(),
        None => view! {
            <form on:submit=submit novalidate>
                <FormAlert message=form.alert />
                <Field label="New password" name="new_password" value=password
                    errors=form.field("new_password") kind=FieldKind::Password
                    autocomplete="new-password" required=true />
                <Field label="New password again" name="new_password2" value=password2
                    errors=form.field("new_password2") kind=FieldKind::Password
                    autocomplete="new-password" required=true />
                <div class="actions">
                    <button type="submit" class="primary" disabled=move || busy.get()>
                        {move || if busy.get() { "Saving…" } else { "Set the new password" }}
                    </button>
                </div>
            </form>
        }
        .into_any(),
    }
}
