//! Pagination as the contract has it: `limit` (default and most 25), then either `offset`
//! or `after` (a timestamp on post lists, a username on follower lists), never both.

use serde::Deserialize;
use utoipa::IntoParams;
use wire::{Page, Pagination, Timestamp, limits::PAGE_LIMIT};

use crate::error::{ApiError, Validation};

/// The query string of every list endpoint. Unknown parameters are ignored.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page: 1 or more; more than 25 is taken as 25. Default 25.
    pub limit: Option<i64>,
    /// Items to skip; 0 or more, and less than the total. Not with `after`.
    pub offset: Option<i64>,
    /// Start strictly after this item: a timestamp on post lists, a username on follower
    /// and following lists. Not with `offset`.
    pub after: Option<String>,
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start<A> {
    Offset(i64),
    After(A),
}

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<A> {
    pub limit: i64,
    pub start: Start<A>,
}

impl PageQuery {
    /// For lists with no order to continue from (`/users`): `after` is refused.
    /// With both `offset` and `after`, the error is the same as on other lists.
    pub fn offset_only(self) -> Result<PageRequest<()>, ApiError> {
        self.parse(|_| Err("This list has no order to continue from; use offset.".into()))
    }

    /// For post lists, newest first: `after` is a timestamp.
    pub fn after_timestamp(self) -> Result<PageRequest<Timestamp>, ApiError> {
        self.parse(|s| s.parse::<Timestamp>().map_err(|e| e.to_string()))
    }

    /// For follower and following lists, by username: `after` is a username.
    pub fn after_username(self) -> Result<PageRequest<String>, ApiError> {
        self.parse(|s| Ok(s.to_owned()))
    }

    fn parse<A>(
        self,
        after: impl Fn(&str) -> Result<A, String>,
    ) -> Result<PageRequest<A>, ApiError> {
        let mut v = Validation::default();
        let limit = match self.limit {
            None => PAGE_LIMIT,
            Some(l) if l <= 0 => {
                v = v.query("limit", "Must be greater than or equal to 1.");
                PAGE_LIMIT
            }
            Some(l) => l.min(PAGE_LIMIT),
        };
        if matches!(self.offset, Some(o) if o < 0) {
            v = v.query("offset", "Must be greater than or equal to 0.");
        }
        if self.offset.is_some() && self.after.is_some() {
            v = v.query("_schema", "Cannot specify both offset and after.");
        }
        let start = match (&self.after, self.offset) {
            (Some(a), None) => match after(a) {
                Ok(a) => Some(Start::After(a)),
                Err(message) => {
                    v = v.query("after", message);
                    None
                }
            },
            (_, offset) => Some(Start::Offset(offset.unwrap_or(0))),
        };
        v.finish()?;
        Ok(PageRequest {
            limit,
            start: start.unwrap_or(Start::Offset(0)),
        })
    }
}

/// Wraps one page of items. `offset` is where the page starts in the whole list (with
/// `after`: how many items are at or before the `after` value). An offset at or past a
/// non-empty list's end is a client error.
pub fn page<T>(data: Vec<T>, offset: i64, limit: i64, total: i64) -> Result<Page<T>, ApiError> {
    if total > 0 && offset >= total {
        return Err(ApiError::query("offset", "Past the end of the list."));
    }
    let count = i64::try_from(data.len()).unwrap_or(i64::MAX);
    Ok(Page {
        data,
        pagination: Pagination {
            offset,
            limit,
            count,
            total,
        },
    })
}

/// Wraps one page that starts strictly after an `after` value; `offset` is the number of
/// items at or before that value. An `after` beyond the last item is no error: the client
/// simply gets an empty page with `offset == total`.
pub fn page_after<T>(data: Vec<T>, offset: i64, limit: i64, total: i64) -> Page<T> {
    let count = i64::try_from(data.len()).unwrap_or(i64::MAX);
    Page {
        data,
        pagination: Pagination {
            offset,
            limit,
            count,
            total,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(limit: Option<i64>, offset: Option<i64>, after: Option<&str>) -> PageQuery {
        PageQuery {
            limit,
            offset,
            after: after.map(str::to_owned),
        }
    }

    fn query_errors(e: ApiError) -> Vec<String> {
        match e {
            ApiError::Validation(errors) => errors.query.keys().cloned().collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_and_clamps_the_limit() {
        let p = query(None, None, None).after_timestamp().unwrap();
        assert_eq!(
            p,
            PageRequest {
                limit: 25,
                start: Start::Offset(0)
            }
        );
        assert_eq!(
            query(Some(500), None, None).offset_only().unwrap().limit,
            25
        );
        assert_eq!(
            query(Some(3), Some(6), None).offset_only().unwrap().start,
            Start::Offset(6)
        );
    }

    #[test]
    fn refuses_bad_limits_offsets_and_combinations() {
        let e = query(Some(0), Some(-1), None).offset_only().unwrap_err();
        assert_eq!(query_errors(e), ["limit", "offset"]);
        let e = query(None, Some(0), Some("susan"))
            .after_username()
            .unwrap_err();
        assert_eq!(query_errors(e), ["_schema"]);
        let e = query(None, None, Some("susan")).offset_only().unwrap_err();
        assert_eq!(query_errors(e), ["after"]);
        let e = query(None, Some(1), Some("susan"))
            .offset_only()
            .unwrap_err();
        assert_eq!(query_errors(e), ["_schema"]);
        let e = query(None, None, Some("last tuesday"))
            .after_timestamp()
            .unwrap_err();
        assert_eq!(query_errors(e), ["after"]);
    }

    #[test]
    fn after_parses_per_list_kind() {
        let p = query(None, None, Some("2026-11-29T14:12:51.349565Z"))
            .after_timestamp()
            .unwrap();
        assert_eq!(
            p.start,
            Start::After("2026-11-29T14:12:51.349565Z".parse().unwrap())
        );
        let p = query(None, None, Some("susan")).after_username().unwrap();
        assert_eq!(p.start, Start::After("susan".to_owned()));
    }

    #[test]
    fn offset_past_the_end_is_refused_unless_the_list_is_empty() {
        assert!(page::<()>(vec![], 0, 25, 0).is_ok());
        assert!(page::<()>(vec![], 3, 25, 3).is_err());
        let p = page(vec![1, 2], 1, 25, 3).unwrap();
        assert_eq!(
            p.pagination,
            Pagination {
                offset: 1,
                limit: 25,
                count: 2,
                total: 3
            }
        );
    }
}
