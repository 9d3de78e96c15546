use crate::nav::use_query_map;
use futures::FutureExt as _;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::User;

use super::paging::Pager;
use super::{PostsSection, path_param, set_title};
use crate::api::{ApiError, post_cursor, use_session, user_cursor};
use crate::components::{ListFooter, Loading, Profile, ProfileTabs, UserList, UserTab};
use crate::flash::use_flashes;
use crate::lazy::split;
use crate::routes::Page;

split!(pub fn load_user / prefetch_user in posts: () = |()| view! { <UserPage /> }.into_any());

/// A user's page: the profile, then their posts, followers or following (`?list=`).
///
/// Loaded into a plain signal rather than a `LocalResource` with `<Transition>`: nothing
/// in the first download needs the suspense machinery, and a chunk that used it would carry
/// it. As with a transition, the user on screen stays until the next one has arrived.
#[component]
fn UserPage() -> impl IntoView {
    let session = use_session();
    let query = use_query_map();
    let username = path_param(Page::User);
    let tab = Signal::derive(move || UserTab::from_query(query.read().get("list").as_deref()));
    let user = RwSignal::new(None::<Result<User, ApiError>>);
    let attempt = RwSignal::new(0_u32);
    Effect::new(move |_| {
        attempt.track();
        let name = username.get();
        spawn_local(async move {
            let result = session.client().user(&name).await;
            // An answer for a user left behind meanwhile is dropped.
            if username.try_get_untracked().as_ref() == Some(&name) {
                let _ = user.try_set(Some(result));
            }
        });
    });
    move || match user.get() {
        None => view! { <Loading /> }.into_any(),
        Some(Ok(user)) => view! { <UserView user tab /> }.into_any(),
        Some(Err(err)) => {
            set_title("User not found");
            let heading = if err.is_status(404) {
                "User not found"
            } else {
                "This page could not be loaded"
            };
            view! {
                <div class="narrow">
                    <h1 tabindex="-1">{heading}</h1>
                    <p role="alert">{err.to_string()}</p>
                    <button type="button" on:click=move |_| attempt.update(|n| *n += 1)>"Try again"</button>
                </div>
            }
            .into_any()
        }
    }
}

/// The page of one loaded user.
#[component]
fn UserView(user: User, tab: Signal<UserTab>) -> impl IntoView {
    set_title(&user.username);
    let session = use_session();
    let flashes = use_flashes();
    let id = user.id;
    let is_me = session.user_id() == Some(id);
    let following = RwSignal::new(None::<bool>);
    let counts = RwSignal::new(None::<(i64, i64)>);
    // Bumped after a follow or unfollow, so a followers list on screen reloads.
    let lists_changed = RwSignal::new(0_u32);
    spawn_local(async move {
        let client = session.client();
        if let Ok(c) = client.follow_counts(id).await {
            counts.set(Some(c));
        }
        if !is_me && let Ok(f) = client.is_following(id).await {
            following.set(Some(f));
        }
    });
    let name = user.username.clone();
    let toggle = Action::new_local(move |follow: &bool| {
        let follow = *follow;
        let name = name.clone();
        async move {
            let client = session.client();
            let result = if follow {
                client.follow(id).await
            } else {
                client.unfollow(id).await
            };
            match result {
                Ok(()) => {
                    following.set(Some(follow));
                    counts.update(|c| {
                        if let Some((followers, _)) = c {
                            *followers += if follow { 1 } else { -1 };
                        }
                    });
                    lists_changed.update(|n| *n += 1);
                    flashes.success(if follow {
                        format!("You are now following {name}.")
                    } else {
                        format!("You are no longer following {name}.")
                    });
                }
                Err(err) => flashes.error(err.to_string()),
            }
        }
    });
    let username = user.username.clone();
    view! {
        <Profile
            user
            is_me
            following
            pending=toggle.pending()
            on_follow=move |()| { toggle.dispatch(true); }
            on_unfollow=move |()| { toggle.dispatch(false); }
        />
        <ProfileTabs username tab counts />
        {move || match tab.get() {
            UserTab::Posts => view! { <UserPosts id /> }.into_any(),
            UserTab::Followers => {
                lists_changed.track();
                crate::lazy::deferred(|| load_user_links().boxed_local(), (id, true), true)
            }
            UserTab::Following => crate::lazy::deferred(|| load_user_links().boxed_local(), (id, false), true),
        }}
    }
}

#[component]
fn UserPosts(id: i64) -> impl IntoView {
    let session = use_session();
    let pager = Pager::new(
        move |after| Box::pin(async move { session.client().user_posts(id, after).await }),
        post_cursor,
    );
    view! {
        <h2 class="visually-hidden">"Posts"</h2>
        <PostsSection pager empty_text="No posts yet." />
    }
}

// The lists of followers and following, in the chunk of the pages that show posts.
split!(fn load_user_links / prefetch_user_links in posts: (i64, bool) =
    |(id, followers)| view! { <UserLinks id followers /> }.into_any());

/// Followers (or following) of user `id`.
#[component]
fn UserLinks(id: i64, followers: bool) -> impl IntoView {
    let session = use_session();
    let pager = Pager::new(
        move |after| {
            Box::pin(async move {
                let client = session.client();
                if followers {
                    client.followers(id, after).await
                } else {
                    client.following(id, after).await
                }
            })
        },
        user_cursor,
    );
    let (heading, empty_text) = if followers {
        ("Followers", "Nobody follows this user yet.")
    } else {
        ("Following", "This user does not follow anyone yet.")
    };
    view! {
        <h2 class="visually-hidden">{heading}</h2>
        <UserList users=pager.items />
        <ListFooter
            status=pager.status
            is_empty=Signal::derive(move || pager.items.with(Vec::is_empty))
            empty_text
            on_more=move |()| pager.more()
        />
    }
}
