use leptos::prelude::*;

use crate::api::ApiError;

/// Where a paged list stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListStatus {
    /// A page is on its way.
    Loading,
    /// Everything asked for is shown; `has_more` says whether the server has more.
    Ready {
        has_more: bool,
    },
    Failed(ApiError),
}

/// Below a list: its loading state, its error with a retry, the empty message, or "More".
#[component]
pub fn ListFooter(
    #[prop(into)] status: Signal<ListStatus>,
    #[prop(into)] is_empty: Signal<bool>,
    empty_text: &'static str,
    #[prop(into)] on_more: Callback<()>,
) -> impl IntoView {
    move || match status.get() {
        ListStatus::Loading => view! { <super::Loading /> }.into_any(),
        ListStatus::Failed(err) => view! {
            <div class="list-error" role="alert">
                <p>{err.to_string()}</p>
                <button type="button" on:click=move |_| on_more.run(())>"Try again"</button>
            </div>
        }
        .into_any(),
        ListStatus::Ready { has_more: true } => view! {
            <div class="more">
                <button type="button" on:click=move |_| on_more.run(())>"More"</button>
            </div>
        }
        .into_any(),
        ListStatus::Ready { has_more: false } if is_empty.get() => {
            view! { <p class="empty">{empty_text}</p> }.into_any()
        }
        ListStatus::Ready { has_more: false } => ().into_any(),
    }
}
