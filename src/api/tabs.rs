//! Coordination between tabs of the same browser.
//!
//! - A Web Lock serializes refreshes across tabs: all tabs share one refresh cookie, and
//!   two tabs presenting it at the same moment would look like token reuse to the server.
//!   Serialized, the second tab sends the cookie the first one's answer just rotated in.
//! - A `BroadcastChannel` carries session *events* ("logged out", "logged in") so other
//!   tabs drop or restore their state at once. It never carries a token: each tab gets its
//!   own access token from the cookie.
//!
//! `navigator.locks` is reached through `js_sys::Reflect` because web-sys only exposes
//! `LockManager` behind `--cfg web_sys_unstable_apis`. Without Web Locks (very old
//! browsers) the work runs unlocked; the server's rotation grace then covers the race.

use std::cell::RefCell;
use std::rc::Rc;

use futures::channel::oneshot;
use futures::future::LocalBoxFuture;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};
use web_sys::{BroadcastChannel, MessageEvent};

/// Runs `task` while holding the exclusive Web Lock `name`, shared by every tab of this
/// origin. Waits for tabs (or other clients in this tab) holding it first.
pub async fn with_lock<T: 'static>(name: &str, task: LocalBoxFuture<'static, T>) -> T {
    let task = Rc::new(RefCell::new(Some(task)));
    if let Some((locks, request)) = lock_manager() {
        let (done, result) = oneshot::channel();
        let granted = {
            let task = Rc::clone(&task);
            Closure::once_into_js(move |_lock: JsValue| -> Promise {
                let task = task.borrow_mut().take();
                future_to_promise(async move {
                    if let Some(task) = task {
                        let _ = done.send(task.await);
                    }
                    // Resolving this promise releases the lock.
                    Ok(JsValue::UNDEFINED)
                })
            })
        };
        if let Ok(released) = request.call2(&locks, &JsValue::from_str(name), &granted) {
            // The request's promise settles once the callback's promise has, i.e. after
            // the task ran; it rejects without running it if the request is refused.
            let _ = JsFuture::from(Promise::from(released)).await;
            let ran = task.borrow().is_none();
            if ran && let Ok(value) = result.await {
                return value;
            }
        }
    }
    // No lock manager, or it refused the request: run unlocked rather than not at all.
    let task = task.borrow_mut().take();
    match task {
        Some(task) => task.await,
        None => futures::future::pending().await,
    }
}

/// `navigator.locks` and its `request` method, when the browser has them.
fn lock_manager() -> Option<(JsValue, Function)> {
    let navigator = leptos::prelude::window().navigator();
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    if locks.is_undefined() || locks.is_null() {
        return None;
    }
    let request = Reflect::get(&locks, &JsValue::from_str("request"))
        .ok()?
        .dyn_into::<Function>()
        .ok()?;
    Some((locks, request))
}

/// A session event sent to the other tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TabEvent {
    LoggedIn,
    LoggedOut,
}

impl TabEvent {
    fn as_str(self) -> &'static str {
        match self {
            Self::LoggedIn => "logged-in",
            Self::LoggedOut => "logged-out",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "logged-in" => Some(Self::LoggedIn),
            "logged-out" => Some(Self::LoggedOut),
            _ => None,
        }
    }
}

/// This tab's end of the session channel. Dropping it closes the channel.
pub struct TabChannel {
    channel: BroadcastChannel,
    _listener: Closure<dyn FnMut(MessageEvent)>,
}

impl TabChannel {
    /// Opens the channel `name`; `on_event` runs for each event another tab sends.
    pub fn open(name: &str, on_event: impl Fn(TabEvent) + 'static) -> Option<Self> {
        let channel = BroadcastChannel::new(name).ok()?;
        let listener = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(event) = event
                .data()
                .as_string()
                .as_deref()
                .and_then(TabEvent::parse)
            {
                on_event(event);
            }
        });
        channel.set_onmessage(Some(listener.as_ref().unchecked_ref()));
        Some(Self {
            channel,
            _listener: listener,
        })
    }

    /// Tells the other tabs (never this one).
    pub fn send(&self, event: TabEvent) {
        let _ = self
            .channel
            .post_message(&JsValue::from_str(event.as_str()));
    }
}

impl Drop for TabChannel {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}
