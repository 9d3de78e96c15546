//! Everything the SPA keeps in Web Storage, and nothing else ever goes there: a script in the
//! page could read it, so it holds no token, code, password or secret (the session stays in
//! memory, `api::session`). What it holds is what a person expects the site to remember:
//! - the theme they chose (`localStorage`, for good; `js/theme.js` applies it before the
//!   first paint);
//! - the post they were writing (`sessionStorage`, this tab only): it survives a reload or a
//!   visit to another page, and goes when the post is sent or the session ends.
//!
//! A browser that refuses storage (a private mode, a full quota) simply remembers nothing.

use gloo_storage::{LocalStorage, SessionStorage, Storage};

/// The key `js/theme.js` reads too.
const THEME_KEY: &str = "microblog-theme";
const DRAFT_KEY: &str = "microblog-draft";

/// The colour scheme: the system's, or one chosen in the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    System,
    Light,
    Dark,
}

impl Theme {
    /// The value stored, and `<html data-theme>`'s (none for the system's).
    pub fn name(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn from_name(name: &str) -> Theme {
        match name {
            "light" => Theme::Light,
            "dark" => Theme::Dark,
            _ => Theme::System,
        }
    }
}

/// The theme chosen on this browser.
pub fn theme() -> Theme {
    LocalStorage::get::<String>(THEME_KEY).map_or(Theme::System, |name| Theme::from_name(&name))
}

/// Applies `theme` to the page at once and remembers it.
pub fn set_theme(theme: Theme) {
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = match theme {
            Theme::System => root.remove_attribute("data-theme"),
            _ => root.set_attribute("data-theme", theme.name()),
        };
    }
    match theme {
        Theme::System => LocalStorage::delete(THEME_KEY),
        _ => {
            let _ = LocalStorage::set(THEME_KEY, theme.name());
        }
    }
}

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

    fn attribute() -> Option<String> {
        leptos::prelude::document()
            .document_element()
            .unwrap()
            .get_attribute("data-theme")
    }

    #[wasm_bindgen_test]
    fn the_theme_is_applied_and_remembered() {
        set_theme(Theme::Dark);
        assert_eq!(attribute().as_deref(), Some("dark"));
        assert_eq!(theme(), Theme::Dark);
        // As js/theme.js reads it before the first paint.
        let raw = LocalStorage::raw().get_item(THEME_KEY).unwrap();
        assert_eq!(raw.as_deref(), Some("\"dark\""));
        set_theme(Theme::Light);
        assert_eq!(attribute().as_deref(), Some("light"));
        set_theme(Theme::System);
        assert_eq!(attribute(), None);
        assert_eq!(LocalStorage::raw().get_item(THEME_KEY).unwrap(), None);
        assert_eq!(theme(), Theme::System);
    }

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
