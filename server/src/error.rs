//! The one error type of the API. Every failure becomes the contract's JSON error body;
//! database and unexpected errors become an opaque 500 whose details go to the log only.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use wire::{ErrorBody, FieldErrors};

/// What went wrong, and so which status the client gets.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `Validation Error`, with messages by field.
    #[error("validation failed")]
    Validation(FieldErrors),
    /// 400, for bad input that is not about one field (a bad reset token, say).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 401 after a failed HTTP Basic login: `WWW-Authenticate: Form`, never `Basic`, so
    /// browsers do not pop up their own login dialog.
    #[error("invalid credentials")]
    BadCredentials,
    /// 401 for a missing, expired or revoked token.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// 403: authenticated, but not allowed (editing someone else's post).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// 404.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// 405, for a known path with an unsupported method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 408: the request did not arrive in time (a body sent too slowly).
    #[error("request timeout")]
    RequestTimeout,
    /// 410: what the request names is used up for good (a dead 2FA challenge): start over.
    #[error("gone: {0}")]
    Gone(&'static str),
    /// 409: the request conflicts with the current state (already followed).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// 413: the body is larger than the API accepts.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 415: a JSON body without `Content-Type: application/json`.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 429 with `Retry-After`.
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// 503 with `Retry-After`: too busy right now (the password hashing queue is full).
    #[error("service unavailable")]
    Unavailable { retry_after_secs: u64 },
    /// 502: a service we depend on (an OAuth provider) could not be reached.
    #[error("bad gateway: {0}")]
    BadGateway(&'static str),
    /// 500. The cause is logged, never sent.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// How long a client is asked to wait when the database is away or full.
pub const DATABASE_RETRY_AFTER_SECS: u64 = 5;

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(anyhow::Error::new(e).context("database error"))
    }
}

impl ApiError {
    /// A database that cannot be reached, or cannot write (full disk), is a 503 the client
    /// may retry, not a 500: whatever the flow wrapped the error in.
    fn database_unavailable(&self) -> bool {
        match self {
            Self::Internal(e) => e
                .chain()
                .filter_map(|c| c.downcast_ref::<sqlx::Error>())
                .any(crate::db::is_unavailable),
            _ => false,
        }
    }
}

impl ApiError {
    /// A validation error on one field of the JSON body.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(Validation::default().json(field, message).errors)
    }

    /// A validation error on one query-string parameter.
    pub fn query(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(Validation::default().query(field, message).errors)
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::BadCredentials | Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Gone(_) => StatusCode::GONE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The body the client sees.
    pub fn body(&self) -> ErrorBody {
        let status = self.status();
        let (message, description, errors) = match self {
            Self::Validation(errors) => (
                "Validation Error".to_owned(),
                "The request was invalid; see the errors for each field.".to_owned(),
                Some(errors.clone()),
            ),
            Self::BadRequest(d) => (reason(status), d.clone(), None),
            Self::BadCredentials => (
                reason(status),
                "Invalid username, email or password.".to_owned(),
                None,
            ),
            Self::Unauthorized(d)
            | Self::Forbidden(d)
            | Self::NotFound(d)
            | Self::Conflict(d)
            | Self::Gone(d)
            | Self::BadGateway(d) => (reason(status), (*d).to_owned(), None),
            Self::MethodNotAllowed => (
                reason(status),
                "The method is not allowed for the requested URL.".to_owned(),
                None,
            ),
            Self::RequestTimeout => (
                reason(status),
                "The request took too long to arrive.".to_owned(),
                None,
            ),
            Self::PayloadTooLarge => (
                reason(status),
                "The request body is too large.".to_owned(),
                None,
            ),
            Self::UnsupportedMediaType => (
                reason(status),
                "Send the body as JSON with Content-Type: application/json.".to_owned(),
                None,
            ),
            Self::TooManyRequests { retry_after_secs } => (
                reason(status),
                format!("Too many attempts. Try again in {retry_after_secs} seconds."),
                None,
            ),
            Self::Unavailable { retry_after_secs } => (
                reason(status),
                format!("The server is busy. Try again in {retry_after_secs} seconds."),
                None,
            ),
            Self::Internal(_) => (
                reason(status),
                "Something went wrong on our side. Please try again.".to_owned(),
                None,
            ),
        };
        ErrorBody {
            code: status.as_u16(),
            message,
            description,
            errors,
        }
    }
}

fn reason(status: StatusCode) -> String {
    status.canonical_reason().unwrap_or("Error").to_owned()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let this = if self.database_unavailable() {
            if let Self::Internal(e) = &self {
                tracing::warn!(error = %format!("{e:#}"), "database unavailable");
            }
            Self::Unavailable {
                retry_after_secs: DATABASE_RETRY_AFTER_SECS,
            }
        } else {
            self
        };
        if let Self::Internal(e) = &this {
            tracing::error!(error = ?e, "internal error");
        }
        let mut response = (this.status(), axum::Json(this.body())).into_response();
        let headers = response.headers_mut();
        match &this {
            Self::BadCredentials => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Form"));
            }
            Self::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"Authentication Required\""),
                );
            }
            Self::TooManyRequests { retry_after_secs } | Self::Unavailable { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

/// Collects field errors, then fails if there are any.
#[derive(Debug, Default)]
pub struct Validation {
    errors: FieldErrors,
}

impl Validation {
    pub fn json(mut self, field: &str, message: impl Into<String>) -> Self {
        push(&mut self.errors.json, field, message.into());
        self
    }

    pub fn query(mut self, field: &str, message: impl Into<String>) -> Self {
        push(&mut self.errors.query, field, message.into());
        self
    }

    /// Records the error of a parse, if any, under a body field, and returns the value.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(message) => {
                push(&mut self.errors.json, field, message);
                None
            }
        }
    }

    pub fn into_errors(self) -> FieldErrors {
        self.errors
    }

    pub fn is_empty(&self) -> bool {
        self.errors.json.is_empty() && self.errors.query.is_empty()
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

fn push(map: &mut BTreeMap<String, Vec<String>>, field: &str, message: String) {
    map.entry(field.to_owned()).or_default().push(message);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let e = ApiError::Internal(anyhow::anyhow!("password_hash column missing"));
        let body = e.body();
        assert_eq!(body.code, 500);
        assert!(!body.description.contains("password_hash"));
    }

    #[test]
    fn validation_collects_messages_per_field() {
        let mut v = Validation::default().json("username", "Too short.");
        assert_eq!(v.check::<()>("email", Err("Not an email.".into())), None);
        let ApiError::Validation(errors) = v.finish().unwrap_err() else {
            panic!("expected a validation error")
        };
        assert_eq!(errors.json["username"], ["Too short."]);
        assert_eq!(errors.json["email"], ["Not an email."]);
    }

    #[test]
    fn a_database_out_of_reach_is_a_503_to_retry() {
        for e in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
        ] {
            let wrapped = ApiError::Internal(anyhow::Error::new(e).context("loading the feed"));
            let response = wrapped.into_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(
                response.headers()[header::RETRY_AFTER],
                DATABASE_RETRY_AFTER_SECS.to_string()
            );
        }
        let response = ApiError::from(sqlx::Error::RowNotFound).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn failed_basic_login_asks_for_a_form_not_a_browser_dialog() {
        let response = ApiError::BadCredentials.into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Form");
    }
}
