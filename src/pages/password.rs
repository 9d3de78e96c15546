use crate::nav::NavigateOptions;
use crate::nav::use_navigate;
use leptos::prelude::*;
use wire::UpdateMe;

use super::form::FormState;
use super::set_title;
use crate::api::use_session;
use crate::components::{Field, FieldKind, FormAlert};
use crate::flash::use_flashes;
use crate::lazy::split;
use crate::routes::AppRoute;
use crate::validate;

const FIELDS: [&str; 2] = ["old_password", "password"];

split!(pub fn load_change_password / prefetch_change_password in settings: () = |()| view! { <ChangePasswordPage /> }.into_any());

/// Change one's password; the current one is required.
#[component]
fn ChangePasswordPage() -> impl IntoView {
    set_title("Change password");
    let session = use_session();
    let flashes = use_flashes();
    let navigate = use_navigate();
    let old_password = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let password2 = RwSignal::new(String::new());
    let form = FormState::new();
    let save = Action::new_local(move |update: &UpdateMe| {
        let update = update.clone();
        let navigate = navigate.clone();
        async move {
            match session.client().update_me(&update).await {
                Ok(user) => {
                    for field in [old_password, password, password2] {
                        field.set(String::new());
                    }
                    // The server ends the account's other sessions on a password change.
                    flashes
                        .success("Your password has been changed. Other sessions were logged out.");
                    navigate(
                        &AppRoute::User(user.username).path(),
                        NavigateOptions::default(),
                    );
                }
                Err(err) => form.api_error(&err, &FIELDS),
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.clear();
        let (old, new, new2) = (
            old_password.get_untracked(),
            password.get_untracked(),
            password2.get_untracked(),
        );
        if form.check(validate::password_change(&old, &new, &new2)) {
            save.dispatch(UpdateMe {
                old_password: Some(old),
                password: Some(new),
                ..UpdateMe::default()
            });
        }
    };
    let pending = save.pending();
    view! {
        <div class="narrow">
            <h1 tabindex="-1">"Change password"</h1>
            <form on:submit=submit novalidate>
                <FormAlert message=form.alert />
                <Field label="Current password" name="old_password" value=old_password
                    errors=form.field("old_password") kind=FieldKind::Password
                    autocomplete="current-password" required=true />
                <Field label="New password" name="password" value=password errors=form.field("password")
                    kind=FieldKind::Password autocomplete="new-password" required=true />
                <Field label="New password again" name="password2" value=password2
                    errors=form.field("password2") kind=FieldKind::Password
                    autocomplete="new-password" required=true />
                <div class="actions">
                    <button type="submit" class="primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Saving…" } else { "Change password" }}
                    </button>
                </div>
            </form>
        </div>
    }
}
