//! The error state of a form: messages beside fields, and one alert for the whole form.

use leptos::prelude::*;

use crate::api::ApiError;
use crate::validate::FieldErrors;

#[derive(Clone, Copy)]
pub struct FormState {
    fields: RwSignal<FieldErrors>,
    pub alert: RwSignal<Option<String>>,
}

impl FormState {
    pub fn new() -> Self {
        Self {
            fields: RwSignal::new(FieldErrors::new()),
            alert: RwSignal::new(None),
        }
    }

    /// The messages beside one field.
    pub fn field(&self, name: &'static str) -> Signal<Vec<String>> {
        let fields = self.fields;
        Signal::derive(move || fields.with(|f| f.get(name).cloned().unwrap_or_default()))
    }

    pub fn clear(&self) {
        self.fields.set(FieldErrors::new());
        self.alert.set(None);
    }

    /// Shows the browser's own checks. Returns whether the form may be sent.
    pub fn check(&self, errors: FieldErrors) -> bool {
        if errors.is_empty() {
            return true;
        }
        self.fields.set(errors);
        self.alert
            .set(Some("Please correct the errors below.".into()));
        false
    }

    /// Shows a failed request: the server's field errors beside `fields`, anything else on
    /// top (including errors for the whole input, `_schema`, and fields the form lacks).
    pub fn api_error(&self, err: &ApiError, fields: &[&'static str]) {
        let mut shown = FieldErrors::new();
        for field in fields {
            for message in err.field_errors(field) {
                shown.add(field, message);
            }
        }
        let mut alert = if shown.is_empty() {
            err.to_string()
        } else {
            "Please correct the errors below.".to_owned()
        };
        let mut others = Vec::new();
        if let ApiError::Status {
            body: Some(body), ..
        } = err
            && let Some(errors) = &body.errors
        {
            for (field, messages) in &errors.json {
                if !fields.contains(&field.as_str()) {
                    others.extend(messages.iter().cloned());
                }
            }
        }
        if !others.is_empty() {
            alert = others.join(" ");
        }
        self.fields.set(shown);
        self.alert.set(Some(alert));
    }

    pub fn fail(&self, message: impl Into<String>) {
        self.alert.set(Some(message.into()));
    }
}
