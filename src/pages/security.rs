use leptos::prelude::*;
use leptos_router::components::A;
use wire::{PasswordAndCode, TwoFactorSetup, TwoFactorStatus};

use super::form::FormState;
use super::{focus_later, set_title};
use crate::api::use_session;
use crate::components::{Field, FieldKind, FormAlert, Loading, QrCode, RecoveryCodeList};
use crate::flash::use_flashes;
use crate::routes::AppRoute;
use crate::validate::{self, FieldErrors};

/// Where the two-factor settings are. Secrets and codes live in this state only while
/// they are on screen (auth rule 1): never in storage, the URL or the console.
#[derive(Clone)]
enum Stage {
    /// The status, and what can be done about it.
    Idle,
    /// Turning on, step 1: the password again.
    Password,
    /// Turning on, step 2: scan the secret, confirm with a code.
    Scan(TwoFactorSetup),
    /// Turning off, or replacing the recovery codes: the password and a code.
    Confirm(Change),
    /// Fresh recovery codes, shown once.
    Codes(Vec<String>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Change {
    TurnOff,
    NewCodes,
}

/// Two-factor authentication: its status; turning it on (password, QR code, a code, the
/// recovery codes), off (password and a code), and new recovery codes.
#[component]
pub fn SecurityPage() -> impl IntoView {
    set_title("Two-factor authentication");
    let session = use_session();
    let status =
        LocalResource::new(move || async move { session.client().two_factor_status().await });
    let stage = RwSignal::new(Stage::Idle);
    let go = Callback::new(move |next: Stage| {
        let focus = match &next {
            Stage::Idle => "two-factor-status",
            Stage::Password | Stage::Confirm(_) => "password",
            Stage::Scan(_) => "scan-heading",
            Stage::Codes(_) => "recovery-codes-heading",
        };
        if matches!(next, Stage::Idle | Stage::Codes(_)) {
            status.refetch();
        }
        stage.set(next);
        focus_later(focus);
    });
    view! {
        <div class="narrow">
            <h1 tabindex="-1">"Two-factor authentication"</h1>
            <p>
                "With two-factor authentication on, logging in needs a code from an "
                "authenticator app on your phone as well as your password."
            </p>
            {move || match stage.get() {
                Stage::Idle => view! {
                    <Transition fallback=|| view! { <Loading /> }>
                        {move || Suspend::new(async move {
                            match status.await {
                                Ok(status) => view! { <StatusPanel status go /> }.into_any(),
                                Err(err) => view! {
                                    <div role="alert">
                                        <p>{err.to_string()}</p>
                                        <button type="button" on:click=move |_| status.refetch()>"Try again"</button>
                                    </div>
                                }
                                .into_any(),
                            }
                        })}
                    </Transition>
                }
                .into_any(),
                Stage::Password => view! { <PasswordForm go /> }.into_any(),
                Stage::Scan(setup) => view! { <ScanForm setup go /> }.into_any(),
                Stage::Confirm(change) => view! { <ConfirmForm change go /> }.into_any(),
                Stage::Codes(codes) => {
                    view! { <RecoveryCodeList codes on_done=move |()| go.run(Stage::Idle) /> }.into_any()
                }
            }}
            <p><A href=AppRoute::Sessions.path()>"Sessions: where you are logged in"</A></p>
        </div>
    }
}

#[component]
fn StatusPanel(status: TwoFactorStatus, go: Callback<Stage>) -> impl IntoView {
    let (text, actions) = if status.enabled {
        let left = match status.recovery_codes_left {
            1 => "1 recovery code is left.".to_owned(),
            n => format!("{n} recovery codes are left."),
        };
        (
            format!("Two-factor authentication is on. {left}"),
            view! {
                <button type="button" on:click=move |_| go.run(Stage::Confirm(Change::NewCodes))>
                    "Get new recovery codes"
                </button>
                <button type="button" on:click=move |_| go.run(Stage::Confirm(Change::TurnOff))>
                    "Turn off two-factor authentication"
                </button>
            }
            .into_any(),
        )
    } else {
        (
            "Two-factor authentication is off.".to_owned(),
            view! {
                <button type="button" class="primary" on:click=move |_| go.run(Stage::Password)>
                    "Turn on two-factor authentication"
                </button>
            }
            .into_any(),
        )
    };
    view! {
        <p id="two-factor-status" class="status-line" tabindex="-1">
            <strong>{text}</strong>
        </p>
        <div class="actions">{actions}</div>
    }
}

/// A cancel button back to the status.
fn cancel(go: Callback<Stage>) -> impl IntoView {
    view! {
        <button type="button" on:click=move |_| go.run(Stage::Idle)>"Cancel"</button>
    }
}

/// Turning on, step 1: the password again.
#[component]
fn PasswordForm(go: Callback<Stage>) -> impl IntoView {
    let session = use_session();
    let password = RwSignal::new(String::new());
    let form = FormState::new();
    let start = Action::new_local(move |password: &String| {
        let password = password.clone();
        async move {
            match session.client().start_two_factor(&password).await {
                Ok(setup) => go.run(Stage::Scan(setup)),
                Err(err) => form.api_error(&err, &["password"]),
            }
        }
    });
    let busy = start.pending();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.clear();
        let typed = password.get_untracked();
        if form.check(validate::password_again(&typed)) {
            start.dispatch(typed);
        }
    };
    view! {
        <form on:submit=submit novalidate>
            <h2>"Turn on two-factor authentication"</h2>
            <FormAlert message=form.alert />
            <Field label="Your password" name="password" value=password errors=form.field("password")
                kind=FieldKind::Password autocomplete="current-password" required=true />
            <div class="actions">
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {move || if busy.get() { "Checking…" } else { "Continue" }}
                </button>
                {cancel(go)}
            </div>
        </form>
    }
}

/// The secret in groups of four, easier to type.
fn grouped(secret: &str) -> String {
    let mut out = String::with_capacity(secret.len() + secret.len() / 4);
    for (i, c) in secret.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Turning on, step 2: the QR code and the secret, then a code to prove the app has it.
#[component]
fn ScanForm(setup: TwoFactorSetup, go: Callback<Stage>) -> impl IntoView {
    let session = use_session();
    let code = RwSignal::new(String::new());
    let form = FormState::new();
    let confirm = Action::new_local(move |code: &String| {
        let code = code.clone();
        async move {
            match session.client().confirm_two_factor(&code).await {
                Ok(codes) => go.run(Stage::Codes(codes.recovery_codes)),
                Err(err) => form.api_error(&err, &["code"]),
            }
        }
    });
    let busy = confirm.pending();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.clear();
        let mut errors = FieldErrors::new();
        let digits = validate::totp_code(&mut errors, "code", &code.get_untracked());
        if form.check(errors)
            && let Some(digits) = digits
        {
            confirm.dispatch(digits);
        }
    };
    view! {
        <section aria-labelledby="scan-heading">
            <h2 id="scan-heading" tabindex="-1">"Scan this code with your authenticator app"</h2>
            <QrCode text=setup.otpauth_uri label="QR code to add Microblog to an authenticator app" />
            <p>"Or enter this key in the app by hand:"</p>
            <p><code class="secret" aria-label="Secret key">{grouped(&setup.secret)}</code></p>
            <form on:submit=submit novalidate>
                <FormAlert message=form.alert />
                <Field label="Code from the app" name="code" value=code errors=form.field("code")
                    autocomplete="one-time-code" inputmode="numeric" required=true />
                <div class="actions">
                    <button type="submit" class="primary" disabled=move || busy.get()>
                        {move || if busy.get() { "Checking…" } else { "Turn on" }}
                    </button>
                    {cancel(go)}
                </div>
            </form>
        </section>
    }
}

/// Turning off, or new recovery codes: the password and a current code (or a recovery code).
#[component]
fn ConfirmForm(change: Change, go: Callback<Stage>) -> impl IntoView {
    let session = use_session();
    let flashes = use_flashes();
    let password = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let form = FormState::new();
    let act = Action::new_local(move |proof: &PasswordAndCode| {
        let proof = proof.clone();
        async move {
            let client = session.client();
            let result = match change {
                Change::TurnOff => client.disable_two_factor(&proof).await.map(|()| None),
                Change::NewCodes => client.new_recovery_codes(&proof).await.map(Some),
            };
            match result {
                Ok(Some(codes)) => go.run(Stage::Codes(codes.recovery_codes)),
                Ok(None) => {
                    flashes.success("Two-factor authentication is off.");
                    go.run(Stage::Idle);
                }
                Err(err) => form.api_error(&err, &["password", "code"]),
            }
        }
    });
    let busy = act.pending();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.clear();
        let typed = password.get_untracked();
        let mut errors = validate::password_again(&typed);
        let proof = validate::any_code(&mut errors, "code", &code.get_untracked());
        if form.check(errors)
            && let Some(code) = proof
        {
            act.dispatch(PasswordAndCode {
                password: typed,
                code,
            });
        }
    };
    let (heading, button) = match change {
        Change::TurnOff => ("Turn off two-factor authentication", "Turn off"),
        Change::NewCodes => ("Get new recovery codes", "Get new codes"),
    };
    view! {
        <form on:submit=submit novalidate>
            <h2>{heading}</h2>
            <FormAlert message=form.alert />
            <Field label="Your password" name="password" value=password errors=form.field("password")
                kind=FieldKind::Password autocomplete="current-password" required=true />
            <Field label="Code from the app, or a recovery code" name="code" value=code
                errors=form.field("code") autocomplete="one-time-code" required=true />
            <div class="actions">
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {move || if busy.get() { "Checking…" } else { button }}
                </button>
                {cancel(go)}
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn the_secret_shows_in_groups_of_four() {
        assert_eq!(grouped("ABCDEFGHIJ"), "ABCD EFGH IJ");
        assert_eq!(grouped(""), "");
    }
}
