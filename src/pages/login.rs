use leptos::prelude::*;
use leptos_router::components::A;

use super::form::FormState;
use super::set_title;
use crate::api::use_session;
use crate::components::{Field, FieldKind, FormAlert};
use crate::routes::AppRoute;
use crate::validate;

/// Log in with a username or email and a password. Once logged in, the route guard sends
/// the user on to `?next=` (or the feed).
#[component]
pub fn LoginPage() -> impl IntoView {
    set_title("Log in");
    let session = use_session();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let form = FormState::new();
    let login = Action::new_local(move |(user, pass): &(String, String)| {
        let (user, pass) = (user.clone(), pass.clone());
        async move {
            match session.login(&user, &pass).await {
                // The password leaves memory with the form.
                Ok(()) => password.set(String::new()),
                Err(err) if err.is_status(401) => form.fail("Invalid username or password."),
                Err(err) => form.fail(err.to_string()),
            }
        }
    });
    let pending = login.pending();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.clear();
        let (user, pass) = (username.get_untracked(), password.get_untracked());
        if form.check(validate::login(&user, &pass)) {
            login.dispatch((user, pass));
        }
    };
    view! {
        <div class="narrow">
            <h1 tabindex="-1">"Log in"</h1>
            <form on:submit=submit novalidate>
                <FormAlert message=form.alert />
                <Field
                    label="Username or email address"
                    name="username"
                    value=username
                    errors=form.field("username")
                    autocomplete="username"
                    required=true
                />
                <Field
                    label="Password"
                    name="password"
                    value=password
                    errors=form.field("password")
                    kind=FieldKind::Password
                    autocomplete="current-password"
                    required=true
                />
                <div class="actions">
                    <button type="submit" class="primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Logging in…" } else { "Log in" }}
                    </button>
                </div>
            </form>
            <p>"Don't have an account? " <A href=AppRoute::Register.path()>"Register here"</A> "."</p>
        </div>
    }
}
