//! What can go wrong with an API call, and what to tell the user about it.

use std::fmt;

use wire::ErrorBody;

/// A failed API call. `Display` is the message to show to a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// The server answered with a non-success status (its error body, when it sent one).
    Status {
        status: u16,
        body: Option<ErrorBody>,
    },
    /// No answer at all: the server is down, the network is gone, or CORS refused it.
    Network,
    /// An answer the contract does not allow (e.g. a body that does not parse). Without the
    /// parser's own message: the person is shown a sentence of ours, and formatting serde's
    /// or gloo's errors would put their formatting code in the first download.
    Unexpected,
}

impl ApiError {
    /// Builds the error for a non-success answer from its status and raw body.
    pub fn from_response(status: u16, body: &str) -> Self {
        Self::Status {
            status,
            body: serde_json::from_str(body).ok(),
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn is_status(&self, code: u16) -> bool {
        self.status() == Some(code)
    }

    /// The server's own description of the failure, when it sent one.
    pub fn description(&self) -> Option<&str> {
        match self {
            Self::Status {
                body: Some(body), ..
            } if !body.description.is_empty() => Some(&body.description),
            _ => None,
        }
    }

    /// The validation messages for one body field (`errors.json.<field>`).
    pub fn field_errors(&self, field: &str) -> Vec<String> {
        match self {
            Self::Status {
                body:
                    Some(ErrorBody {
                        errors: Some(errors),
                        ..
                    }),
                ..
            } => errors.json.get(field).cloned().unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Network => {
                f.write_str("Cannot reach the server. Check your connection and try again.")
            }
            Self::Unexpected => {
                f.write_str("The server sent an answer this page does not understand.")
            }
            // The server's text says how long to wait (from `Retry-After`).
            Self::Status {
                status: 429,
                body: Some(body),
            } if !body.description.is_empty() => f.write_str(&body.description),
            Self::Status { status: 429, .. } => {
                f.write_str("Too many attempts. Please wait a moment and try again.")
            }
            Self::Status { status, .. } if *status >= 500 => {
                f.write_str("The server had a problem. Please try again later.")
            }
            Self::Status { status: 401, .. } => {
                f.write_str("Your session has ended. Please log in again.")
            }
            Self::Status {
                status: 400,
                body: Some(body),
            } if body.errors.is_some() => f.write_str("Please correct the errors below."),
            Self::Status {
                body: Some(body), ..
            } if !body.description.is_empty() => f.write_str(&body.description),
            Self::Status { status: 404, .. } => f.write_str("Not found."),
            Self::Status { status, .. } => write!(f, "The request failed (HTTP {status})."),
        }
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_come_from_errors_json() {
        let err = ApiError::from_response(
            400,
            r#"{"code":400,"message":"Validation Error","description":"Invalid input.",
                "errors":{"json":{"username":["Use a different username."]}}}"#,
        );
        assert_eq!(err.field_errors("username"), ["Use a different username."]);
        assert!(err.field_errors("email").is_empty());
        assert_eq!(err.to_string(), "Please correct the errors below.");
    }

    #[test]
    fn messages_are_meant_for_people() {
        assert!(
            ApiError::Network
                .to_string()
                .contains("Cannot reach the server")
        );
        let not_found = ApiError::from_response(
            404,
            r#"{"code":404,"message":"Not Found","description":"User not found."}"#,
        );
        assert_eq!(not_found.to_string(), "User not found.");
        assert_eq!(
            ApiError::from_response(502, "<html>").to_string(),
            "The server had a problem. Please try again later."
        );
        assert!(
            ApiError::from_response(429, "")
                .to_string()
                .contains("wait")
        );
        assert!(ApiError::from_response(404, "").is_status(404));
    }

    #[test]
    fn throttling_shows_the_servers_wait() {
        let err = ApiError::from_response(
            429,
            r#"{"code":429,"message":"Too Many Requests","description":"Too many attempts. Try again in 42 seconds."}"#,
        );
        assert_eq!(
            err.to_string(),
            "Too many attempts. Try again in 42 seconds."
        );
        assert_eq!(
            err.description(),
            Some("Too many attempts. Try again in 42 seconds.")
        );
        assert_eq!(ApiError::Network.description(), None);
    }
}
