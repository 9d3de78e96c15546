use crate::nav::A;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::{PasswordAndCode, TwoFactorSetup, TwoFactorStatus};

use super::form::FormState;
use super::{focus_later, set_title};
use crate::api::{ApiError, use_session};
use crate::components::{Field, FieldKind, FormAlert, Loading, QrCode, RecoveryCodeList};
use crate::flash::use_flashes;
use crate::lazy::split;
use crate::routes::AppRoute;
use crate::validate::{self, FieldErrors};

/// Where the two-factor settings are. Secrets and codes live in this state only while they
/// are on screen (docs/security.md, "What the browser stores"): never in storage, the URL
/// or the console.
#[derive(Clone)]
enum Stage {
    /// The status, and what can be done about it.
    Idle,
    /// Turning on, step 1: the password again.
    Password,
    /// Turning on, step 2: scan the secret, confirm with a code.
    Scan(TwoFactorSetup),
    /// Turning off: the password and a code.
    TurnOff,
    /// Replacing the recovery codes: the password and a code.
    NewCodes,
    /// Fresh recovery codes, shown once.
    Codes(Vec<String>),
}

/// What a step's form asks for and says.
struct Step {
    heading: &'static str,
    password: bool,
    code: Option<&'static str>,
    submit: &'static str,
}

impl Stage {
    fn step(&self) -> Option<Step> {
        let (heading, password, code, submit) = match self {
            Self::Password => ("Turn on two-factor authentication", true, None, "Continue"),
            Self::Scan(_) => ("Then enter its code", false, Some(CODE), "Turn on"),
            Self::TurnOff => (
                "Turn off two-factor authentication",
                true,
                Some(ANY_CODE),
                "Turn off",
            ),
            Self::NewCodes => (
                "Get new recovery codes",
                true,
                Some(ANY_CODE),
                "Get new codes",
            ),
            Self::Idle | Self::Codes(_) => return None,
        };
        Some(Step {
            heading,
            password,
            code,
            submit,
        })
    }
}

const CODE: &str = "Code from the app";
const ANY_CODE: &str = "Code from the app, or a recovery code";

split!(pub fn load_security / prefetch_security in security: () = |()| view! { <SecurityPage /> }.into_any());

