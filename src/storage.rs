//! What the SPA keeps in Web Storage for a person, and nothing else ever goes there: a script
//! in the page could read it, so it holds no token, code, password or secret (the session
//! stays in memory, `api::session`). It holds the post they were writing (`sessionStorage`,
//! this tab only): it survives a reload or a visit to another page, and goes when the post
//! is sent or the session ends. The theme they chose is kept by the header's switch in
//! `js/boot.js` (`localStorage`, for good; `js/theme.js` applies it before the first paint),
//! so its code is not in the wasm.
//!
//! A browser that refuses storage (a private mode, a full quota) simply remembers nothing.

use gloo_storage::{SessionStorage, Storage};

const DRAFT_KEY: &str = "microblog-draft";

/// The post this tab was writing, or an empty string.
pub fn draft() -> String {
    SessionStorage::get(DRAFT_KEY).unwrap_or_default()
}

/// Remembers what the post box holds (an empty box forgets the draft).
pub fn save_draft(text: &str) {
    if text.is_empty() {
        forget_draft();
    } else {
        let _ = SessionStorage::set(DRAFT_KEY, text);
    }
}

/// After the post is sent, and when the session ends.
pub fn forget_draft() {
    SessionStorage::delete(DRAFT_KEY);
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn the_draft_is_kept_until_forgotten() {
        save_draft("half a thought");
        assert_eq!(draft(), "half a thought");
        save_draft("");
        assert_eq!(draft(), "");
        save_draft("again");
        forget_draft();
        assert_eq!(draft(), "");
        assert_eq!(SessionStorage::raw().get_item(DRAFT_KEY).unwrap(), None);
    }
}
