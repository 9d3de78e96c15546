use crate::nav::A;
use leptos::prelude::*;

use super::form::FormState;
use super::set_title;
use crate::api::use_session;
use crate::components::{Field, FieldKind, FormAlert};
use crate::lazy::split;
use crate::routes::AppRoute;
use crate::validate;

/// The one answer, whatever the address.
const SENT: &str = "If an account exists for that address, we sent it a link to choose a new \
     password. The link works once, for a short time.";

split!(pub fn load_forgot_password / prefetch_forgot_password in entry: () = |()| view! { <ForgotPasswordPage /> }.into_any());

/// Ask for a password-reset email. The answer is the same whether or not the address has
/// an account (docs/security.md, "Password reset"), and so is what this page says.
#[component]
fn ForgotPasswordPage() -> impl IntoView {
    set_title("Forgot password");
    let session = use_session();
    let email = RwSignal::new(String::new());
    let sent = RwSignal::new(false);
    let form = FormState::new();
    let request = Action::new_local(move |email: &String| {
        let email = email.clone();
        async move {
            match session.client().request_reset(&email).await {
                Ok(()) => sent.set(true),
                Err(err) => form.api_error(&err, &["email"]),
            }
        }
    });
    let busy = request.pending();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.clear();
        sent.set(false);
        let address = email.get_untracked().trim().to_owned();
        if form.check(validate::reset_request(&address)) {
            request.dispatch(address);
        }
    };
    view! {
        <div class="narrow">
            <h1 tabindex="-1">"Forgot password"</h1>
            <div role="status">
                <p class="notice">{move || sent.get().then_some(SENT)}</p>
            </div>
            <form on:submit=submit novalidate>
                <FormAlert message=form.alert />
                <p>"Enter the email address of your account, and we will send you a link to choose a new password."</p>
                <Field label="Email address" name="email" value=email errors=form.field("email")
                    kind=FieldKind::Email autocomplete="email" required=true />
                <div class="actions">
                    <button type="submit" class="primary" disabled=move || busy.get()>
                        {move || if busy.get() { "Sending…" } else { "Send the link" }}
                    </button>
                </div>
            </form>
            <p><A href=AppRoute::Login.path()>"Back to log in"</A></p>
        </div>
    }
}
