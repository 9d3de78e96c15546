//! Property tests: arbitrary input to every parser of the wire types returns a value or
//! an error, never a panic; and what we write, we read back.

use proptest::prelude::*;
use wire::{
    ErrorBody, FieldErrors, Health, Jwks, NewUser, Page, PasswordAndCode, PasswordConfirmation,
    PasswordReset, Post, PostText, RecoveryCodes, RefreshRequest, ResetRequest, RevokedSessions,
    SessionInfo, Timestamp, Token, TwoFactorChallenge, TwoFactorCode, TwoFactorLogin,
    TwoFactorSetup, TwoFactorStatus, UpdateMe, User,
};

/// Thousands of cases per property, in every `cargo nextest` run.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 4096,
        // Failures are kept as named regression tests below, not in side files.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z: the years a timestamp can spell.
const FIRST_MICROS: i64 = -62_167_219_200_000_000;
const LAST_MICROS: i64 = 253_402_300_799_999_999;

/// Strings shaped like timestamps, with any character where a digit or separator goes;
/// and valid dates and times with fractions of any length and content, which is what
/// reaches the parser's slicing of the fraction.
fn near_timestamps() -> impl Strategy<Value = String> {
    let piece = "([0-9]|\\PC)";
    let any_piece = format!(
        "{piece}{{4}}-{piece}{{2}}-{piece}{{2}}[T ]{piece}{{2}}:{piece}{{2}}:{piece}{{2}}(\\.{piece}{{0,12}})?(Z|\\+00:00)?"
    );
    let odd_fraction =
        proptest::string::string_regex("\\.[0-9]{0,9}\\PC{0,3}[0-9]{0,3}(Z|\\+00:00)?")
            .expect("a valid regex");
    prop_oneof![
        proptest::string::string_regex(&any_piece).expect("a valid regex"),
        (FIRST_MICROS..=LAST_MICROS, odd_fraction).prop_map(|(micros, fraction)| {
            let text = Timestamp::from_micros(micros).to_string();
            format!("{}{fraction}", &text[..19])
        }),
    ]
}

