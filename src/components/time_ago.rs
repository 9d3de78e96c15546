use std::time::Duration;

use leptos::prelude::*;
use wire::Timestamp;

use crate::time::{full_date, millis, now_ms, relative};

/// The current time, ticking every 30 seconds so relative times stay true.
#[derive(Clone, Copy)]
pub struct Clock(RwSignal<f64>);

impl Clock {
    /// Starts the clock (once, in the app) and provides it as context.
    pub fn provide() {
        let now = RwSignal::new(now_ms());
        set_interval(move || now.set(now_ms()), Duration::from_secs(30));
        provide_context(Self(now));
    }
}

/// "5 minutes ago", with the full date on hover and for assistive technology.
#[component]
pub fn TimeAgo(timestamp: Timestamp) -> impl IntoView {
    let clock = use_context::<Clock>();
    let then = millis(timestamp);
    let text = move || relative(clock.map_or_else(now_ms, |c| c.0.get()), then);
    view! {
        <time datetime=timestamp.to_string() title=full_date(timestamp)>
            {text}
        </time>
    }
}
