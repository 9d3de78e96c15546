use crate::nav::A;
use crate::nav::NavigateOptions;
use crate::nav::{use_navigate, use_query_map};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::Post;

use super::{path_param, set_title};
use crate::api::{ApiError, use_session};
use crate::components::{Loading, PostForm};
use crate::flash::use_flashes;
use crate::lazy::split;
use crate::routes::{AppRoute, Page, safe_next};
use crate::validate;

split!(pub fn load_edit_post / prefetch_edit_post in posts: () = |()| view! { <EditPostPage /> }.into_any());

/// Edit one of one's own posts, then return to where the Edit link was (`?next=`).
#[component]
fn EditPostPage() -> impl IntoView {
    set_title("Edit post");
    let session = use_session();
    let param = path_param(Page::EditPost);
    let id = Memo::new(move |_| param.with(|id| id.parse::<i64>().ok()));
    // A plain signal, not a resource with <Transition>: no suspense code to download.
    let post = RwSignal::new(None::<Result<Option<Post>, ApiError>>);
    let attempt = RwSignal::new(0_u32);
    Effect::new(move |_| {
        attempt.track();
        let id = id.get();
        spawn_local(async move {
            let result = match id {
                Some(id) => session.client().post(id).await.map(Some),
                None => Ok(None),
            };
            let _ = post.try_set(Some(result));
        });
    });
    view! {
        <div class="narrow">
            <h1 tabindex="-1">"Edit post"</h1>
            {move || match post.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Ok(Some(post))) if session.user_id() == Some(post.author.id) => {
                    view! { <EditPostForm post /> }.into_any()
                }
                Some(Ok(Some(_))) => view! { <p role="alert">"You can only edit your own posts."</p> }.into_any(),
                Some(Ok(None)) => view! { <p role="alert">"There is no such post."</p> }.into_any(),
                Some(Err(err)) => view! {
                    <div role="alert">
                        <p>{err.to_string()}</p>
                        <button type="button" on:click=move |_| attempt.update(|n| *n += 1)>"Try again"</button>
                    </div>
                }
                .into_any(),
            }}
        </div>
    }
}

#[component]
fn EditPostForm(post: Post) -> impl IntoView {
    let session = use_session();
    let flashes = use_flashes();
    let navigate = use_navigate();
    let query = use_query_map();
    let author = post.author.username.clone();
    let back = Signal::derive(move || {
        safe_next(
            query.read().get("next").as_deref(),
            &AppRoute::User(author.clone()),
        )
    });
    let id = post.id;
    let text = RwSignal::new(post.text);
    let error = RwSignal::new(None::<String>);
    let save = Action::new_local(move |body: &String| {
        let body = body.clone();
        let navigate = navigate.clone();
        async move {
            match session.client().update_post(id, &body).await {
                Ok(_) => {
                    flashes.success("Your post has been updated.");
                    navigate(&back.get_untracked(), NavigateOptions::default());
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
                save.dispatch(body);
            }
            Err(message) => error.set(Some(message)),
        }
    };
    view! {
        <PostForm
            text
            error
            pending=save.pending()
            on_submit
            label="Your post"
            submit_label="Save"
            pending_label="Saving…"
        />
        <p><A href=move || back.get()>"Cancel"</A></p>
    }
}