/// A valid timestamp with one character inserted or replaced anywhere.
fn mutated_timestamps() -> impl Strategy<Value = String> {
    (
        FIRST_MICROS..=LAST_MICROS,
        any::<char>(),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(|(micros, c, at, replace)| {
            let mut chars: Vec<char> = Timestamp::from_micros(micros).to_string().chars().collect();
            let i = at.index(chars.len());
            if replace {
                chars[i] = c;
            } else {
                chars.insert(i, c);
            }
            chars.into_iter().collect()
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_string_parses_or_fails_as_a_timestamp(s in any::<String>()) {
        let _ = s.parse::<Timestamp>();
    }

    #[test]
    fn near_timestamps_parse_or_fail(s in near_timestamps()) {
        let _ = s.parse::<Timestamp>();
    }

    #[test]
    fn mutated_timestamps_parse_or_fail(s in mutated_timestamps()) {
        if let Ok(t) = s.parse::<Timestamp>() {
            // Whatever parses, formats to something that parses to the same instant.
            prop_assert_eq!(t.to_string().parse::<Timestamp>(), Ok(t));
        }
    }

    #[test]
    fn format_then_parse_is_the_same_instant(micros in FIRST_MICROS..=LAST_MICROS) {
        let t = Timestamp::from_micros(micros);
        let text = t.to_string();
        prop_assert_eq!(text.len(), 27);
        prop_assert_eq!(text.parse::<Timestamp>(), Ok(t));
        // The other spellings the parser takes name the same instant.
        let bare = text.trim_end_matches('Z');
        prop_assert_eq!(format!("{bare}+00:00").parse::<Timestamp>(), Ok(t));
        prop_assert_eq!(bare.replacen('T', " ", 1).parse::<Timestamp>(), Ok(t));
        prop_assert_eq!(format!("{bare}999Z").parse::<Timestamp>(), Ok(t));
    }

    #[test]
    fn whole_seconds_parse_without_a_fraction(secs in FIRST_MICROS / 1_000_000..=LAST_MICROS / 1_000_000) {
        let t = Timestamp::from_micros(secs * 1_000_000);
        let text = t.to_string().replace(".000000", "");
        prop_assert_eq!(text.parse::<Timestamp>(), Ok(t));
    }

    #[test]
    fn timestamps_in_json_strings_parse_or_fail(s in any::<String>()) {
        let json = serde_json::to_string(&s).unwrap();
        let _ = serde_json::from_str::<Timestamp>(&json);
    }

    #[test]
    fn any_bytes_parse_or_fail_as_every_wire_type(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        every_type(&bytes);
    }

    #[test]
    fn any_json_parses_or_fails_as_every_wire_type(value in json_values()) {
        every_type(value.to_string().as_bytes());
    }
}

/// Arbitrary JSON documents, with the field names of the wire types so that parsing gets
/// past the first key.
fn json_values() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let key = prop_oneof![
        Just("id".to_owned()),
        Just("username".to_owned()),
        Just("about_me".to_owned()),
        Just("first_seen".to_owned()),
        Just("timestamp".to_owned()),
        Just("author".to_owned()),
        Just("data".to_owned()),
        Just("pagination".to_owned()),
        Just("errors".to_owned()),
        Just("json".to_owned()),
        Just("code".to_owned()),
        Just("text".to_owned()),
        Just("expires_at".to_owned()),
        "\\PC{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        near_timestamps().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Parses `bytes` as every type of the contract; a panic fails the property.
fn every_type(bytes: &[u8]) {
    fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) {
        let _ = serde_json::from_slice::<T>(bytes);
    }
    parse::<Timestamp>(bytes);
    parse::<User>(bytes);
    parse::<Post>(bytes);
    parse::<Page<Post>>(bytes);
    parse::<Page<User>>(bytes);
    parse::<Token>(bytes);
    parse::<ErrorBody>(bytes);
    parse::<FieldErrors>(bytes);
    parse::<NewUser>(bytes);
    parse::<UpdateMe>(bytes);
    parse::<PostText>(bytes);
    parse::<RefreshRequest>(bytes);
    parse::<ResetRequest>(bytes);
    parse::<PasswordReset>(bytes);
    parse::<TwoFactorStatus>(bytes);
    parse::<PasswordConfirmation>(bytes);
    parse::<TwoFactorSetup>(bytes);
    parse::<TwoFactorCode>(bytes);
    parse::<PasswordAndCode>(bytes);
    parse::<RecoveryCodes>(bytes);
    parse::<TwoFactorChallenge>(bytes);
    parse::<TwoFactorLogin>(bytes);
    parse::<SessionInfo>(bytes);
    parse::<Vec<SessionInfo>>(bytes);
    parse::<RevokedSessions>(bytes);
    parse::<Health>(bytes);
    parse::<Jwks>(bytes);
}

// --- Regression cases found by the properties above, kept by name -----------------------

/// A multi-byte character across the sixth byte of the fraction: the parser sliced the
/// fraction there and panicked (a handler crash on `GET /api/posts?after=...`).
#[test]
fn a_multibyte_character_in_the_fraction_is_refused() {
    for s in [
        "2026-01-01T00:00:00.00000éZ",
        "2026-01-01T00:00:00.00000💥Z",
        "2026-01-01T00:00:00.0000é",
        "2026-01-01T00:00:00.é",
        // Found by `mutated_timestamps_parse_or_fail`: a 3-byte character at bytes 4..7.
        "1970-01-01T00:00:00.0000\u{800}00Z",
        // Found by `near_timestamps_parse_or_fail`: a 2-byte character at bytes 5..7.
        "1970-01-01T00:00:00.00000¡",
    ] {
        assert!(s.parse::<Timestamp>().is_err(), "{s}");
    }
}
