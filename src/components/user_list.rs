use crate::nav::A;
use leptos::prelude::*;
use wire::User;

use super::Avatar;
use crate::routes::AppRoute;

/// A list of users (followers, following), each linking to their page.
#[component]
pub fn UserList(#[prop(into)] users: Signal<Vec<User>>) -> impl IntoView {
    view! {
        <ul class="user-list">
            <For each=move || users.get() key=|user| user.id let:user>
                <li>
                    <Avatar url=user.avatar_url.clone() size=32 />
                    <A href=AppRoute::User(user.username.clone()).path()>{user.username.clone()}</A>
                </li>
            </For>
        </ul>
    }
}
