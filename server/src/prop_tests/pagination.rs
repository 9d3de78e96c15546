//! The query string of every list endpoint, from the raw query to a page request.

use axum::extract::Query;
use axum::http::Uri;
use proptest::prelude::*;
use wire::Timestamp;
use wire::limits::PAGE_LIMIT;

use super::{config, text};
use crate::error::ApiError;
use crate::routes::pagination::{PageQuery, PageRequest, Start};

/// Percent-encodes every byte, so any text fits in a query string.
fn encode(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// Checks what every list's parse promises: a validation error, or a bounded request.
fn check<A>(parsed: Result<PageRequest<A>, ApiError>) -> Result<(), TestCaseError> {
    match parsed {
        Ok(request) => {
            prop_assert!((1..=PAGE_LIMIT).contains(&request.limit));
            if let Start::Offset(offset) = request.start {
                prop_assert!(offset >= 0);
            }
        }
        Err(e) => prop_assert!(matches!(e, ApiError::Validation(_)), "{e:?}"),
    }
    Ok(())
}

fn page_query(limit: Option<i64>, offset: Option<i64>, after: Option<String>) -> PageQuery {
    PageQuery {
        limit,
        offset,
        after,
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_parameters_give_a_page_request_or_a_validation_error(
        limit in any::<Option<i64>>(),
        offset in any::<Option<i64>>(),
        after in prop::option::of(text()),
    ) {
        check(page_query(limit, offset, after.clone()).offset_only())?;
        check(page_query(limit, offset, after.clone()).after_timestamp())?;
        check(page_query(limit, offset, after).after_username())?;
    }

    #[test]
    fn any_query_string_parses_or_is_refused(
        pairs in prop::collection::vec(
            (prop_oneof![Just("limit".to_owned()), Just("offset".to_owned()), Just("after".to_owned()), text()], text()),
            0..5,
        ),
    ) {
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        let uri: Uri = format!("/api/posts?{}", query.join("&")).parse().expect("an encoded URI");
        // Axum's own parse (as the extractor runs it), then ours.
        if let Ok(Query(q)) = Query::<PageQuery>::try_from_uri(&uri) {
            check(q.after_timestamp())?;
        }
    }

    #[test]
    fn a_timestamp_cursor_round_trips(micros in -62_167_219_200_000_000i64..=253_402_300_799_999_999) {
        let t = Timestamp::from_micros(micros);
        let request = page_query(None, None, Some(t.to_string())).after_timestamp().unwrap();
        prop_assert_eq!(request.start, Start::After(t));
    }
}

/// The request of the audit: a multibyte character in the fraction of `after`.
#[test]
fn a_multibyte_after_is_a_validation_error() {
    let uri: Uri = "/api/posts?after=2026-01-01T00:00:00.00000%C3%A9Z"
        .parse()
        .unwrap();
    let Query(q) = Query::<PageQuery>::try_from_uri(&uri).unwrap();
    let Err(ApiError::Validation(errors)) = q.after_timestamp() else {
        panic!("expected a validation error");
    };
    assert!(errors.query.contains_key("after"));
}
