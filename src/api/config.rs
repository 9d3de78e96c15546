//! Where the API lives.
//!
//! The base URL comes from `<meta name="microblog-api-base" content="...">` in `index.html`,
//! read once at start-up. An empty value (the default) means the API is on the same origin
//! as the SPA. Because it is a plain tag in the HTML rather than a compile-time constant, the
//! same `dist/` can be deployed against any API by editing that one tag (or having the
//! server or CDN rewrite it) without rebuilding the wasm. Remember the CSP's `connect-src`
//! and `img-src` must then name that origin too.

use std::cell::RefCell;

/// The `name` of the `<meta>` element that carries the API base URL.
pub const API_BASE_META: &str = "microblog-api-base";

thread_local! {
    static BASE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Reads the API base from the document and remembers it for [`resolve`].
pub fn load_from_document() -> String {
    let content = leptos::prelude::document()
        .query_selector(&format!("meta[name=\"{API_BASE_META}\"]"))
        .ok()
        .flatten()
        .and_then(|meta| meta.get_attribute("content"))
        .unwrap_or_default();
    let base = normalize_base(&content);
    BASE.with(|b| *b.borrow_mut() = base.clone());
    base
}

/// `https://api.example.com/` and `https://api.example.com` mean the same base; blank
/// means same origin.
pub fn normalize_base(raw: &str) -> String {
    raw.trim().trim_end_matches('/').to_owned()
}

/// Turns a path the API returned (`/api/avatars/...`) into a URL the browser can load.
pub fn resolve(url: &str) -> String {
    if url.starts_with('/') && !url.starts_with("//") {
        BASE.with(|b| format!("{}{url}", b.borrow()))
    } else {
        url.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_is_trimmed_of_blanks_and_trailing_slashes() {
        assert_eq!(normalize_base(""), "");
        assert_eq!(normalize_base("  "), "");
        assert_eq!(
            normalize_base("https://api.example.com/"),
            "https://api.example.com"
        );
        assert_eq!(
            normalize_base(" https://api.example.com "),
            "https://api.example.com"
        );
    }

    #[test]
    fn relative_api_paths_are_resolved_against_the_base() {
        assert_eq!(resolve("/api/avatars/x?d=1"), "/api/avatars/x?d=1");
        assert_eq!(resolve("https://cdn.example/x"), "https://cdn.example/x");
    }
}
