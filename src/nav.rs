//! Moving between pages without loading the document again: the address as signals, links
//! that the app follows itself, navigation from code, and the browser's back and forward.
//!
//! Ours rather than `leptos_router`'s: the route table is ours already (`routes.rs`), and
//! what the router still did here (its navigation, link handling, history and URL parsing,
//! about 14 K of code before compression) sat in the login page's first download for the
//! four small jobs below. The names are the router's, so the pages read the same.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The address as the address bar has it: path, query (without its `?`) and fragment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Address {
    path: String,
    search: String,
    hash: String,
}

impl Address {
    fn current() -> Self {
        let location = window().location();
        Self {
            path: location.pathname().unwrap_or_default(),
            search: location
                .search()
                .unwrap_or_default()
                .trim_start_matches('?')
                .to_owned(),
            hash: location.hash().unwrap_or_default(),
        }
    }

    fn full(&self) -> String {
        let query = if self.search.is_empty() { "" } else { "?" };
        format!("{}{query}{}{}", self.path, self.search, self.hash)
    }
}

/// Where the app is, for pages to follow.
#[derive(Clone, Copy)]
pub struct Location {
    pub pathname: Memo<String>,
    /// The query, without its `?`.
    pub search: Memo<String>,
}

/// What the address's query says, key by key, decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// `search` without its `?`; `+` is a space, as in a form's query.
    fn parse(search: &str) -> Self {
        let decode = |raw: &str| {
            let raw = raw.replace('+', " ");
            js_sys::decode_uri_component(&raw).map_or(raw, String::from)
        };
        Self(
            search
                .split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(key), decode(value))
                })
                .collect(),
        )
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }
}

/// How to navigate.
#[derive(Clone, Copy, Debug)]
pub struct NavigateOptions {
    /// Replace the current history entry instead of adding one (Back skips it).
    pub replace: bool,
    /// Scroll to the top of the new page (or to its fragment's element).
    pub scroll: bool,
}

impl Default for NavigateOptions {
    fn default() -> Self {
        Self {
            replace: false,
            scroll: true,
        }
    }
}

/// The one navigation state of the app, as context.
#[derive(Clone, Copy)]
struct Nav {
    address: RwSignal<Address>,
    location: Location,
    query: Memo<Query>,
}

fn use_nav() -> Nav {
    expect_context()
}

impl Nav {
    /// Goes to `to`: a path of this app (with its query and fragment), or anything else,
    /// which the browser then loads.
    fn go(&self, to: &str, options: NavigateOptions) {
        let window = window();
        if !to.starts_with('/') || to.starts_with("//") {
            let _ = window.location().set_href(to);
            return;
        }
        if let Ok(history) = window.history() {
            let here = Address::current().full();
            let _ = if options.replace {
                history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(to))
            } else if to != here {
                history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(to))
            } else {
                Ok(())
            };
        }
        // What the browser made of it (its own encoding), for the pages to follow.
        self.arrive();
        scroll(options.scroll);
    }

    fn arrive(&self) {
        let now = Address::current();
        if self.address.with_untracked(|before| *before != now) {
            self.address.set(now);
        }
    }

    /// A click on a link of this app, followed in the page: the browser's own way for a
    /// click with a modifier key (a new tab or window), a link with a `target`, a download,
    /// `rel="external"`, another origin, or a fragment of this very page (the browser's
    /// jump also moves the focus, which a skip link needs).
    fn follow(&self, ev: web_sys::MouseEvent) {
        if ev.default_prevented()
            || ev.button() != 0
            || ev.meta_key()
            || ev.alt_key()
            || ev.ctrl_key()
            || ev.shift_key()
        {
            return;
        }
        let Some(link) = ev
            .target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
            .and_then(|element| element.closest("a[href]").ok().flatten())
            .and_then(|element| element.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        else {
            return;
        };
        if !link.target().is_empty()
            || link.has_attribute("download")
            || link
                .rel()
                .split_ascii_whitespace()
                .any(|rel| rel == "external")
        {
            return;
        }
        let here = window().location();
        if link.origin() != here.origin().unwrap_or_default() {
            return;
        }
        let (path, search, hash) = (link.pathname(), link.search(), link.hash());
        if !hash.is_empty()
            && path == here.pathname().unwrap_or_default()
            && search == here.search().unwrap_or_default()
        {
            return;
        }
        ev.prevent_default();
        self.go(&format!("{path}{search}{hash}"), NavigateOptions::default());
    }
}

/// To the element the fragment names, or else (if asked) to the top.
fn scroll(to_top: bool) {
    let hash = window().location().hash().unwrap_or_default();
    if let Some(id) = hash.strip_prefix('#').filter(|id| !id.is_empty()) {
        let id = js_sys::decode_uri_component(id).map_or_else(|_| id.to_owned(), String::from);
        if let Some(element) = document().get_element_by_id(&id) {
            element.scroll_into_view();
            return;
        }
    }
    if to_top {
        window().scroll_to_with_x_and_y(0.0, 0.0);
    }
}

