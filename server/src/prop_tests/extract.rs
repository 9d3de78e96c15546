//! The request-header parsers of `extract.rs`: Basic credentials, cookies,
//! `X-Forwarded-For`.

use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;

use super::{config, header_bytes, text};
use crate::extract::{basic_credentials, cookie, forwarded_for};

fn with_header(name: header::HeaderName, bytes: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(name, HeaderValue::from_bytes(bytes).expect("header bytes"));
    headers
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_authorization_header_gives_credentials_or_none(bytes in header_bytes()) {
        let _ = basic_credentials(&with_header(header::AUTHORIZATION, &bytes));
    }

    #[test]
    fn any_base64_payload_gives_credentials_or_none(
        payload in prop::collection::vec(any::<u8>(), 0..64),
        scheme in "(Basic|basic|BASIC|Bearer|Basi) {1,2}",
    ) {
        let value = format!("{scheme}{}", STANDARD.encode(&payload));
        let _ = basic_credentials(&with_header(header::AUTHORIZATION, value.as_bytes()));
    }

    #[test]
    fn basic_credentials_round_trip(name in "[^:]{0,20}", password in text()) {
        let value = format!("Basic {}", STANDARD.encode(format!("{name}:{password}")));
        prop_assert_eq!(
            basic_credentials(&with_header(header::AUTHORIZATION, value.as_bytes())),
            Some((name, password))
        );
    }

    #[test]
    fn any_cookie_header_gives_a_value_or_none(bytes in header_bytes(), name in text()) {
        let headers = with_header(header::COOKIE, &bytes);
        let _ = cookie(&headers, &name);
        let _ = cookie(&headers, "refresh_token");
    }

    #[test]
    fn a_cookie_is_found_among_others(
        before in prop::collection::vec(("[a-z]{1,8}", "[\\x21\\x23-\\x2B\\x2D-\\x3A\\x3C-\\x7E]{0,12}"), 0..4),
        value in "[\\x21\\x23-\\x2B\\x2D-\\x3A\\x3C-\\x7E]{1,43}",
        after in prop::collection::vec(("[a-z]{1,8}", "[\\x21\\x23-\\x2B\\x2D-\\x3A\\x3C-\\x7E]{0,12}"), 0..4),
    ) {
        // Other cookies never share the name (a browser would send only one).
        let others = |pairs: &[(String, String)]| -> Vec<String> {
            pairs
                .iter()
                .filter(|(k, _)| k != "refresh_token")
                .map(|(k, v)| format!("{k}={v}"))
                .collect()
        };
        let mut all = others(&before);
        all.push(format!("refresh_token={value}"));
        all.extend(others(&after));
        let headers = with_header(header::COOKIE, all.join("; ").as_bytes());
        prop_assert_eq!(cookie(&headers, "refresh_token"), Some(value));
    }

    #[test]
    fn any_forwarded_for_gives_an_address_or_none(
        values in prop::collection::vec(header_bytes(), 0..4),
    ) {
        let mut headers = HeaderMap::new();
        for v in &values {
            headers.append("x-forwarded-for", HeaderValue::from_bytes(v).expect("header bytes"));
        }
        let _ = forwarded_for(&headers);
    }

    #[test]
    fn the_last_forwarded_address_is_the_one_read(
        earlier in prop::collection::vec(any::<IpAddr>(), 0..4),
        last in any::<IpAddr>(),
        spaces in " {0,2}",
    ) {
        let mut list: Vec<String> = earlier.iter().map(ToString::to_string).collect();
        list.push(format!("{spaces}{last}{spaces}"));
        let headers = with_header(
            header::HeaderName::from_static("x-forwarded-for"),
            list.join(",").as_bytes(),
        );
        prop_assert_eq!(forwarded_for(&headers), Some(last));
    }
}