/// Two-factor authentication: its status; turning it on (password, QR code, a code, the
/// recovery codes), off (password and a code), and new recovery codes.
///
/// Written with plain signals rather than a `LocalResource` and one component per step:
/// every distinct view type costs bundle bytes.
#[component]
fn SecurityPage() -> impl IntoView {
    set_title("Two-factor authentication");
    let session = use_session();
    let flashes = use_flashes();
    let status = RwSignal::new(None::<Result<TwoFactorStatus, ApiError>>);
    let stage = RwSignal::new(Stage::Idle);
    let load = move || {
        spawn_local(async move { status.set(Some(session.client().two_factor_status().await)) });
    };
    load();
    let go = move |next: Stage| {
        let focus = match &next {
            Stage::Idle => "two-factor-status",
            Stage::Scan(_) => "scan-heading",
            Stage::Codes(_) => "recovery-codes-heading",
            _ => "password",
        };
        if matches!(next, Stage::Idle | Stage::Codes(_)) {
            load();
        }
        stage.set(next);
        focus_later(focus);
    };
    let password = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let form = FormState::new();
    // One action for every step: what it sends depends on the stage it was sent from.
    let act = Action::new_local(move |(current, proof): &(Stage, PasswordAndCode)| {
        let (current, proof) = (current.clone(), proof.clone());
        async move {
            let client = session.client();
            let next = match current {
                Stage::Password => client
                    .start_two_factor(&proof.password)
                    .await
                    .map(Stage::Scan),
                Stage::Scan(_) => client
                    .confirm_two_factor(&proof.code)
                    .await
                    .map(|c| Stage::Codes(c.recovery_codes)),
                Stage::TurnOff => client.disable_two_factor(&proof).await.map(|()| {
                    flashes.success("Two-factor authentication is off.");
                    Stage::Idle
                }),
                _ => client
                    .new_recovery_codes(&proof)
                    .await
                    .map(|c| Stage::Codes(c.recovery_codes)),
            };
            match next {
                Ok(next) => {
                    password.set(String::new());
                    code.set(String::new());
                    go(next);
                }
                Err(err) => form.api_error(&err, &["password", "code"]),
            }
        }
    });
    let busy = act.pending();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.clear();
        let current = stage.get_untracked();
        let Some(step) = current.step() else { return };
        let mut errors = FieldErrors::new();
        let typed = password.get_untracked();
        if step.password {
            errors = validate::password_again(&typed);
        }
        let typed_code = code.get_untracked();
        let proof = match step.code {
            None => Some(String::new()),
            Some(CODE) => validate::totp_code(&mut errors, "code", &typed_code),
            Some(_) => validate::any_code(&mut errors, "code", &typed_code),
        };
        if form.check(errors)
            && let Some(code) = proof
        {
            act.dispatch((
                current,
                PasswordAndCode {
                    password: typed,
                    code,
                },
            ));
        }
    };
    let cancel = move |_| {
        password.set(String::new());
        code.set(String::new());
        form.clear();
        go(Stage::Idle);
    };
    let stage_view = move || {
        let current = stage.get();
        if let Stage::Codes(codes) = current {
            return view! { <RecoveryCodeList codes on_done=move |()| go(Stage::Idle) /> }
                .into_any();
        }
        let Some(step) = current.step() else {
            return status_view(status.get(), go).into_any();
        };
        let scan = match current {
            Stage::Scan(setup) => Some(view! {
                <h2 id="scan-heading" tabindex="-1">"Scan this code with your authenticator app"</h2>
                <QrCode text=setup.otpauth_uri label="QR code to add Microblog to an authenticator app" />
                <p>"Or type this secret key into the app:"</p>
                <div class="field">
                    <label for="secret">"Secret key"</label>
                    <input id="secret" class="secret" readonly autocomplete="off" spellcheck="false"
                        value=grouped(&setup.secret) />
                </div>
            }),
            _ => None,
        };
        view! {
            {scan}
            <form on:submit=submit novalidate>
                <h2>{step.heading}</h2>
                <FormAlert message=form.alert />
                {step.password.then(|| view! {
                    <Field label="Your password" name="password" value=password errors=form.field("password")
                        kind=FieldKind::Password autocomplete="current-password" required=true />
                })}
                {step.code.map(|label| {
                    let inputmode = if label == CODE { "numeric" } else { "" };
                    view! {
                        <Field label=label name="code" value=code errors=form.field("code")
                            autocomplete="one-time-code" inputmode=inputmode required=true />
                    }
                })}
                <div class="actions">
                    <button type="submit" class="primary" disabled=move || busy.get()>
                        {move || if busy.get() { "Checking…" } else { step.submit }}
                    </button>
                    <button type="button" on:click=cancel>"Cancel"</button>
                </div>
            </form>
        }
        .into_any()
    };
    view! {
        <div class="narrow">
            <h1 tabindex="-1">"Two-factor authentication"</h1>
            <p>
                "With two-factor authentication on, logging in needs a code from an "
                "authenticator app on your phone as well as your password."
            </p>
            {stage_view}
            <p><A href=AppRoute::Sessions.path()>"Sessions: where you are logged in"</A></p>
        </div>
    }
}

/// The status line and what can be done about it; loading and failure too.
fn status_view(
    status: Option<Result<TwoFactorStatus, ApiError>>,
    go: impl Fn(Stage) + Copy + 'static,
) -> impl IntoView {
    let (text, buttons) = match status {
        None => return view! { <Loading /> }.into_any(),
        Some(Err(err)) => {
            return view! { <p role="alert" id="two-factor-status" tabindex="-1">{err.to_string()}</p> }
                .into_any();
        }
        Some(Ok(TwoFactorStatus {
            enabled: true,
            recovery_codes_left,
        })) => (
            format!(
                "Two-factor authentication is on. {recovery_codes_left} recovery code{} left.",
                if recovery_codes_left == 1 {
                    " is"
                } else {
                    "s are"
                }
            ),
            [
                ("Get new recovery codes", Stage::NewCodes),
                ("Turn off two-factor authentication", Stage::TurnOff),
            ]
            .to_vec(),
        ),
        Some(Ok(_)) => (
            "Two-factor authentication is off.".to_owned(),
            [("Turn on two-factor authentication", Stage::Password)].to_vec(),
        ),
    };
    view! {
        <p id="two-factor-status" class="status-line" tabindex="-1"><strong>{text}</strong></p>
        <div class="actions">
            {buttons
                .into_iter()
                .map(|(label, next)| {
                    view! { <button type="button" on:click=move |_| go(next.clone())>{label}</button> }
                })
                .collect_view()}
        </div>
    }
    .into_any()
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

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn the_secret_shows_in_groups_of_four() {
        assert_eq!(grouped("ABCDEFGHIJ"), "ABCD EFGH IJ");
        assert_eq!(grouped(""), "");
    }
}
