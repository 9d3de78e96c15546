//! The last line of defence: a panic in a handler still answers the contract's JSON 500.

use std::panic::AssertUnwindSafe;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;

use crate::error::ApiError;

/// Turns a panic in an API handler into the contract's JSON 500 (the body of any internal
/// error) instead of a dropped connection, and logs it with the request's method and path,
/// never the query string, which may carry a token.
pub async fn catch_panic(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(response) => response,
        Err(_) => {
            // The payload is not logged: it may quote the input that caused the panic.
            tracing::error!(%method, path, "a handler panicked");
            let body = ApiError::Internal(anyhow::anyhow!("a handler panicked")).body();
            (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::middleware;
    use tower::ServiceExt;

    use super::*;

    /// Log lines written by the code under test.
    #[derive(Clone, Default)]
    struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Logs {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    async fn panics() -> &'static str {
        panic!("the message may quote input like s3cr3t")
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_the_json_500_and_logs_its_path_only() {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = Router::new()
            .route("/api/boom", axum::routing::get(panics))
            .layer(middleware::from_fn(catch_panic));
        let req = axum::http::Request::get("/api/boom?token=s3cr3t")
            .body(Body::empty())
            .unwrap();
        let res = app.oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let body: wire::ErrorBody = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body, ApiError::Internal(anyhow::anyhow!("x")).body());
        let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        assert!(logs.contains("a handler panicked"), "{logs}");
        assert!(logs.contains("/api/boom"), "{logs}");
        assert!(
            !logs.contains("s3cr3t") && !logs.contains("token"),
            "{logs}"
        );
    }
}
