//! Property tests: arbitrary input to every parser of requests (headers, query strings,
//! JSON bodies, codes, names) gives a value or an error, never a panic, which would cost
//! the client its answer. Failing cases found here are kept as named tests beside them.

mod auth;
mod contract;
mod domain;
mod extract;
mod json;
mod jwt;
mod pagination;

use proptest::prelude::*;

/// Thousands of cases per property, in every `cargo nextest` run.
pub fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 4096,
        // Failures are kept as named regression tests, not in side files.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Any text: mostly arbitrary Unicode, sometimes ASCII punctuation and digits, which reach
/// deeper into parsers that look for separators.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,40}",
        "[0-9a-zA-Z:;=, .@-]{0,40}",
        "(\\PC|[:;=, .@-]){0,24}",
    ]
}

/// Any bytes a header value may hold (visible ASCII, space, tab and obs-text).
pub fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            0x20u8..=0x7e,
            Just(b'\t'),
            0x80u8..=0xff,
            prop::sample::select(b":;=, -_.%+/".to_vec()),
        ],
        0..64,
    )
}
