use std::time::Duration;

use crate::nav::A;
use futures::FutureExt as _;
use leptos::prelude::*;
use wire::{TwoFactorChallenge, TwoFactorLogin};

use super::form::FormState;
use super::{focus_later, set_title};
use crate::api::{LoginOutcome, use_session};
use crate::components::{Field, FieldKind, FormAlert};
use crate::lazy::split;
use crate::routes::AppRoute;
use crate::time::{millis, now_ms};
use crate::validate::{self, FieldErrors};

/// What the password step says after the code step gave up.
const EXPIRED: &str = "This sign-in has expired. Log in again with your password.";

/// What the password step says when the server declared the challenge dead (410 Gone):
/// expired, used up by wrong codes, or unknown to it.
pub const CHALLENGE_GONE: &str = "That sign-in attempt expired. Enter your password again.";

/// The longest a challenge lives (docs/security.md, "Two-factor authentication"); also the
/// fallback when the browser's clock disagrees with the server's.
const CHALLENGE_TTL_MS: f64 = 300_000.0;

/// A 2FA challenge from a correct password, held in memory only, with the moment (on this
/// browser's clock) it stops being worth sending.
#[derive(Clone)]
struct Pending {
    challenge: TwoFactorChallenge,
    deadline_ms: f64,
    /// A recovery code instead of a code from the app.
    recovery: bool,
}

impl Pending {
    fn new(challenge: TwoFactorChallenge) -> Self {
        let now = now_ms();
        let left = millis(challenge.expires_at) - now;
        // A clock far off the server's would expire the step at once, or never.
        let left = if left > 0.0 && left <= CHALLENGE_TTL_MS {
            left
        } else {
            CHALLENGE_TTL_MS
        };
        Self {
            challenge,
            deadline_ms: now + left,
            recovery: false,
        }
    }

    fn expired(&self) -> bool {
        now_ms() >= self.deadline_ms
    }
}

/// Log in with a username or email and a password, then, for an account with two-factor
/// authentication, a code. Once logged in, the route guard sends the user on to `?next=`
/// (or the feed).
#[component]
pub fn LoginPage() -> impl IntoView {
    set_title("Log in");
    let username = RwSignal::new(String::new());
    let pending = RwSignal::new(None::<Pending>);
    // Said on the password step when the code step sends the user back.
    let notice = RwSignal::new(None::<String>);
    let back = Callback::new(move |message: Option<String>| {
        notice.set(message);
        pending.set(None);
        focus_later("password");
    });
    move || match pending.get() {
        None => view! { <PasswordStep username pending notice /> }.into_any(),
        // Only accounts with two-factor authentication need this step: it is in a chunk.
        Some(step) => crate::lazy::deferred(
            || load_code_step().boxed_local(),
            (step, pending, back),
            false,
        ),
    }
}

split!(fn load_code_step / prefetch_code_step in entry:
    (Pending, RwSignal<Option<Pending>>, Callback<Option<String>>) =
    |(step, pending, on_back)| view! { <CodeStep step pending on_back /> }.into_any());

#[component]
fn PasswordStep(
    username: RwSignal<String>,
    pending: RwSignal<Option<Pending>>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let session = use_session();
    let password = RwSignal::new(String::new());
    let form = FormState::new();
    if let Some(message) = notice.get_untracked() {
        form.fail(message);
    }
    let login = Action::new_local(move |(user, pass): &(String, String)| {
        let (user, pass) = (user.clone(), pass.clone());
        async move {
            match session.login(&user, &pass).await {
                // The password leaves memory with the form.
                Ok(LoginOutcome::LoggedIn) => password.set(String::new()),
                Ok(LoginOutcome::TwoFactor(challenge)) => {
                    password.set(String::new());
                    notice.set(None);
                    // The code step focuses its field once its chunk is here.
                    pending.set(Some(Pending::new(challenge)));
                }
                Err(err) if err.is_status(401) => form.fail("Invalid username or password."),
                Err(err) => form.fail(err.to_string()),
            }
        }
    });
    let busy = login.pending();
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
                    <button type="submit" class="primary" disabled=move || busy.get()>
                        {move || if busy.get() { "Logging in…" } else { "Log in" }}
                    </button>
                    <A href=AppRoute::ForgotPassword.path()>"Forgot your password?"</A>
                </div>
            </form>
            <p>"Don't have an account? " <A href=AppRoute::Register.path()>"Register here"</A> "."</p>
            {super::oauth::provider_links(next_param())}
        </div>
    }
}

/// The `?next=` of the page, for the provider buttons.
pub fn next_param() -> Signal<Option<String>> {
    let query = crate::nav::use_query_map();
    Signal::derive(move || query.with(|q| q.get("next")))
}

