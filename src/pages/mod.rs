//! The pages: each loads its data through the session's client and lays out components.
//! Only the login page (and the not-found page) are in the first download; every other
//! page is a `load_*` function that fetches its wasm chunk first (see `crate::lazy`), and
//! the chunks a visitor is likely to need next are fetched as soon as the app is idle.

mod edit_post;
mod edit_profile;
mod explore;
mod feed;
mod forgot;
mod form;
mod login;
#[cfg(all(test, target_arch = "wasm32"))]
mod login_tests;
mod not_found;
mod oauth;
mod oauth_callback;
mod paging;
mod password;
mod register;
mod reset;
mod security;
mod sessions;
mod sign_in_methods;
mod user;

pub use edit_post::load_edit_post;
pub use edit_profile::load_edit_profile;
pub use explore::load_explore;
pub use feed::{load_feed, prefetch_feed};
pub use forgot::load_forgot_password;
pub use login::LoginPage;
pub use not_found::NotFoundPage;
pub use oauth::callback_route as oauth_callback_route;
pub use password::load_change_password;
pub use register::{load_register, prefetch_register};
pub use reset::reset_route;
pub use security::load_security;
pub use sessions::load_sessions;
pub use sign_in_methods::load_sign_in_methods;
pub use user::load_user;

use crate::nav::use_location;
use leptos::prelude::*;
use wire::Post;

use self::paging::Pager;
use crate::api::use_session;
use crate::flash::use_flashes;
use crate::routes::{self, Page};

/// Sets the document title, which screen readers announce after navigation.
fn set_title(page: &str) {
    document().set_title(&format!("{page} · Microblog"));
}

/// Focuses the element with `id` once it is on screen (a few frames at most): after a form
/// step changes, keyboard and screen-reader users continue where the new step starts.
fn focus_later(id: &'static str) {
    fn attempt(id: &'static str, left: u32) {
        request_animation_frame(move || {
            use wasm_bindgen::JsCast;
            match document()
                .get_element_by_id(id)
                .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
            {
                Some(el) => {
                    let _ = el.focus();
                }
                None if left > 0 => attempt(id, left - 1),
                None => {}
            }
        });
    }
    attempt(id, 30);
}

/// The current path with its query, for "return here" links.
fn current_path() -> Signal<String> {
    let location = use_location();
    Signal::derive(move || {
        let search = location.search.get();
        if search.is_empty() {
            location.pathname.get()
        } else {
            format!("{}?{search}", location.pathname.get())
        }
    })
}

/// The parameter of `page` in the address, percent-decoded (the name of `/user/<name>`,
/// the id of `/posts/<id>/edit`), following the address while it stays on `page`. A page
/// being left keeps its last value rather than reading the next page's address.
fn path_param(page: Page) -> Memo<String> {
    let location = use_location();
    Memo::new(move |previous: Option<&String>| {
        location
            .pathname
            .with(|path| {
                routes::param(page, path).map(|raw| {
                    js_sys::decode_uri_component(raw).map_or_else(|_| raw.to_owned(), String::from)
                })
            })
            .or_else(|| previous.cloned())
            .unwrap_or_default()
    })
}

/// Deleting a post from a list: calls the API, then drops it from the list shown.
/// Also returns the ids of the posts being deleted, for their loading state.
fn post_deleter(pager: Pager<Post>) -> (Callback<i64>, RwSignal<Vec<i64>>) {
    let session = use_session();
    let flashes = use_flashes();
    let deleting = RwSignal::new(Vec::<i64>::new());
    let delete = Action::new_local(move |id: &i64| {
        let id = *id;
        async move {
            let result = session.client().delete_post(id).await;
            deleting.update(|ids| ids.retain(|d| *d != id));
            match result {
                Ok(()) => {
                    pager.remove(|post| post.id == id);
                    flashes.success("Your post has been deleted.");
                }
                Err(err) => flashes.error(format!("The post was not deleted. {err}")),
            }
        }
    });
    let on_delete = Callback::new(move |id| {
        deleting.update(|ids| ids.push(id));
        delete.dispatch(id);
    });
    (on_delete, deleting)
}

/// The "Posts" page heading layout shared by the post-list pages.
#[component]
fn PostsSection(pager: Pager<Post>, empty_text: &'static str) -> impl IntoView {
    let session = use_session();
    let (on_delete, deleting) = post_deleter(pager);
    let me = Signal::derive(move || session.user_id());
    view! {
        <crate::components::PostList posts=pager.items me back=current_path() on_delete deleting />
        <crate::components::ListFooter
            status=pager.status
            is_empty=Signal::derive(move || pager.items.with(Vec::is_empty))
            empty_text
            on_more=move |()| pager.more()
        />
    }
}
