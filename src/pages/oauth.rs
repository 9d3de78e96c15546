//! Signing in with a provider: the "Continue with …" links of the login and register pages
//! and the callback route. The first download holds only the fetch of the provider list
//! and the callback's first step; the links and the callback page are in a chunk.
//!
//! The callback takes `code`, `state` and `error` out of the address bar at once (before
//! its chunk arrives), as the reset page does with its token: they live in memory only.
//! Where to go afterwards (`next`, a path inside the app, not a secret) waits in
//! sessionStorage while the browser is at the provider.

use crate::nav::NavigateOptions;
use crate::nav::use_navigate;
use futures::FutureExt as _;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::oauth_callback::CallbackPage;
use crate::api::{ProviderList, use_session};
use crate::lazy::split;

/// The sessionStorage key of the path to land on after the provider.
pub const NEXT_KEY: &str = "microblog-oauth-next";

/// The "Continue with …" links of the login and register pages, last on the page. The list
/// is asked for at once, by the first download, and the links come in their own small chunk
/// (`providers`) fetched alongside: they appear once both are here, below everything else,
/// so nothing on the page moves. Nothing shows when the server offers no provider, or when
/// either cannot be fetched (a password still works).
pub fn provider_links(next: Signal<Option<String>>) -> AnyView {
    let session = use_session();
    let list = RwSignal::new(None::<ProviderList>);
    // Asked once the page is on screen, like the chunk that shows the answer.
    crate::lazy::after_paint(move || {
        spawn_local(async move {
            if let Ok(answer) = session.client().oauth_provider_list().await {
                let _ = list.try_set(Some(answer));
            }
        })
    });
    crate::lazy::optional(|| load_provider_buttons().boxed_local(), (list, next))
}

split!(fn load_provider_buttons / prefetch_provider_buttons in providers:
    (RwSignal<Option<ProviderList>>, Signal<Option<String>>) =
    |(list, next)| view! { <ProviderButtons list next /> }.into_any());

/// One link per provider the server offers; nothing when it offers none.
#[component]
fn ProviderButtons(
    /// The server's list, once it has answered.
    list: RwSignal<Option<ProviderList>>,
    /// Where to land afterwards (`?next=`).
    next: Signal<Option<String>>,
) -> impl IntoView {
    let session = use_session();
    move || {
        let list = list.with(|list| list.as_ref().map(ProviderList::parse))?;
        (!list.is_empty()).then(|| {
            let buttons = list
                .into_iter()
                .map(|p| {
                    let href = session.client().oauth_sign_in_url(&p.name);
                    let remember = move |_| remember_next(next.get_untracked().as_deref());
                    view! {
                        <li>
                            // rel="external": a real navigation, which the router must not take over.
                            <a class="button" href=href rel="external" on:click=remember>
                                {format!("Continue with {}", p.display_name)}
                            </a>
                        </li>
                    }
                })
                .collect_view();
            view! {
                <div class="providers">
                    <p>"Or use an account you already have:"</p>
                    <ul class="provider-list">{buttons}</ul>
                </div>
            }
        })
    }
}

fn storage() -> Option<web_sys::Storage> {
    window().session_storage().ok().flatten()
}

/// Keeps `next` for the callback page (or forgets an old one).
pub fn remember_next(next: Option<&str>) {
    if let Some(storage) = storage() {
        let _ = match next {
            Some(next) => storage.set_item(NEXT_KEY, next),
            None => storage.remove_item(NEXT_KEY),
        };
    }
}

/// Takes the remembered `next` out of storage.
pub fn take_next() -> Option<String> {
    let storage = storage()?;
    let next = storage.get_item(NEXT_KEY).ok().flatten();
    let _ = storage.remove_item(NEXT_KEY);
    next
}

/// What the provider sent back to the callback page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallbackParams {
    pub provider: String,
    pub code: Option<String>,
    pub state: Option<String>,
    /// The provider's refusal (`access_denied` when the person said no).
    pub error: Option<String>,
}

/// Reads the callback's query string.
pub fn parse_callback(provider: &str, search: &str) -> CallbackParams {
    let mut callback = CallbackParams {
        provider: provider.to_owned(),
        ..CallbackParams::default()
    };
    for pair in search.trim_start_matches('?').split('&') {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        let value = js_sys::decode_uri_component(&value.replace('+', " "))
            .ok()
            .map(String::from)
            .filter(|v| !v.is_empty());
        match key {
            "code" => callback.code = value,
            "state" => callback.state = value,
            "error" => callback.error = value,
            _ => {}
        }
    }
    callback
}

/// `/oauth2/:provider/callback`: the query leaves the address bar before anything else.
pub fn callback_route() -> AnyView {
    let location = window().location();
    let path = location.pathname().unwrap_or_default();
    let provider = path
        .strip_prefix("/oauth2/")
        .and_then(|rest| rest.strip_suffix("/callback"))
        .unwrap_or_default()
        .to_owned();
    let search = location.search().unwrap_or_default();
    let callback = parse_callback(&provider, &search);
    if !search.is_empty() {
        let navigate = use_navigate();
        queue_microtask(move || {
            navigate(
                &path,
                NavigateOptions {
                    replace: true,
                    scroll: false,
                },
            );
        });
    }
    crate::lazy::deferred(|| load_callback().boxed_local(), callback, false)
}

split!(fn load_callback / prefetch_callback in entry: CallbackParams =
    |callback| view! { <CallbackPage callback /> }.into_any());