/// The second step: a code from the authenticator app, or a recovery code. Switching
/// between the two renders this step anew.
#[component]
fn CodeStep(
    step: Pending,
    pending: RwSignal<Option<Pending>>,
    /// Back to the password step, with a message for it.
    on_back: Callback<Option<String>>,
) -> impl IntoView {
    let session = use_session();
    let code = RwSignal::new(String::new());
    let form = FormState::new();
    let (deadline, recovery) = (step.deadline_ms, step.recovery);
    let challenge = StoredValue::new(step);
    // When the challenge dies, this step is useless: back to the password, saying why.
    if let Ok(timer) = set_timeout_with_handle(
        move || on_back.run(Some(EXPIRED.into())),
        Duration::from_millis((deadline - now_ms()).max(0.0) as u64),
    ) {
        on_cleanup(move || timer.clear());
    }
    let verify = Action::new_local(move |login: &TwoFactorLogin| {
        let login = login.clone();
        async move {
            match session.login_two_factor(&login).await {
                Ok(()) => code.set(String::new()),
                Err(_) if challenge.with_value(Pending::expired) => {
                    on_back.run(Some(EXPIRED.into()));
                }
                // The server no longer takes any code for this challenge.
                Err(err) if err.is_status(410) => on_back.run(Some(CHALLENGE_GONE.into())),
                // Wrong or replayed: the server says which.
                Err(err) if err.is_status(401) => {
                    form.fail(err.description().unwrap_or("The code was not accepted."));
                }
                Err(err) => form.api_error(&err, &[FIELD_CODE, FIELD_RECOVERY]),
            }
        }
    });
    let busy = verify.pending();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.clear();
        if challenge.with_value(Pending::expired) {
            on_back.run(Some(EXPIRED.into()));
            return;
        }
        let mut errors = FieldErrors::new();
        let typed = code.get_untracked();
        let proof = if recovery {
            validate::any_code(&mut errors, FIELD_RECOVERY, &typed)
        } else {
            validate::totp_code(&mut errors, FIELD_CODE, &typed)
        };
        if form.check(errors)
            && let Some(proof) = proof
        {
            let challenge = challenge.with_value(|p| p.challenge.challenge.clone());
            let (code, recovery_code) = if recovery {
                (None, Some(proof))
            } else {
                (Some(proof), None)
            };
            verify.dispatch(TwoFactorLogin {
                challenge,
                code,
                recovery_code,
            });
        }
    };
    let switch = move |_| {
        pending.update(|p| {
            if let Some(p) = p {
                p.recovery = !recovery;
            }
        });
    };
    let (intro, label, name, autocomplete, inputmode, other) = if recovery {
        (
            "Enter one of the recovery codes you saved when you turned on two-factor authentication. Each works once.",
            "Recovery code",
            FIELD_RECOVERY,
            "off",
            "",
            "Use a code from the app instead",
        )
    } else {
        (
            "Enter the 6-digit code that your authenticator app shows for Microblog.",
            "Code",
            FIELD_CODE,
            "one-time-code",
            "numeric",
            "Use a recovery code instead",
        )
    };
    // Shown after a correct password, and anew after each switch between the two kinds of
    // code: either way the field is where the user continues.
    focus_later(name);
    view! {
        <div class="narrow">
            <h1 tabindex="-1">"Two-factor authentication"</h1>
            <form on:submit=submit novalidate>
                <FormAlert message=form.alert />
                <p>{intro}</p>
                <Field label=label name=name value=code errors=form.field(name)
                    autocomplete=autocomplete inputmode=inputmode required=true />
                <div class="actions">
                    <button type="submit" class="primary" disabled=move || busy.get()>
                        {move || if busy.get() { "Verifying…" } else { "Verify" }}
                    </button>
                    <button type="button" class="link-button" on:click=switch>{other}</button>
                </div>
            </form>
            <p>
                <button type="button" class="link-button" on:click=move |_| on_back.run(None)>
                    "Start over with your password"
                </button>
            </p>
        </div>
    }
}

const FIELD_CODE: &str = "code";
const FIELD_RECOVERY: &str = "recovery_code";

/// The code step for a challenge that came from elsewhere (a provider's sign-in, for an
/// account with 2FA). `on_back` leaves it, with a message for the login page.
pub fn two_factor_step(
    challenge: TwoFactorChallenge,
    on_back: Callback<Option<String>>,
) -> AnyView {
    let pending = RwSignal::new(Some(Pending::new(challenge)));
    (move || match pending.get() {
        Some(step) => crate::lazy::deferred(
            || load_code_step().boxed_local(),
            (step, pending, on_back),
            false,
        ),
        None => ().into_any(),
    })
    .into_any()
}
