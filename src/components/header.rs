use crate::nav::A;
use leptos::prelude::*;
use wire::User;

use super::Avatar;
use crate::routes::AppRoute;

/// The site header: the name, the main navigation, and the account links.
/// Nothing account-related shows while the session is being restored.
#[component]
pub fn Header(
    #[prop(into)] user: Signal<Option<User>>,
    /// `None` while restoring, as the session reports it.
    #[prop(into)]
    logged_in: Signal<Option<bool>>,
    #[prop(into)] logging_out: Signal<bool>,
    #[prop(into)] on_logout: Callback<()>,
) -> impl IntoView {
    let account = move || match logged_in.get() {
        None => None,
        Some(false) => Some(
            view! {
                <li><A href=AppRoute::Login.path()>"Log in"</A></li>
                <li><A href=AppRoute::Register.path()>"Register"</A></li>
            }
            .into_any(),
        ),
        Some(true) => user.get().map(|user| {
            view! {
                <li>
                    <A href=AppRoute::User(user.username.clone()).path() attr:class="nav-user">
                        <Avatar url=user.avatar_url.clone() size=24 />
                        <span>{user.username.clone()}</span>
                    </A>
                </li>
                <li>
                    <button
                        type="button"
                        class="link-button"
                        disabled=move || logging_out.get()
                        on:click=move |_| on_logout.run(())
                    >
                        {move || if logging_out.get() { "Logging out…" } else { "Log out" }}
                    </button>
                </li>
            }
            .into_any()
        }),
    };
    view! {
        <header class="site-header">
            <div class="header-inner">
                <A href=AppRoute::Feed.path() attr:class="brand">"Microblog"</A>
                <nav aria-label="Main">
                    <ul>
                        {move || {
                            (logged_in.get() == Some(true))
                                .then(|| {
                                    view! {
                                        <li><A href=AppRoute::Feed.path() exact=true>"Feed"</A></li>
                                        <li><A href=AppRoute::Explore.path()>"Explore"</A></li>
                                    }
                                })
                        }}
                        {account}
                    </ul>
                </nav>
                <ThemeSwitch />
            </div>
        </header>
    }
}

/// Light, dark, or the system's colours, remembered on this browser. The markup only: the
/// choice is js/boot.js's, which stores and applies it for this select as for the same one
/// in index.html's `boot-layout` (one listener on the document), so no storage or theme
/// code is in the wasm. It starts on the theme js/theme.js applied before the first paint.
#[component]
fn ThemeSwitch() -> impl IntoView {
    let chosen = document()
        .document_element()
        .and_then(|root| root.get_attribute("data-theme"));
    let chosen = chosen.as_deref().unwrap_or("system");
    // `selected` as a property, not an attribute: the markup stays the same whichever is
    // chosen.
    view! {
        <label class="theme-switch">
            <span class="visually-hidden">"Theme"</span>
            <select>
                <option value="system" prop:selected={chosen == "system"}>"System theme"</option>
                <option value="light" prop:selected={chosen == "light"}>"Light theme"</option>
                <option value="dark" prop:selected={chosen == "dark"}>"Dark theme"</option>
            </select>
        </label>
    }
}
