//! JSON bodies: `parse_json` for every request body type of the contract.

use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use wire::{
    NewUser, PasswordAndCode, PasswordConfirmation, PasswordReset, PostText, RefreshRequest,
    ResetRequest, TwoFactorCode, TwoFactorLogin, UpdateMe,
};

use super::{config, text};
use crate::error::ApiError;
use crate::extract::parse_json;

/// A body parses, or is refused as a validation error naming a field: never a panic,
/// never another kind of error.
fn parses_or_is_refused<T: DeserializeOwned>(bytes: &[u8]) -> Result<(), TestCaseError> {
    match parse_json::<T>(bytes) {
        Ok(_) => {}
        Err(ApiError::Validation(errors)) => {
            prop_assert!(!errors.json.is_empty(), "no field named");
            prop_assert!(errors.json.values().all(|m| !m.is_empty()));
        }
        Err(other) => prop_assert!(false, "not a validation error: {other:?}"),
    }
    Ok(())
}

fn every_body(bytes: &[u8]) -> Result<(), TestCaseError> {
    parses_or_is_refused::<NewUser>(bytes)?;
    parses_or_is_refused::<UpdateMe>(bytes)?;
    parses_or_is_refused::<PostText>(bytes)?;
    parses_or_is_refused::<RefreshRequest>(bytes)?;
    parses_or_is_refused::<ResetRequest>(bytes)?;
    parses_or_is_refused::<PasswordReset>(bytes)?;
    parses_or_is_refused::<PasswordConfirmation>(bytes)?;
    parses_or_is_refused::<TwoFactorCode>(bytes)?;
    parses_or_is_refused::<PasswordAndCode>(bytes)?;
    parses_or_is_refused::<TwoFactorLogin>(bytes)
}

/// Arbitrary JSON, with the field names of the request bodies so that parsing gets past
/// the first key.
fn json_values() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "username",
            "email",
            "password",
            "about_me",
            "old_password",
            "text",
            "access_token",
            "refresh_token",
            "token",
            "new_password",
            "code",
            "challenge",
            "recovery_code",
        ])
        .prop_map(str::to_owned),
        text(),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// What a client serialises, the server reads back as the same value.
fn round_trips<T: Serialize + DeserializeOwned + PartialEq>(
    value: &T,
) -> Result<(), TestCaseError> {
    let bytes = serde_json::to_vec(value).expect("serialises");
    let same = parse_json::<T>(&bytes).is_ok_and(|read| read == *value);
    prop_assert!(same, "{}", String::from_utf8_lossy(&bytes));
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_parse_or_are_refused_as_every_body(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        every_body(&bytes)?;
    }

    #[test]
    fn any_json_parses_or_is_refused_as_every_body(value in json_values()) {
        every_body(value.to_string().as_bytes())?;
    }

    #[test]
    fn bodies_round_trip(
        a in text(), b in text(), c in text(),
        d in prop::option::of(text()), e in prop::option::of(text()),
    ) {
        round_trips(&NewUser { username: a.clone(), email: b.clone(), password: c.clone(), about_me: d.clone() })?;
        round_trips(&UpdateMe {
            username: d.clone(), email: e.clone(), about_me: d.clone(), password: e.clone(), old_password: Some(a.clone()),
        })?;
        round_trips(&PostText { text: a.clone() })?;
        round_trips(&RefreshRequest { access_token: d.clone(), refresh_token: e.clone() })?;
        round_trips(&PasswordReset { token: a.clone(), new_password: b.clone() })?;
        round_trips(&PasswordAndCode { password: a, code: b })?;
        round_trips(&TwoFactorLogin { challenge: c, code: d, recovery_code: e })?;
    }
}
