use leptos::prelude::*;
use wire::SessionInfo;

use super::TimeAgo;

/// Recovery codes, shown once with a clear "save these" notice. They live in memory only
/// as long as this is on screen: nothing stores them in the browser.
#[component]
pub fn RecoveryCodeList(
    codes: Vec<String>,
    /// "I have saved them": the page drops the codes.
    #[prop(into)]
    on_done: Callback<()>,
) -> impl IntoView {
    view! {
        <section class="recovery-codes" aria-labelledby="recovery-codes-heading">
            <h2 id="recovery-codes-heading">"Save your recovery codes"</h2>
            <p class="notice" role="status">
                "Each code signs you in once if you cannot use your authenticator app. Save them "
                "somewhere safe now, such as a password manager: they will not be shown again."
            </p>
            <ol class="codes">
                {codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}
            </ol>
            <div class="actions">
                <button type="button" class="primary" on:click=move |_| on_done.run(())>
                    "I have saved these codes"
                </button>
            </div>
        </section>
    }
}

/// The user's logged-in devices, the current one marked; each other one can be logged out.
#[component]
pub fn SessionList(
    sessions: Vec<SessionInfo>,
    /// Sessions being logged out right now, for their buttons' state.
    #[prop(into)]
    revoking: Signal<Vec<i64>>,
    #[prop(into)] on_revoke: Callback<i64>,
) -> impl IntoView {
    let items = sessions
        .into_iter()
        .map(|s| {
            let id = s.id;
            let busy = move || revoking.with(|ids| ids.contains(&id));
            let end = (!s.current).then(|| {
                view! {
                    <button type="button" disabled=busy on:click=move |_| on_revoke.run(id)>
                        {move || if busy() { "Logging out…" } else { "Log out" }}
                    </button>
                }
            });
            view! {
                <li class="session" class:current=s.current>
                    <p class="session-device">
                        <strong>{s.device}</strong>
                        {s.current.then(|| view! { <span class="badge">"This device"</span> })}
                    </p>
                    <dl class="session-facts">
                        <div><dt>"Address"</dt><dd>{s.client_ip}</dd></div>
                        <div><dt>"Logged in"</dt><dd><TimeAgo timestamp=s.created_at /></dd></div>
                        <div><dt>"Last active"</dt><dd><TimeAgo timestamp=s.last_used_at /></dd></div>
                    </dl>
                    {end}
                </li>
            }
        })
        .collect_view();
    view! { <ul class="sessions">{items}</ul> }
}
