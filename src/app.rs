//! The app: the session and flash messages (provided once, as context), the layout, and
//! the pages of the route table (`routes::Page`) with their guards.

use leptos::prelude::*;

use crate::api::{Session, use_session};
use crate::components::{Clock, FlashList, Header};
use crate::flash::{Flashes, use_flashes};
use crate::lazy::lazy_page;
use crate::nav::{NavigateOptions, Redirect, Router, use_location, use_navigate, use_query_map};
use crate::pages::{
    LoginPage, NotFoundPage, load_change_password, load_edit_post, load_edit_profile, load_explore,
    load_feed, load_forgot_password, load_register, load_security, load_sessions,
    load_sign_in_methods, load_user, oauth_callback_route, prefetch_feed, prefetch_register,
    reset_route,
};
use crate::routes::{AppRoute, Page, safe_next};

#[component]
pub fn App() -> impl IntoView {
    let flashes = Flashes::new();
    provide_context(flashes);
    let session = Session::start(Some(flashes));
    provide_context(session);
    Clock::provide();
    prefetch_likely(session);
    view! {
        <Router>
            <Layout />
        </Router>
    }
}

/// Fetches the chunks a visitor is likely to need next, so that following a link rarely
/// waits for one. The first download holds only the login page; once the session is known,
/// nothing here runs before the page has been painted, so none of it delays the first form.
/// - A browser that may hold a session reloads onto the page it was on: the chunk of the
///   pages that show posts is fetched at once, alongside the start-up refresh rather than
///   after it.
/// - Once the session is known: that chunk in any case (it is where a login leads), and for
///   a logged-out visitor the chunk the login is sent with (`api::flows`), then the chunk of
///   the other entry pages (register, forgot password, the code step of a two-factor login).
fn prefetch_likely(session: Session) {
    fn fetch<F: std::future::Future + 'static>(prefetch: fn() -> F) {
        // A failed prefetch costs nothing: the page fetches its chunk again when shown.
        leptos::task::spawn_local(async move {
            let _ = prefetch().await;
        });
    }
    let path = window().location().pathname().unwrap_or_default();
    if session.logged_in().is_none()
        && (path == "/" || path == "/explore" || path.starts_with("/user/"))
    {
        fetch(prefetch_feed);
    }
    let known = Memo::new(move |_| session.logged_in());
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        let Some(logged_in) = known.get() else {
            return false;
        };
        crate::lazy::after_paint(move || {
            fetch(prefetch_feed);
            if !logged_in {
                // What the login form is sent with, then the other entry pages: after it,
                // so as not to share the bandwidth with it (a person may type fast).
                leptos::task::spawn_local(async move {
                    crate::api::flows::prefetch().await;
                    let _ = prefetch_register().await;
                });
            }
        });
        true
    });
}

/// The route guard. Not the router's `ProtectedRoute`: that wraps every route in its own
/// `<Transition>`, whose suspense machinery the first download then carries for nothing
/// (the condition is a signal, never a pending resource).
fn guarded(private: bool, page: fn() -> AnyView) -> AnyView {
    let session = use_session();
    // Only a change of the answer re-renders (a refreshed token keeps the page as it is).
    let logged_in = Memo::new(move |_| session.logged_in());
    (move || match logged_in.get() {
        None => ().into_any(),
        Some(logged_in) if logged_in == private => page(),
        Some(_) => {
            let path = if private { to_login() } else { from_login() };
            view! { <Redirect path /> }.into_any()
        }
    })
    .into_any()
}

/// Where a logged-out visitor to a private page goes: the login page, which returns here.
fn to_login() -> String {
    let location = window().location();
    let here = format!(
        "{}{}",
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default()
    );
    AppRoute::Login.with_next(&here)
}

/// Where a logged-in visitor to the login or register page goes: `?next=`, or the feed.
fn from_login() -> String {
    let next = use_query_map()
        .with_untracked(|query| query.get("next"))
        // Back to the login or register page would loop (a logout that raced its own
        // redirect leaves `/login?next=/login`): the feed instead.
        .filter(|next| {
            let path = next.split(['?', '#']).next().unwrap_or_default();
            path != AppRoute::Login.path() && path != AppRoute::Register.path()
        });
    safe_next(next.as_deref(), &AppRoute::Feed)
}

