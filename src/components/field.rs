use leptos::prelude::*;

/// What kind of control a [`Field`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FieldKind {
    #[default]
    Text,
    Email,
    Password,
    /// A multi-line `<textarea>`.
    TextArea,
}

impl FieldKind {
    fn input_type(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Password => "password",
            _ => "text",
        }
    }
}

/// A labelled form control with its error messages beside it. The messages are tied to the
/// control with `aria-describedby`, and `aria-invalid` marks it while they show.
#[component]
pub fn Field(
    /// The visible label.
    label: &'static str,
    /// The `id` and `name`; also the server's field name in `errors.json`.
    name: &'static str,
    value: RwSignal<String>,
    #[prop(into, optional)] errors: Signal<Vec<String>>,
    #[prop(optional)] kind: FieldKind,
    /// The `autocomplete` token, so password managers fill the right field.
    #[prop(optional)]
    autocomplete: &'static str,
    #[prop(optional)] required: bool,
    #[prop(optional)] maxlength: Option<usize>,
    /// The on-screen keyboard to offer, e.g. `numeric` for codes.
    #[prop(optional)]
    inputmode: &'static str,
    /// A hint shown under the control.
    #[prop(optional, into)]
    hint: Option<Signal<String>>,
) -> impl IntoView {
    let error_id = format!("{name}-error");
    let hint_id = format!("{name}-hint");
    let described_by = if hint.is_some() {
        format!("{hint_id} {error_id}")
    } else {
        error_id.clone()
    };
    let invalid = move || errors.with(|e| (!e.is_empty()).then_some("true"));
    let autocomplete = (!autocomplete.is_empty()).then_some(autocomplete);
    let inputmode = (!inputmode.is_empty()).then_some(inputmode);
    let control = if kind == FieldKind::TextArea {
        view! {
            <textarea
                id=name
                name=name
                rows="4"
                autocomplete=autocomplete
                required=required
                maxlength=maxlength
                aria-invalid=invalid
                aria-describedby=described_by
                bind:value=value
            ></textarea>
        }
        .into_any()
    } else {
        view! {
            <input
                id=name
                name=name
                type=kind.input_type()
                autocomplete=autocomplete
                inputmode=inputmode
                required=required
                maxlength=maxlength
                aria-invalid=invalid
                aria-describedby=described_by
                bind:value=value
            />
        }
        .into_any()
    };
    view! {
        <div class="field">
            <label for=name>{label}</label>
            {control}
            {hint.map(|hint| view! { <p id=hint_id class="hint">{hint}</p> })}
            <p id=error_id class="field-error">
                {move || errors.get().join(" ")}
            </p>
        </div>
    }
}

/// A message about the whole form (e.g. "Invalid username or password"), announced as soon
/// as it appears.
#[component]
pub fn FormAlert(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <div class="form-alert-region" role="alert">
            {move || message.get().map(|m| view! { <p class="form-alert">{m}</p> })}
        </div>
    }
}

/// A visible, announced loading state.
#[component]
pub fn Loading(#[prop(optional)] label: Option<&'static str>) -> impl IntoView {
    view! {
        <p class="loading" role="status">
            <span class="spinner" aria-hidden="true"></span>
            {label.unwrap_or("Loading…")}
        </p>
    }
}
