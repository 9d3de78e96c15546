//! Flash messages: short notices (success, error, info) that stack at the top of the page
//! until dismissed. Success and info notices also fade out on their own; errors stay.

use std::time::Duration;

use leptos::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashKind {
    Success,
    Error,
    Info,
}

impl FlashKind {
    /// The CSS class of the notice.
    pub fn class(self) -> &'static str {
        match self {
            Self::Success => "flash flash-success",
            Self::Error => "flash flash-error",
            Self::Info => "flash flash-info",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlashMessage {
    pub id: u64,
    pub kind: FlashKind,
    pub text: String,
}

/// The stack of notices, provided once as context by the app.
#[derive(Clone, Copy)]
pub struct Flashes {
    messages: RwSignal<Vec<FlashMessage>>,
    next_id: StoredValue<u64>,
}

/// How long success and info notices stay.
const FADE_AFTER: Duration = Duration::from_secs(10);

impl Default for Flashes {
    fn default() -> Self {
        Self::new()
    }
}

impl Flashes {
    pub fn new() -> Self {
        Self {
            messages: RwSignal::new(Vec::new()),
            next_id: StoredValue::new(0),
        }
    }

    pub fn messages(&self) -> Signal<Vec<FlashMessage>> {
        self.messages.into()
    }

    /// Adds a notice, unless the very same one is already showing.
    pub fn push(&self, kind: FlashKind, text: impl Into<String>) {
        let text = text.into();
        if self
            .messages
            .with_untracked(|m| m.iter().any(|f| f.kind == kind && f.text == text))
        {
            return;
        }
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        self.messages
            .update(|m| m.push(FlashMessage { id, kind, text }));
        if kind != FlashKind::Error {
            let this = *self;
            set_timeout(move || this.dismiss(id), FADE_AFTER);
        }
    }

    pub fn success(&self, text: impl Into<String>) {
        self.push(FlashKind::Success, text);
    }

    pub fn error(&self, text: impl Into<String>) {
        self.push(FlashKind::Error, text);
    }

    pub fn info(&self, text: impl Into<String>) {
        self.push(FlashKind::Info, text);
    }

    pub fn dismiss(&self, id: u64) {
        if !self.messages.is_disposed() {
            self.messages.update(|m| m.retain(|f| f.id != id));
        }
    }
}

/// The app's flash messages.
pub fn use_flashes() -> Flashes {
    expect_context()
}
