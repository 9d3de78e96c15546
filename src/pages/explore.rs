use leptos::prelude::*;

use super::paging::Pager;
use super::{PostsSection, set_title};
use crate::api::{post_cursor, use_session};

/// Everyone's posts, newest first.
#[component]
pub fn ExplorePage() -> impl IntoView {
    set_title("Explore");
    let session = use_session();
    let pager = Pager::new(
        move |after| Box::pin(async move { session.client().posts(after).await }),
        post_cursor,
    );
    view! {
        <h1 tabindex="-1">"Explore"</h1>
        <PostsSection pager empty_text="Nobody has posted anything yet." />
    }
}
