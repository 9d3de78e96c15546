use crate::nav::A;
use leptos::prelude::*;
use wire::User;

use super::Avatar;
use crate::routes::AppRoute;
use crate::time::long_date;

use super::TimeAgo;

/// Which list a user's page shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserTab {
    Posts,
    Followers,
    Following,
}

impl UserTab {
    /// From the page's `?list=` parameter.
    pub fn from_query(list: Option<&str>) -> Self {
        match list {
            Some("followers") => Self::Followers,
            Some("following") => Self::Following,
            _ => Self::Posts,
        }
    }
}

/// The top of a user's page: avatar, name, about, dates, and what the viewer can do.
#[component]
pub fn Profile(
    user: User,
    /// Whether this is the logged-in user's own page.
    is_me: bool,
    /// Whether the viewer follows this user; `None` while unknown.
    #[prop(into)]
    following: Signal<Option<bool>>,
    #[prop(into)] pending: Signal<bool>,
    #[prop(into)] on_follow: Callback<()>,
    #[prop(into)] on_unfollow: Callback<()>,
) -> impl IntoView {
    let actions = if is_me {
        view! {
            <A href=AppRoute::EditProfile.path() attr:class="button">"Edit profile"</A>
            <A href=AppRoute::ChangePassword.path() attr:class="button">"Change password"</A>
            <A href=AppRoute::Security.path() attr:class="button">"Two-factor authentication"</A>
            <A href=AppRoute::Sessions.path() attr:class="button">"Sessions"</A>
            <A href=AppRoute::SignInMethods.path() attr:class="button">"Sign-in methods"</A>
        }
        .into_any()
    } else {
        (move || match following.get() {
            None => ().into_any(),
            Some(true) => view! {
                <button type="button" disabled=move || pending.get() on:click=move |_| on_unfollow.run(())>
                    "Unfollow"
                </button>
            }
            .into_any(),
            Some(false) => view! {
                <button type="button" class="primary" disabled=move || pending.get() on:click=move |_| on_follow.run(())>
                    "Follow"
                </button>
            }
            .into_any(),
        })
        .into_any()
    };
    let about =
        (!user.about_me.is_empty()).then(|| view! { <p class="about">{user.about_me.clone()}</p> });
    view! {
        <section class="profile" aria-labelledby="profile-name">
            <Avatar url=user.avatar_url.clone() size=96 />
            <div class="profile-body">
                <h1 id="profile-name" tabindex="-1">{user.username.clone()}</h1>
                {about}
                <dl class="profile-dates">
                    <div>
                        <dt>"Member since"</dt>
                        <dd>{long_date(user.first_seen)}</dd>
                    </div>
                    <div>
                        <dt>"Last seen"</dt>
                        <dd><TimeAgo timestamp=user.last_seen /></dd>
                    </div>
                </dl>
                <div class="profile-actions">{actions}</div>
            </div>
        </section>
    }
}

/// The tabs under a profile: posts, followers (with count), following (with count).
#[component]
pub fn ProfileTabs(
    username: String,
    tab: Signal<UserTab>,
    /// (followers, following); `None` while unknown.
    #[prop(into)]
    counts: Signal<Option<(i64, i64)>>,
) -> impl IntoView {
    let count = move |pick: fn((i64, i64)) -> i64| {
        move || {
            counts
                .get()
                .map(|c| format!(" ({})", pick(c)))
                .unwrap_or_default()
        }
    };
    let current = move |which: UserTab| move || (tab.get() == which).then_some("page");
    view! {
        // Plain links (the router still handles them): `<A>` would mark "Posts" current on
        // every tab, since it compares paths without the query.
        <nav class="tabs" aria-label="User lists">
            <a href=AppRoute::User(username.clone()).path() aria-current=current(UserTab::Posts)>
                "Posts"
            </a>
            <a href=AppRoute::Followers(username.clone()).path() aria-current=current(UserTab::Followers)>
                "Followers" {count(|c| c.0)}
            </a>
            <a href=AppRoute::Following(username.clone()).path() aria-current=current(UserTab::Following)>
                "Following" {count(|c| c.1)}
            </a>
        </nav>
    }
}
