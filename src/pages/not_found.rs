use crate::nav::A;
use leptos::prelude::*;

use super::set_title;
use crate::routes::AppRoute;

/// Any URL the app does not know.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    set_title("Page not found");
    view! {
        <div class="narrow">
            <h1 tabindex="-1">"Page not found"</h1>
            <p>"There is nothing at this address. It may have moved, or the link may be mistyped."</p>
            <p><A href=AppRoute::Feed.path()>"Go to the feed"</A></p>
        </div>
    }
}
