use crate::nav::A;
use crate::nav::NavigateOptions;
use crate::nav::use_navigate;
use futures::FutureExt as _;
use leptos::prelude::*;
use wire::PasswordReset;

use super::form::FormState;
use super::set_title;
use crate::api::use_session;
use crate::components::{Field, FieldKind, FormAlert};
use crate::flash::use_flashes;
use crate::lazy::split;
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
/// replaced at once (before the page's own code has arrived), so it leaves the URL, the
/// history and any referrer; from then on it lives only in memory.
pub fn reset_route() -> AnyView {
    let token = token_from_search(&window().location().search().unwrap_or_default());
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
                },
            );
        });
    }
    crate::lazy::deferred(|| load_reset().boxed_local(), token, false)
}

split!(fn load_reset / prefetch_reset in entry: Option<String> =
    |token| view! { <ResetPasswordPage token /> }.into_any());

/// The new password, with the token `reset_route` took from the link.
#[component]
fn ResetPasswordPage(token: Option<String>) -> impl IntoView {
    set_title("Choose a new password");
    let session = use_session();
    let flashes = use_flashes();
    let navigate = use_navigate();
    let form = FormState::new();
    if token.is_none() {
        form.fail(NO_TOKEN);
    }
    let token = StoredValue::new(token.unwrap_or_default());
    let password = RwSignal::new(String::new());
    let password2 = RwSignal::new(String::new());
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
                // A bad, used or expired token: the server's message says to ask for a new
                // link, and the link for that is right below the form.
                Err(err) => form.api_error(&err, &FIELDS),
            }
        }
    });
    let busy = reset.pending();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.clear();
        let (new, new2) = (password.get_untracked(), password2.get_untracked());
        if token.with_value(String::is_empty) {
            form.fail(NO_TOKEN);
        } else if form.check(validate::password_reset(&new, &new2)) {
            reset.dispatch(PasswordReset {
                token: token.get_value(),
                new_password: new,
            });
        }
    };
    view! {
        <div class="narrow">
            <h1 tabindex="-1">"Choose a new password"</h1>
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
            <p>"Link expired or already used? " <A href=AppRoute::ForgotPassword.path()>"Request a new link"</A></p>
        </div>
    }
}

/// What the page says without a token (opened by hand, or the link was cut short).
const NO_TOKEN: &str =
    "This page needs the link from a password-reset email. Request a new one below.";
