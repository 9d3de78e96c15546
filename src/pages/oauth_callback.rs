//! The page the provider sends the browser back to: finishes the flow with the server,
//! then lands where the person was going; or says clearly why not, with a way back.

use crate::nav::{A, Redirect};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::{OAuth2Code, TwoFactorChallenge};

use super::oauth::{CallbackParams, take_next};
use super::set_title;
use crate::api::{OAuthOutcome, use_session};
use crate::components::{FormAlert, Loading};
use crate::flash::use_flashes;
use crate::routes::{AppRoute, safe_next};

const MISSING: &str = "This page finishes signing in with a provider, but the provider's answer is missing. Start again.";

#[derive(Clone)]
enum Status {
    Working,
    Failed(String),
    TwoFactor(TwoFactorChallenge),
    /// Done: on to this path (the address bar keeps no query of the callback).
    Go(String),
}

/// What the provider's `error` means for a person.
pub fn refusal_message(error: &str) -> String {
    match error {
        "access_denied" => {
            "You did not allow the provider to sign you in, so you are not signed in.".into()
        }
        code if code.chars().all(|c| c.is_ascii_lowercase() || c == '_') => {
            format!(
                "The provider could not sign you in ({code}). Try again, or log in with a password."
            )
        }
        _ => "The provider could not sign you in. Try again, or log in with a password.".into(),
    }
}

#[component]
pub fn CallbackPage(callback: CallbackParams) -> impl IntoView {
    set_title("Signing in");
    let session = use_session();
    let flashes = use_flashes();
    let next = safe_next(take_next().as_deref(), &AppRoute::Feed);
    let status = RwSignal::new(Status::Working);
    match (callback.error, callback.code, callback.state) {
        (Some(error), _, _) => status.set(Status::Failed(refusal_message(&error))),
        (None, Some(code), Some(state)) => {
            let provider = callback.provider;
            let next = next.clone();
            spawn_local(async move {
                let code = OAuth2Code { code, state };
                match session.finish_oauth(&provider, &code).await {
                    Ok(OAuthOutcome::LoggedIn) => status.set(Status::Go(next)),
                    Ok(OAuthOutcome::TwoFactor(challenge)) => {
                        status.set(Status::TwoFactor(challenge));
                    }
                    Ok(OAuthOutcome::Linked(linked)) => {
                        flashes.success(format!(
                            "{} is now linked: you can sign in with it.",
                            linked.display_name
                        ));
                        status.set(Status::Go(AppRoute::SignInMethods.path()));
                    }
                    Err(err) => status.set(Status::Failed(
                        err.description()
                            .map_or_else(|| err.to_string(), str::to_owned),
                    )),
                }
            });
        }
        _ => status.set(Status::Failed(MISSING.into())),
    }
    // After the code step of a 2FA account: on to where the person was going.
    Effect::new(move |_| {
        if matches!(status.get(), Status::TwoFactor(_)) && session.logged_in() == Some(true) {
            status.set(Status::Go(next.clone()));
        }
    });
    let back_to_login = Callback::new(move |message: Option<String>| {
        if let Some(message) = message {
            flashes.info(message);
        }
        status.set(Status::Go(AppRoute::Login.path()));
    });
    move || match status.get() {
        Status::Working => view! {
            <div class="narrow">
                <h1 tabindex="-1">"Signing in"</h1>
                <Loading />
            </div>
        }
        .into_any(),
        Status::TwoFactor(challenge) => super::login::two_factor_step(challenge, back_to_login),
        Status::Go(path) => view! { <Redirect path /> }.into_any(),
        Status::Failed(message) => {
            let logged_in = session.logged_in() == Some(true);
            let alert = Signal::derive(move || Some(message.clone()));
            view! {
                <div class="narrow">
                    <h1 tabindex="-1">"Not signed in"</h1>
                    <FormAlert message=alert />
                    <p>
                        {if logged_in {
                            view! { <A href=AppRoute::SignInMethods.path()>"Back to sign-in methods"</A> }.into_any()
                        } else {
                            view! { <A href=AppRoute::Login.path()>"Back to the login page"</A> }.into_any()
                        }}
                    </p>
                </div>
            }
            .into_any()
        }
    }
}
