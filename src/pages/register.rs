use crate::nav::A;
use crate::nav::NavigateOptions;
use crate::nav::use_navigate;
use leptos::prelude::*;
use wire::NewUser;

use super::form::FormState;
use super::set_title;
use crate::api::use_session;
use crate::components::{Field, FieldKind, FormAlert};
use crate::flash::use_flashes;
use crate::lazy::split;
use crate::routes::AppRoute;
use crate::validate;

const FIELDS: [&str; 3] = ["username", "email", "password"];

split!(pub fn load_register / prefetch_register in entry: () = |()| view! { <RegisterPage /> }.into_any());

/// Create an account; then on to the login page, as password managers expect.
#[component]
fn RegisterPage() -> impl IntoView {
    set_title("Register");
    let session = use_session();
    let flashes = use_flashes();
    let navigate = use_navigate();
    let username = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let password2 = RwSignal::new(String::new());
    let form = FormState::new();
    let register = Action::new_local(move |user: &NewUser| {
        let user = user.clone();
        let navigate = navigate.clone();
        async move {
            match session.client().register(&user).await {
                Ok(_) => {
                    password.set(String::new());
                    password2.set(String::new());
                    flashes.success("You have successfully registered! You can now log in.");
                    navigate(&AppRoute::Login.path(), NavigateOptions::default());
                }
                Err(err) => form.api_error(&err, &FIELDS),
            }
        }
    });
    let pending = register.pending();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.clear();
        let user = NewUser {
            username: username.get_untracked().trim().to_owned(),
            email: email.get_untracked().trim().to_owned(),
            password: password.get_untracked(),
            about_me: None,
        };
        let checks = validate::registration(
            &user.username,
            &user.email,
            &user.password,
            &password2.get_untracked(),
        );
        if form.check(checks) {
            register.dispatch(user);
        }
    };
    view! {
        <div class="narrow">
            <h1 tabindex="-1">"Register"</h1>
            <form on:submit=submit novalidate>
                <FormAlert message=form.alert />
                <Field label="Username" name="username" value=username errors=form.field("username")
                    autocomplete="username" required=true />
                <Field label="Email address" name="email" value=email errors=form.field("email")
                    kind=FieldKind::Email autocomplete="email" required=true />
                <Field label="Password" name="password" value=password errors=form.field("password")
                    kind=FieldKind::Password autocomplete="new-password" required=true />
                <Field label="Password again" name="password2" value=password2 errors=form.field("password2")
                    kind=FieldKind::Password autocomplete="new-password" required=true />
                <div class="actions">
                    <button type="submit" class="primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Registering…" } else { "Register" }}
                    </button>
                </div>
            </form>
            <p>"Already have an account? " <A href=AppRoute::Login.path()>"Log in here"</A> "."</p>
            {super::oauth::provider_links(super::login::next_param())}
        </div>
    }
}
