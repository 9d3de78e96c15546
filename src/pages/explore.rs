use leptos::prelude::*;

use super::paging::Pager;
use super::{PostsSection, set_title};
use crate::api::{post_cursor, use_session};
use crate::lazy::split;

split!(pub fn load_explore / prefetch_explore in posts: () = |()| view! { <ExplorePage /> }.into_any());

/// Everyone's posts, newest first.
#[component]
fn ExplorePage() -> impl IntoView {
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
