//! The bottom of the client: one HTTP exchange, nothing more. A trait so the refresh logic
//! above it can be tested against a scripted fake.

use futures::future::LocalBoxFuture;
use gloo_net::http::{Method, RequestBuilder};
use web_sys::RequestCredentials;

use super::ApiError;

/// One HTTP request, fully built (URL, headers, body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
    /// `credentials: 'include'`: only for `/api/tokens*`, where the refresh cookie lives.
    pub with_credentials: bool,
}

impl HttpRequest {
    #[cfg(all(test, target_arch = "wasm32"))]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The status and body text of an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: String,
}

impl HttpResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Sends one request. `Err` only when no answer came back ([`ApiError::Network`]).
pub trait Transport {
    fn send(&self, request: HttpRequest)
    -> LocalBoxFuture<'static, Result<HttpResponse, ApiError>>;
}

/// The browser's `fetch`.
pub struct Fetch;

impl Transport for Fetch {
    fn send(
        &self,
        request: HttpRequest,
    ) -> LocalBoxFuture<'static, Result<HttpResponse, ApiError>> {
        Box::pin(async move {
            let method = match request.method {
                "POST" => Method::POST,
                "PUT" => Method::PUT,
                "DELETE" => Method::DELETE,
                _ => Method::GET,
            };
            let mut builder = RequestBuilder::new(&request.url).method(method);
            for (name, value) in &request.headers {
                builder = builder.header(name, value);
            }
            // `same-origin` is fetch's default; only the token endpoints need more.
            if request.with_credentials {
                builder = builder.credentials(RequestCredentials::Include);
            }
            let built = match request.body {
                Some(body) => builder.body(body),
                None => builder.build(),
            }
            .map_err(|_| ApiError::Unexpected)?;
            let response = built.send().await.map_err(|_| ApiError::Network)?;
            let status = response.status();
            let body = response.text().await.map_err(|_| ApiError::Network)?;
            Ok(HttpResponse { status, body })
        })
    }
}
