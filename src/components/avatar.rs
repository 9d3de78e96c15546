use leptos::prelude::*;

use crate::api::config::resolve;

/// A user's avatar. The API's `avatar_url` already has a `?`, so the size is appended
/// with `&s=`; twice the displayed size keeps it sharp on dense screens.
#[component]
pub fn Avatar(
    url: String,
    /// Displayed size in CSS pixels.
    size: u32,
    /// Empty when the username is shown right beside it (the image is then decorative).
    #[prop(optional, into)]
    alt: String,
) -> impl IntoView {
    let src = format!("{}&s={}", resolve(&url), size * 2);
    let class = if size >= 64 {
        "avatar avatar-large"
    } else {
        "avatar"
    };
    view! { <img class=class src=src alt=alt width=size height=size loading="lazy" decoding="async" /> }
}
