//! Codes and tokens as clients type or send them: TOTP codes, recovery codes, base32
//! secrets, sealed refresh tokens, Bearer headers.

use axum::http::{HeaderValue, Request, header};
use proptest::prelude::*;

use super::{config, header_bytes, text};
use crate::auth::{bearer, token, totp};

/// A recovery code as someone might type it: any case, with spaces and dashes anywhere.
fn typed_like(code: &str, upper: &[bool], gaps: &[u8]) -> String {
    code.chars()
        .filter(|c| *c != '-')
        .enumerate()
        .flat_map(|(i, c)| {
            let c = if upper.get(i).copied().unwrap_or(false) {
                c.to_ascii_uppercase()
            } else {
                c
            };
            let gap = match gaps.get(i).copied().unwrap_or(0) % 4 {
                1 => Some(' '),
                2 => Some('-'),
                _ => None,
            };
            std::iter::once(c).chain(gap)
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_code_normalises_or_is_refused(code in text()) {
        if let Some(normal) = totp::normalize_code(&code) {
            prop_assert_eq!(normal.len(), 6);
            prop_assert!(normal.bytes().all(|b| b.is_ascii_digit()));
        }
        if let Some(normal) = totp::normalize_recovery_code(&code) {
            prop_assert_eq!(normal.len(), 16);
            prop_assert_eq!(totp::normalize_recovery_code(&normal), Some(normal.clone()));
        }
    }

    #[test]
    fn six_digits_with_spaces_or_a_dash_normalise(digits in "[0-9]{6}", sep in "( |-|  )?", at in 1usize..6) {
        let typed = format!("{}{sep}{}", &digits[..at], &digits[at..]);
        prop_assert_eq!(totp::normalize_code(&typed), Some(digits));
    }

    #[test]
    fn recovery_codes_normalise_however_they_are_typed(
        upper in prop::collection::vec(any::<bool>(), 16),
        gaps in prop::collection::vec(any::<u8>(), 16),
    ) {
        let code = totp::generate_recovery_code();
        let expected = code.replace('-', "");
        prop_assert_eq!(totp::normalize_recovery_code(&typed_like(&code, &upper, &gaps)), Some(expected));
    }

    #[test]
    fn any_secret_and_code_match_or_not(secret in text(), code in text(), unix in any::<u64>()) {
        // `step_at` bounds the steps a clock can give, as the server computes them.
        let _ = totp::matching_step(&secret, &code, totp::step_at(unix));
        let _ = totp::base32_decode(&secret);
    }

    #[test]
    fn the_code_of_a_step_matches_that_step(bytes in prop::collection::vec(any::<u8>(), 20), unix in any::<u64>()) {
        let secret = totp::base32_encode(&bytes);
        prop_assert_eq!(totp::base32_decode(&secret), Some(bytes.clone()));
        let step = totp::step_at(unix);
        let code = totp::code_at(&bytes, step);
        let found = totp::matching_step(&secret, &code, step);
        // Another step in the window may share the code (1 in a million): then it's that one.
        prop_assert!(found.is_some_and(|s| (step - totp::WINDOW..=step + totp::WINDOW).contains(&s)));
    }

    #[test]
    fn any_sealed_token_opens_or_is_refused(sealed in text(), key in text()) {
        let _ = token::open(&sealed, &key);
        let _ = token::seal(&sealed, &key);
    }

    #[test]
    fn any_authorization_header_gives_a_bearer_token_or_none(bytes in header_bytes()) {
        let mut request = Request::new(());
        request
            .headers_mut()
            .insert(header::AUTHORIZATION, HeaderValue::from_bytes(&bytes).expect("header bytes"));
        let (parts, ()) = request.into_parts();
        if let Some(token) = bearer(&parts) {
            prop_assert!(!token.is_empty() && token.trim() == token);
        }
    }
}
