use leptos::prelude::*;

use super::paging::Pager;
use super::{PostsSection, set_title};
use crate::api::post_cursor;
use crate::api::use_session;
use crate::components::PostForm;
use crate::lazy::split;
use crate::{storage, validate};

// The pages that show posts (feed, explore, a user's page, editing a post) share their code:
// one chunk, which the app fetches before it is needed (see `prefetch_likely` in app.rs).
split!(pub fn load_feed / prefetch_feed in posts: () = |()| view! { <FeedPage /> }.into_any());

/// Own and followed users' posts, newest first, with a box to write a new one.
#[component]
fn FeedPage() -> impl IntoView {
    set_title("Feed");
    let session = use_session();
    let pager = Pager::new(
        move |after| Box::pin(async move { session.client().feed(after).await }),
        post_cursor,
    );
    // What was being written before a reload or a visit elsewhere (this tab only).
    let text = RwSignal::new(storage::draft());
    Effect::new(move |_| storage::save_draft(&text.read()));
    let error = RwSignal::new(None::<String>);
    let publish = Action::new_local(move |body: &String| {
        let body = body.clone();
        async move {
            match session.client().create_post(&body).await {
                Ok(post) => {
                    pager.prepend(post);
                    text.set(String::new());
                }
                Err(err) => {
                    let field = err.field_errors("text");
                    error.set(Some(if field.is_empty() {
                        err.to_string()
                    } else {
                        field.join(" ")
                    }));
                }
            }
        }
    });
    let on_submit = move |()| {
        error.set(None);
        match validate::post_text(&text.get_untracked()) {
            Ok(body) => {
                publish.dispatch(body);
            }
            Err(message) => error.set(Some(message)),
        }
    };
    view! {
        <h1 tabindex="-1">"Feed"</h1>
        <PostForm
            text
            error
            pending=publish.pending()
            on_submit
            label="What's on your mind?"
            submit_label="Post"
            pending_label="Posting…"
        />
        <h2 class="visually-hidden">"Posts"</h2>
        <PostsSection pager empty_text="There are no posts in your feed yet. Write one, or follow people from Explore." />
    }
}