#[component]
fn Layout() -> impl IntoView {
    let session = use_session();
    let flashes = use_flashes();
    let navigate = use_navigate();
    let logout = Action::new_local(move |()| {
        let navigate = navigate.clone();
        async move {
            match session.logout().await {
                Ok(()) => {
                    navigate(
                        &AppRoute::Login.path(),
                        NavigateOptions {
                            replace: true,
                            ..NavigateOptions::default()
                        },
                    );
                    flashes.info("You have been logged out.");
                }
                Err(err) => flashes.error(format!("You are still logged in. {err}")),
            }
        }
    });
    FocusAfterNavigation();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <Header
            user=Signal::derive(move || session.user())
            logged_in=Signal::derive(move || session.logged_in())
            logging_out=logout.pending()
            on_logout=move |()| {
                logout.dispatch(());
            }
        />
        <FlashList messages=flashes.messages() on_dismiss=move |id| flashes.dismiss(id) />
        <main id="main" tabindex="-1">
            {pages()}
        </main>
    }
}

/// The page for the address, from the route table. A new page is rendered only when the
/// address leads to another page: a change of query (`?list=`) or of parameter
/// (`/user/<name>`) keeps it, and the page follows the address itself.
fn pages() -> impl IntoView {
    let location = use_location();
    let page = Memo::new(move |_| location.pathname.with(|path| Page::of(path)));
    move || page_view(page.get())
}

/// A page's view. Private pages are for logged-in visitors only; login, register and
/// forgot-password for logged-out ones.
fn page_view(page: Page) -> AnyView {
    match page {
        Page::Feed => guarded(true, lazy_page!(load_feed)),
        Page::Explore => guarded(true, lazy_page!(load_explore)),
        Page::User => guarded(true, lazy_page!(load_user)),
        Page::EditPost => guarded(true, lazy_page!(load_edit_post)),
        Page::EditProfile => guarded(true, lazy_page!(load_edit_profile)),
        Page::ChangePassword => guarded(true, lazy_page!(load_change_password)),
        Page::Security => guarded(true, lazy_page!(load_security)),
        Page::Sessions => guarded(true, lazy_page!(load_sessions)),
        Page::SignInMethods => guarded(true, lazy_page!(load_sign_in_methods)),
        Page::Login => guarded(false, login_page),
        Page::Register => guarded(false, lazy_page!(load_register)),
        Page::ForgotPassword => guarded(false, lazy_page!(load_forgot_password)),
        // Not guarded: the token must leave the address bar at once (pages/reset.rs), not
        // after the session is restored, and a reset works whoever is logged in here.
        Page::ResetPassword => reset_route(),
        // Not guarded either: it logs in, or links a provider to the session that started
        // it; it takes `code` and `state` out of the address the same way.
        Page::OAuthCallback => oauth_callback_route(),
        Page::NotFound => NotFoundPage().into_any(),
    }
}

fn login_page() -> AnyView {
    LoginPage().into_any()
}

/// After each client-side navigation, moves focus to the new page's heading, so keyboard
/// and screen-reader users start reading the new page (not the link they left).
#[allow(non_snake_case)]
fn FocusAfterNavigation() {
    let location = use_location();
    Effect::new(move |previous: Option<String>| {
        let path = location.pathname.get();
        if previous.is_some_and(|previous| previous != path) {
            focus_heading(0);
        }
        path
    });
}

/// Focuses `main h1`, waiting a few frames for a page that is still rendering.
fn focus_heading(attempt: u32) {
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        let heading = document()
            .query_selector("main h1")
            .ok()
            .flatten()
            .and_then(|h| h.dyn_into::<web_sys::HtmlElement>().ok());
        match heading {
            Some(heading) => {
                let _ = heading.focus();
            }
            None if attempt < 30 => focus_heading(attempt + 1),
            None => {}
        }
    });
}
