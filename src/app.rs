//! The app: the session and flash messages (provided once, as context), the layout, and
//! the router with its guards.

use leptos::prelude::*;
use leptos_router::components::{ProtectedRoute, Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::{NavigateOptions, path};

use crate::api::{Session, use_session};
use crate::components::{Clock, FlashList, Header};
use crate::flash::{Flashes, use_flashes};
use crate::pages::{
    ChangePasswordPage, EditPostPage, EditProfilePage, ExplorePage, FeedPage, ForgotPasswordPage,
    LoginPage, NotFoundPage, RegisterPage, ResetPasswordPage, SecurityPage, SessionsPage, UserPage,
};
use crate::routes::{AppRoute, safe_next};

#[component]
pub fn App() -> impl IntoView {
    let flashes = Flashes::new();
    provide_context(flashes);
    provide_context(Session::start(Some(flashes)));
    Clock::provide();
    view! {
        <Router>
            <Layout />
        </Router>
    }
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
    let search = window().location().search().unwrap_or_default();
    let next = search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("next="))
        .and_then(|next| js_sys::decode_uri_component(next).ok())
        .map(String::from);
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
    // Private pages: nothing renders while the session is restored (`None`), then either
    // the page or a redirect to the login page.
    let private = move || session.logged_in();
    let public_only = move || session.logged_in().map(|logged_in| !logged_in);
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
            <Routes fallback=NotFoundPage>
                <ProtectedRoute path=path!("/") view=FeedPage condition=private redirect_path=to_login />
                <ProtectedRoute path=path!("/explore") view=ExplorePage condition=private redirect_path=to_login />
                <ProtectedRoute path=path!("/user/:username") view=UserPage condition=private redirect_path=to_login />
                <ProtectedRoute path=path!("/posts/:id/edit") view=EditPostPage condition=private redirect_path=to_login />
                <ProtectedRoute path=path!("/settings/profile") view=EditProfilePage condition=private redirect_path=to_login />
                <ProtectedRoute path=path!("/settings/password") view=ChangePasswordPage condition=private redirect_path=to_login />
                <ProtectedRoute path=path!("/settings/security") view=SecurityPage condition=private redirect_path=to_login />
                <ProtectedRoute path=path!("/settings/sessions") view=SessionsPage condition=private redirect_path=to_login />
                <ProtectedRoute path=path!("/login") view=LoginPage condition=public_only redirect_path=from_login />
                <ProtectedRoute path=path!("/register") view=RegisterPage condition=public_only redirect_path=from_login />
                <ProtectedRoute path=path!("/forgot") view=ForgotPasswordPage condition=public_only redirect_path=from_login />
                // Not guarded: the token must leave the address bar at once, not after the
                // session is restored, and a reset works whoever is logged in here.
                <Route path=path!("/reset") view=ResetPasswordPage />
            </Routes>
        </main>
    }
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
