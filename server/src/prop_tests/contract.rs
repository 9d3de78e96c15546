//! The OpenAPI document states each field's rule as a JSON Schema (length and pattern);
//! the server applies it with a parser. Here the two must agree on any input: a value the
//! document calls valid parses, and a value it calls invalid is refused. A client that
//! generates code from the document, or schemathesis, then sees no difference.

use proptest::prelude::*;
use regex::Regex;
use wire::{Timestamp, limits};

use super::{config, text};
use crate::auth::totp::normalize_code;
use crate::domain::{AboutMe, Email, NewPassword, PostText, Username};

fn matches(pattern: &'static str, s: &str) -> bool {
    // Compiled once per pattern: compiling one for every case made a test take a minute.
    static COMPILED: std::sync::LazyLock<
        std::sync::Mutex<std::collections::HashMap<&'static str, Regex>>,
    > = std::sync::LazyLock::new(Default::default);
    let mut compiled = COMPILED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    compiled
        .entry(pattern)
        .or_insert_with(|| Regex::new(pattern).expect("the document's patterns compile"))
        .is_match(s)
}

/// JSON Schema counts lengths in Unicode code points, as `chars()` does.
fn chars(s: &str) -> usize {
    s.chars().count()
}

fn username_in_schema(s: &str) -> bool {
    (limits::USERNAME_MIN_CHARS..=limits::USERNAME_MAX_CHARS).contains(&chars(s))
        && matches(limits::USERNAME_PATTERN, s)
}

fn email_in_schema(s: &str) -> bool {
    chars(s) <= limits::EMAIL_MAX_CHARS && matches(limits::EMAIL_PATTERN, s)
}

fn post_in_schema(s: &str) -> bool {
    chars(s) <= limits::POST_MAX_CHARS && matches(limits::NOT_BLANK_PATTERN, s)
}

/// Text near the edges of every rule: whitespace of every kind, separators, digits.
fn edgy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Z0-9]{1,8}",
        "[0-9]{1,4}",
        prop::sample::select(vec![
            " ",
            "\t",
            "\n",
            "\u{b}",
            "\u{c}",
            "\r",
            "\u{85}",
            "\u{a0}",
            "\u{1680}",
            "\u{2000}",
            "\u{200a}",
            "\u{2028}",
            "\u{2029}",
            "\u{202f}",
            "\u{205f}",
            "\u{3000}",
            "\u{1c}",
            "\u{1f}",
            "\u{7f}",
            "\u{9f}",
            "\u{200b}",
            "\u{feff}",
            "@",
            ":",
            ".",
            "..",
            "_",
            "-",
            "é",
            "\u{1F600}",
            "x@y.z",
        ])
        .prop_map(str::to_owned),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![text(), edgy()]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_username_rule_is_the_parser(s in any_text()) {
        prop_assert_eq!(username_in_schema(&s), Username::parse(&s).is_ok(), "{:?}", s);
    }

    #[test]
    fn the_email_rule_is_the_parser(s in any_text()) {
        prop_assert_eq!(email_in_schema(&s), Email::parse(&s).is_ok(), "{:?}", s);
    }

    #[test]
    fn emails_near_valid_ones_agree(
        local in "[a-z0-9.:_ -]{0,6}",
        domain in "[a-z0-9.: -]{0,8}",
        tail in prop::sample::select(vec!["", ".", ".com", "..", " ", "\u{a0}"]),
    ) {
        let s = format!("{local}@{domain}{tail}");
        prop_assert_eq!(email_in_schema(&s), Email::parse(&s).is_ok(), "{:?}", s);
    }

    #[test]
    fn the_post_rule_is_the_parser(s in any_text(), pad in 0usize..300) {
        for s in [s.clone(), format!("{s}{}", " ".repeat(pad)), "é".repeat(pad)] {
            prop_assert_eq!(post_in_schema(&s), PostText::parse(&s).is_ok(), "{:?}", s);
        }
    }

    #[test]
    fn the_about_me_rule_is_the_parser(s in any_text(), n in 130usize..150) {
        for s in [s.clone(), "a".repeat(n), format!(" {}", "b".repeat(n))] {
            prop_assert_eq!(chars(&s) <= limits::ABOUT_ME_MAX_CHARS, AboutMe::parse(&s).is_ok());
        }
    }

    #[test]
    fn a_password_the_rule_refuses_is_refused(s in any_text(), n in 0usize..300) {
        for s in [s.clone(), "q".repeat(n)] {
            let in_schema = (limits::PASSWORD_MIN_CHARS..=limits::PASSWORD_MAX_CHARS).contains(&chars(&s));
            // Within the lengths, only the list of common passwords is refused besides.
            if !in_schema {
                prop_assert!(NewPassword::parse(&s).is_err());
            }
        }
    }

    #[test]
    fn the_code_rule_is_the_parser(s in prop_oneof![any_text(), "[0-9 -]{0,12}", "[0-9]{5,7}"]) {
        prop_assert_eq!(matches(limits::TOTP_CODE_PATTERN, &s), normalize_code(&s).is_some(), "{:?}", s);
    }

    #[test]
    fn the_timestamp_rule_is_the_parser(
        s in prop_oneof![
            any_text(),
            "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,10})?(Z|\\+00:00|\\+01:00|z)?",
            "[0-9]{2}(00|04|96|58)-02-(28|29|30)T23:59:59Z",
        ]
    ) {
        prop_assert_eq!(
            matches(limits::TIMESTAMP_PATTERN, &s),
            s.parse::<Timestamp>().is_ok(),
            "{:?}", s
        );
    }
}

/// The leap years of the Gregorian calendar, at the century edges.
#[test]
fn february_29_is_valid_in_leap_years_only() {
    for (year, leap) in [
        ("2024", true),
        ("2023", false),
        ("2000", true),
        ("1900", false),
        ("0000", true),
        ("0100", false),
        ("2400", true),
    ] {
        let s = format!("{year}-02-29T00:00:00Z");
        assert_eq!(matches(limits::TIMESTAMP_PATTERN, &s), leap, "{s}");
        assert_eq!(s.parse::<Timestamp>().is_ok(), leap, "{s}");
    }
}