/// Provides the navigation state to `children`, follows the links clicked in the page and
/// the browser's back and forward.
#[component]
pub fn Router(children: Children) -> impl IntoView {
    let address = RwSignal::new(Address::current());
    let pathname = Memo::new(move |_| address.with(|a| a.path.clone()));
    let search = Memo::new(move |_| address.with(|a| a.search.clone()));
    let nav = Nav {
        address,
        location: Location { pathname, search },
        query: Memo::new(move |_| search.with(|s| Query::parse(s))),
    };
    provide_context(nav);
    let back_and_forward = window_event_listener(leptos::ev::popstate, move |_| nav.arrive());
    let clicks = window_event_listener(leptos::ev::click, move |ev| nav.follow(ev));
    on_cleanup(move || {
        back_and_forward.remove();
        clicks.remove();
    });
    children()
}

/// The address, as signals.
pub fn use_location() -> Location {
    use_nav().location
}

/// The address's query.
pub fn use_query_map() -> Memo<Query> {
    use_nav().query
}

/// Navigation from code: `navigate("/path?query", NavigateOptions::default())`.
pub fn use_navigate() -> impl Fn(&str, NavigateOptions) + Clone + 'static {
    let nav = use_nav();
    move |to, options| nav.go(to, options)
}

/// Goes to `path` as soon as it is rendered.
#[component]
pub fn Redirect(#[prop(into)] path: String) -> impl IntoView {
    use_navigate()(&path, NavigateOptions::default());
}

/// A link of the app, marked `aria-current="page"` while the app is on its page: on its
/// path exactly with `exact`, otherwise also on the paths below it (`/user/susan` for
/// `/user`). The query and fragment of `href` play no part.
#[component]
pub fn A(
    #[prop(into)] href: Signal<String>,
    #[prop(optional)] exact: bool,
    children: Children,
) -> impl IntoView {
    let pathname = use_location().pathname;
    let current = move || {
        let href = href.get();
        let target = href.split(['?', '#']).next().unwrap_or_default();
        pathname
            .with(|path| is_current(target, path, exact))
            .then_some("page")
    };
    view! {
        <a href=href aria-current=current>
            {children()}
        </a>
    }
}

/// Whether the app on `path` is on the page of a link to `target`: the same path, or
/// (unless `exact`) a path below it, segment by segment (`/user` is not current on
/// `/users`, `/` only on `/`).
fn is_current(target: &str, path: &str, exact: bool) -> bool {
    if exact {
        return path == target;
    }
    let mut wanted = target.split('/');
    let same_start = path
        .split('/')
        .zip(wanted.by_ref())
        .enumerate()
        .all(|(i, (have, want))| have == want || (want.is_empty() && i > 1));
    same_start && matches!(wanted.next(), None | Some(""))
}

#[cfg(test)]
mod tests {
    use super::is_current;

    #[test]
    fn a_link_is_current_on_its_page_and_below_it() {
        assert!(is_current("/explore", "/explore", false));
        assert!(is_current("/user/susan", "/user/susan", false));
        assert!(is_current("/settings", "/settings/profile", false));
        assert!(!is_current("/user", "/users", false));
        assert!(!is_current("/user/susan", "/user", false));
        assert!(!is_current("/explore", "/", false));
    }

    #[test]
    fn the_root_is_current_only_on_itself() {
        assert!(is_current("/", "/", false));
        assert!(!is_current("/", "/explore", false));
        assert!(is_current("/", "/", true));
    }

    #[test]
    fn exact_wants_the_same_path() {
        assert!(is_current("/settings", "/settings", true));
        assert!(!is_current("/settings", "/settings/profile", true));
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests {
    use super::Query;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn the_query_is_decoded_key_by_key() {
        let query = Query::parse("next=%2Fuser%2Fsusan%3Flist%3Dfollowers&list=a+b&empty=&flag");
        assert_eq!(
            query.get("next").as_deref(),
            Some("/user/susan?list=followers")
        );
        assert_eq!(query.get("list").as_deref(), Some("a b"));
        assert_eq!(query.get("empty").as_deref(), Some(""));
        assert_eq!(query.get("flag").as_deref(), Some(""));
        assert_eq!(query.get("missing"), None);
        // The first of two, and a broken escape as it was written.
        assert_eq!(Query::parse("a=1&a=2").get("a").as_deref(), Some("1"));
        assert_eq!(
            Query::parse("x=%E0%A4%A").get("x").as_deref(),
            Some("%E0%A4%A")
        );
    }
}
