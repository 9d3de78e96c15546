//! Settings → Sign-in methods: the providers linked to the account, linking another,
//! unlinking (the server refuses the last way in), and a first password for an account
//! that was made by a provider.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::{LinkedProvider, OAuth2Provider, UpdateMe};

use super::form::FormState;
use super::set_title;
use crate::api::{ApiError, use_session};
use crate::components::{Field, FieldKind, FormAlert, Loading};
use crate::flash::use_flashes;
use crate::lazy::split;
use crate::validate;

split!(pub fn load_sign_in_methods / prefetch_sign_in_methods in settings: () =
    |()| view! { <SignInMethodsPage /> }.into_any());

type Loaded = Result<(Vec<LinkedProvider>, Vec<OAuth2Provider>), ApiError>;

#[component]
fn SignInMethodsPage() -> impl IntoView {
    set_title("Sign-in methods");
    let session = use_session();
    let flashes = use_flashes();
    let loaded = RwSignal::new(None::<Loaded>);
    let load = move || {
        spawn_local(async move {
            let client = session.client();
            let result = match client.linked_providers().await {
                Ok(linked) => client.oauth_providers().await.map(|all| (linked, all)),
                Err(err) => Err(err),
            };
            loaded.set(Some(result));
        });
    };
    load();
    let has_password = Memo::new(move |_| session.user().is_some_and(|u| u.has_password));
    let password = RwSignal::new(String::new());
    let link_form = FormState::new();
    let link = Action::new_local(move |provider: &String| {
        let provider = provider.clone();
        async move {
            let typed = password.get_untracked();
            let proof = has_password.get_untracked().then_some(typed);
            match session.client().start_link(&provider, proof).await {
                Ok(redirect) => {
                    password.set(String::new());
                    // A top-level navigation to the provider, which sends the browser
                    // back to the callback page.
                    let _ = window().location().assign(&redirect.url);
                }
                Err(err) => link_form.api_error(&err, &["password"]),
            }
        }
    });
    let unlink = Action::new_local(move |provider: &String| {
        let provider = provider.clone();
        async move {
            match session.client().unlink_provider(&provider).await {
                Ok(()) => {
                    flashes.success("The provider has been unlinked.");
                    load();
                }
                Err(err) => flashes.error(
                    err.description()
                        .map_or_else(|| err.to_string(), str::to_owned),
                ),
            }
        }
    });
    let busy = Signal::derive(move || link.pending().get() || unlink.pending().get());
    let list = move || match loaded.get() {
        None => view! { <Loading /> }.into_any(),
        Some(Err(err)) => view! { <p class="form-alert">{err.to_string()}</p> }.into_any(),
        Some(Ok((linked, all))) => {
            let linked_rows = linked
                .iter()
                .map(|p| {
                    let name = p.provider.clone();
                    let label = format!("Unlink {}", p.display_name);
                    let email = p
                        .email
                        .clone()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default();
                    view! {
                        <li>
                            <span>{p.display_name.clone()}{email}</span>
                            " "
                            <button type="button" disabled=move || busy.get()
                                on:click=move |_| { unlink.dispatch(name.clone()); }>
                                {label}
                            </button>
                        </li>
                    }
                })
                .collect_view();
            let others: Vec<OAuth2Provider> = all
                .into_iter()
                .filter(|p| !linked.iter().any(|l| l.provider == p.name))
                .collect();
            let none_linked = linked.is_empty();
            let link_buttons = others
                .iter()
                .map(|p| {
                    let name = p.name.clone();
                    let label = format!("Link {}", p.display_name);
                    view! {
                        <li>
                            <button type="button" class="primary" disabled=move || busy.get()
                                on:click=move |_| { link_form.clear(); link.dispatch(name.clone()); }>
                                {label}
                            </button>
                        </li>
                    }
                })
                .collect_view();
            let can_link = !others.is_empty();
            view! {
                <h2>"Linked providers"</h2>
                {if none_linked {
                    view! { <p>"No provider is linked to your account."</p> }.into_any()
                } else {
                    view! { <ul class="linked-providers">{linked_rows}</ul> }.into_any()
                }}
                {can_link.then(move || view! {
                    <h2>"Link another provider"</h2>
                    <FormAlert message=link_form.alert />
                    <Show when=move || has_password.get()>
                        <Field label="Your password" name="password" value=password
                            errors=link_form.field("password") kind=FieldKind::Password
                            autocomplete="current-password" required=true />
                    </Show>
                    <ul class="provider-list">{link_buttons}</ul>
                })}
            }
            .into_any()
        }
    };
    view! {
        <div class="narrow">
            <h1 tabindex="-1">"Sign-in methods"</h1>
            {list}
            <Show when=move || !has_password.get() && session.user().is_some()>
                <SetPassword />
            </Show>
        </div>
    }
}

/// A first password, for an account made by a provider (the sign-in must be recent).
#[component]
fn SetPassword() -> impl IntoView {
    let session = use_session();
    let flashes = use_flashes();
    let password = RwSignal::new(String::new());
    let password2 = RwSignal::new(String::new());
    let form = FormState::new();
    let save = Action::new_local(move |update: &UpdateMe| {
        let update = update.clone();
        async move {
            match session.client().update_me(&update).await {
                Ok(user) => {
                    password.set(String::new());
                    password2.set(String::new());
                    session.set_user(user);
                    flashes.success("Your password has been set: you can also log in with it.");
                }
                // The server's words (a sign-in that is not recent, a weak password) go
                // above the form.
                Err(err) => form.api_error(&err, &[]),
            }
        }
    });
    let pending = save.pending();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.clear();
        let (new, new2) = (password.get_untracked(), password2.get_untracked());
        if form.check(validate::password_reset(&new, &new2)) {
            save.dispatch(UpdateMe {
                password: Some(new),
                ..UpdateMe::default()
            });
        }
    };
    view! {
        <h2>"Set a password"</h2>
        <p>"Your account has no password yet. Set one to log in without a provider."</p>
        <form on:submit=submit novalidate>
            <FormAlert message=form.alert />
            <Field label="New password" name="new_password" value=password
                errors=form.field("new_password") kind=FieldKind::Password
                autocomplete="new-password" required=true />
            <Field label="New password again" name="new_password2" value=password2
                errors=form.field("new_password2") kind=FieldKind::Password
                autocomplete="new-password" required=true />
            <div class="actions">
                <button type="submit" class="primary" disabled=move || pending.get()>
                    {move || if pending.get() { "Saving…" } else { "Set password" }}
                </button>
            </div>
        </form>
    }
}
