use crate::nav::A;
use leptos::prelude::*;
use wire::Post;

use super::{Avatar, TimeAgo};
use crate::linkify::{Piece, pieces};
use crate::routes::AppRoute;

/// One post: avatar, author, time, text, and for the author's own posts Edit and Delete.
/// Delete asks for confirmation in place before calling `on_delete`.
#[component]
pub fn PostView(
    post: Post,
    /// Whether the logged-in user wrote it.
    own: bool,
    /// Where the edit page returns to.
    #[prop(into)]
    back: Signal<String>,
    #[prop(into)] on_delete: Callback<i64>,
    /// Whether the deletion is under way.
    #[prop(into, optional)]
    deleting: Signal<bool>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let id = post.id;
    let author = post.author.username.clone();
    let author_path = AppRoute::User(author.clone()).path();
    let label = format!("Post by {author}");
    let actions = own.then(|| {
        view! {
            <div class="post-actions">
                {move || {
                    if deleting.get() {
                        view! { <span class="deleting" role="status">"Deleting…"</span> }.into_any()
                    } else if confirming.get() {
                        view! {
                            <span class="confirm" role="group" aria-label="Confirm deletion">
                                <span>"Delete this post?"</span>
                                <button type="button" class="danger" on:click=move |_| {
                                    confirming.set(false);
                                    on_delete.run(id);
                                }>"Yes, delete"</button>
                                <button type="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                            </span>
                        }
                        .into_any()
                    } else {
                        view! {
                            <A href=move || AppRoute::EditPost(id).with_next(&back.get())>"Edit"</A>
                            <button type="button" class="link-button" on:click=move |_| confirming.set(true)>
                                "Delete"
                            </button>
                        }
                        .into_any()
                    }
                }}
            </div>
        }
    });
    view! {
        <article class="post" aria-label=label>
            <Avatar url=post.author.avatar_url.clone() size=48 />
            <div class="post-body">
                <p class="post-meta">
                    <A href=author_path attr:class="author">{author.clone()}</A>
                    " · "
                    <TimeAgo timestamp=post.timestamp />
                </p>
                <PostText text=post.text.clone() />
                {actions}
            </div>
        </article>
    }
}

/// A post's text, with its web addresses and `@names` as links. Built as DOM nodes from
/// the pieces `linkify` finds, never as HTML: whatever the text holds stays text.
#[component]
pub fn PostText(text: String) -> impl IntoView {
    let nodes = pieces(&text)
        .into_iter()
        .map(|piece| {
            // One element type for both kinds of link, so the view code exists once. An
            // `@name` is an ordinary same-origin link: the router navigates to it in place.
            let (href, rel, label) = match piece {
                Piece::Text(text) => return text.to_owned().into_any(),
                Piece::Url(url) => (url.to_owned(), Some(EXTERNAL), url.to_owned()),
                Piece::Mention(name) => (
                    AppRoute::User(name.to_owned()).path(),
                    None,
                    format!("@{name}"),
                ),
            };
            view! { <a href=href rel=rel>{label}</a> }.into_any()
        })
        .collect_view();
    view! { <p class="post-text">{nodes}</p> }
}

/// The `rel` of a link to another site that a user wrote: no `window.opener`, no
/// `Referer`, and no endorsement of it for search engines.
const EXTERNAL: &str = "noopener noreferrer nofollow ugc";

/// A list of posts, keyed so that appending a page keeps what is shown.
#[component]
pub fn PostList(
    #[prop(into)] posts: Signal<Vec<Post>>,
    /// The logged-in user's id.
    #[prop(into)]
    me: Signal<Option<i64>>,
    #[prop(into)] back: Signal<String>,
    #[prop(into)] on_delete: Callback<i64>,
    /// Ids of posts being deleted.
    #[prop(into, optional)]
    deleting: Signal<Vec<i64>>,
) -> impl IntoView {
    view! {
        <div class="posts">
            <For
                each=move || posts.get()
                key=|post| (post.id, post.text.clone())
                children=move |post| {
                    let own = me.get_untracked() == Some(post.author.id);
                    let id = post.id;
                    let deleting = Signal::derive(move || deleting.with(|ids| ids.contains(&id)));
                    view! { <PostView post own back on_delete deleting /> }
                }
            />
        </div>
    }
}
