use leptos::prelude::*;

use super::{Field, FieldKind};
use crate::validate::post_chars_left;

/// The box to write (or edit) a post, with a live count of characters left.
#[component]
pub fn PostForm(
    text: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(into)] pending: Signal<bool>,
    #[prop(into)] on_submit: Callback<()>,
    label: &'static str,
    submit_label: &'static str,
    pending_label: &'static str,
) -> impl IntoView {
    let errors = Signal::derive(move || error.get().into_iter().collect::<Vec<_>>());
    let hint = Signal::derive(move || {
        let left = post_chars_left(&text.get());
        if left >= 0 {
            format!("{left} characters left")
        } else {
            format!("{} characters too many", -left)
        }
    });
    view! {
        <form
            class="post-form"
            novalidate
            on:submit=move |ev| {
                ev.prevent_default();
                on_submit.run(());
            }
        >
            <Field label name="text" value=text errors kind=FieldKind::TextArea hint />
            <div class="actions">
                <button type="submit" class="primary" disabled=move || pending.get()>
                    {move || if pending.get() { pending_label } else { submit_label }}
                </button>
            </div>
        </form>
    }
}
