use leptos::prelude::*;

use crate::flash::{FlashKind, FlashMessage};

/// The stack of flash messages, newest last, each with a dismiss button.
#[component]
pub fn FlashList(
    #[prop(into)] messages: Signal<Vec<FlashMessage>>,
    #[prop(into)] on_dismiss: Callback<u64>,
) -> impl IntoView {
    view! {
        <section class="flashes" aria-label="Notifications" aria-live="polite">
            <For each=move || messages.get() key=|m| m.id let:message>
                // The section is a polite live region from the start, so notices are read
                // out as they arrive; errors interrupt (role alert).
                <div class=message.kind.class() role=(message.kind == FlashKind::Error).then_some("alert")>
                    <p>{message.text.clone()}</p>
                    <button
                        type="button"
                        class="dismiss"
                        aria-label="Dismiss notification"
                        on:click=move |_| on_dismiss.run(message.id)
                    >
                        "×"
                    </button>
                </div>
            </For>
        </section>
    }
}
