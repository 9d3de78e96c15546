use crate::nav::A;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::SessionInfo;

use super::set_title;
use crate::api::{ApiError, use_session};
use crate::components::{Loading, SessionList};
use crate::flash::use_flashes;
use crate::lazy::split;
use crate::routes::AppRoute;

split!(pub fn load_sessions / prefetch_sessions in settings: () = |()| view! { <SessionsPage /> }.into_any());

/// The sessions (logged-in browsers) of this account; log out any other one, or all of
/// them. A session logged out here is logged out at its next request (its tokens stop
/// working at once).
///
/// Loaded into a plain signal rather than a `LocalResource` with `<Transition>`: the same
/// behaviour for this page, in fewer bundle bytes (this page is in every first visit).
#[component]
fn SessionsPage() -> impl IntoView {
    set_title("Sessions");
    let session = use_session();
    let flashes = use_flashes();
    let sessions = RwSignal::new(None::<Result<Vec<SessionInfo>, ApiError>>);
    let load = move || {
        spawn_local(async move { sessions.set(Some(session.client().sessions().await)) });
    };
    load();
    let revoking = RwSignal::new(Vec::<i64>::new());
    let revoke = Action::new_local(move |id: &i64| {
        let id = *id;
        async move {
            let result = session.client().revoke_session(id).await;
            revoking.update(|ids| ids.retain(|r| *r != id));
            match result {
                Ok(()) => flashes.success("That session has been logged out."),
                Err(err) => flashes.error(format!("That session is still logged in. {err}")),
            }
            load();
        }
    });
    let revoke_all = Action::new_local(move |()| async move {
        match session.client().revoke_other_sessions().await {
            Ok(0) => flashes.info("No other session was logged in."),
            Ok(1) => flashes.success("1 other session has been logged out."),
            Ok(n) => flashes.success(format!("{n} other sessions have been logged out.")),
            Err(err) => flashes.error(format!("The other sessions are still logged in. {err}")),
        }
        load();
    });
    let on_revoke = Callback::new(move |id| {
        revoking.update(|ids| ids.push(id));
        revoke.dispatch(id);
    });
    let all_busy = revoke_all.pending();
    view! {
        <div class="narrow">
            <h1 tabindex="-1">"Sessions"</h1>
            <p>"Each browser or app logged in to your account is a session. If you do not recognise one, log it out and change your password."</p>
            {move || match sessions.get() {
                        None => view! { <Loading /> }.into_any(),
                        Some(Ok(list)) => {
                            let others = list.iter().any(|s| !s.current);
                            view! {
                                <SessionList sessions=list revoking on_revoke />
                                {others.then(|| view! {
                                    <div class="actions">
                                        <button type="button" disabled=move || all_busy.get()
                                            on:click=move |_| { revoke_all.dispatch(()); }>
                                            "Log out all other sessions"
                                        </button>
                                    </div>
                                })}
                            }
                            .into_any()
                        }
                        Some(Err(err)) => view! {
                            <div role="alert">
                                <p>{err.to_string()}</p>
                                <button type="button" on:click=move |_| load()>"Try again"</button>
                            </div>
                        }
                        .into_any(),
            }}
            <p><A href=AppRoute::Security.path()>"Two-factor authentication"</A></p>
        </div>
    }
}
