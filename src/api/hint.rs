//! Whether this browser may hold a session, without asking the server.
//!
//! The server sets a script-readable `session_hint` cookie beside the HttpOnly refresh
//! cookie, with the same lifetime, and clears both together. Without it, the start-up
//! refresh would only earn a 401 (and a console error), so it is skipped. The hint proves
//! nothing: with it, the refresh still decides.

use wasm_bindgen::JsValue;

/// The cookie's name, as the server sets it.
const HINT: &str = "session_hint";

/// Whether to try the start-up refresh. With the API on another origin its hint cookie is
/// not this page's to read, so a session is assumed possible.
pub fn may_have_session(api_base: &str) -> bool {
    let page_origin = leptos::prelude::window()
        .location()
        .origin()
        .unwrap_or_default();
    if !api_base.is_empty() && api_base != page_origin {
        return true;
    }
    let cookies = js_sys::Reflect::get(&leptos::prelude::document(), &JsValue::from_str("cookie"))
        .ok()
        .and_then(|c| c.as_string())
        .unwrap_or_default();
    has_hint(&cookies)
}

/// Whether `document.cookie` text carries a non-empty hint.
fn has_hint(cookies: &str) -> bool {
    cookies
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(name, value)| name == HINT && !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::has_hint;

    #[test]
    fn the_hint_is_one_named_cookie_with_a_value() {
        assert!(has_hint("session_hint=1"));
        assert!(has_hint("theme=dark; session_hint=1; other=x"));
        assert!(!has_hint(""));
        assert!(!has_hint("session_hint="));
        assert!(!has_hint("my_session_hint=1; session_hintx=1"));
        assert!(!has_hint("refresh_token=abc"));
    }
}
