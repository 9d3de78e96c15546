//! The HTTP client every API call goes through.
//!
//! It holds the access token in memory only (docs/security.md, "What the browser stores":
//! never in Web Storage, a cookie, the URL or the console), adds it as a Bearer header, and
//! on a 401 refreshes once and retries once. Refreshes are single-flight: concurrent 401s
//! in this tab share one `PUT /api/tokens`, and the refresh runs under a Web Lock so tabs
//! take turns with the shared refresh cookie (see [`super::tabs`]).

use std::cell::RefCell;
use std::rc::Rc;

use futures::FutureExt;
use futures::future::{LocalBoxFuture, Shared};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wire::{Token, TwoFactorChallenge, TwoFactorLogin};

use super::ApiError;
use super::encode::basic_auth;
use super::tabs::with_lock;
use super::transport::{HttpRequest, HttpResponse, Transport};

/// The Web Lock every tab takes before presenting the refresh cookie.
pub const REFRESH_LOCK: &str = "microblog-token-refresh";

type RefreshFuture = Shared<LocalBoxFuture<'static, Result<String, ApiError>>>;

/// A handle to the client; clones share the token and the in-flight refresh.
#[derive(Clone)]
pub struct Client(Rc<Inner>);

struct Inner {
    base: String,
    transport: Box<dyn Transport>,
    lock_name: String,
    token: RefCell<Option<String>>,
    refreshing: RefCell<Option<RefreshFuture>>,
    on_refresh_rejected: RefCell<Option<Rc<dyn Fn()>>>,
}

/// What a correct password leads to.
pub enum LoginOutcome {
    LoggedIn,
    /// The account has 2FA: the code must follow, with this challenge (kept in memory only).
    TwoFactor(TwoFactorChallenge),
}

/// An API call before the client adds the base URL and the credentials.
#[derive(Clone, Debug)]
pub struct ApiRequest {
    pub method: &'static str,
    /// From `/api/...`, query string included.
    pub path: String,
    pub body: Option<String>,
    /// Send the Bearer token, and refresh-and-retry on a 401.
    pub authenticated: bool,
}

impl ApiRequest {
    pub fn new(method: &'static str, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            body: None,
            authenticated: true,
        }
    }

    pub fn json(mut self, body: &impl Serialize) -> Self {
        self.body = Some(serde_json::to_string(body).expect("request bodies serialize"));
        self
    }

    pub fn anonymous(mut self) -> Self {
        self.authenticated = false;
        self
    }
}

/// Whether a path is one of the cookie-authenticated token endpoints. Only these get
/// `credentials: 'include'` (docs/security.md, "In the browser") and, as the server's CSRF
/// defence requires, a JSON content type even without a body.
pub fn is_token_endpoint(path: &str) -> bool {
    path == "/api/tokens" || path.starts_with("/api/tokens/") || path.starts_with("/api/tokens?")
}

impl Client {
    /// A client for the API at `base` (empty: same origin).
    pub fn new(base: impl Into<String>, transport: impl Transport + 'static) -> Self {
        Self::with_lock_name(base, transport, REFRESH_LOCK)
    }

    /// As [`Client::new`] with another lock name (tests simulate tabs with it).
    pub fn with_lock_name(
        base: impl Into<String>,
        transport: impl Transport + 'static,
        lock_name: &str,
    ) -> Self {
        Self(Rc::new(Inner {
            base: base.into(),
            transport: Box::new(transport),
            lock_name: lock_name.to_owned(),
            token: RefCell::new(None),
            refreshing: RefCell::new(None),
            on_refresh_rejected: RefCell::new(None),
        }))
    }

    /// Called when the server refuses a refresh (401): the session is over.
    pub fn on_refresh_rejected(&self, callback: impl Fn() + 'static) {
        *self.0.on_refresh_rejected.borrow_mut() = Some(Rc::new(callback));
    }

    /// Forgets the access token (logout, or another tab logged out).
    pub fn clear_token(&self) {
        self.0.token.borrow_mut().take();
    }

    fn token(&self) -> Option<String> {
        self.0.token.borrow().clone()
    }

    fn build(&self, request: &ApiRequest, token: Option<&str>) -> HttpRequest {
        let mut headers = Vec::new();
        let token_endpoint = is_token_endpoint(&request.path);
        if request.body.is_some() || token_endpoint {
            headers.push(("Content-Type", "application/json".to_owned()));
        }
        if let (true, Some(token)) = (request.authenticated, token) {
            headers.push(("Authorization", format!("Bearer {token}")));
        }
        HttpRequest {
            method: request.method,
            url: format!("{}{}", self.0.base, request.path),
            headers,
            body: request.body.clone(),
            with_credentials: token_endpoint,
        }
    }

    /// Sends `request`; a 401 on an authenticated call refreshes once and retries once.
    /// `Ok` only for a 2xx answer.
    pub async fn send(&self, request: ApiRequest) -> Result<HttpResponse, ApiError> {
        let used = self.token().filter(|_| request.authenticated);
        let response = self
            .0
            .transport
            .send(self.build(&request, used.as_deref()))
            .await?;
        if response.status != 401 || !request.authenticated {
            return check(response);
        }
        let fresh = match self.token_after_401(used.as_deref()).await {
            Ok(token) => token,
            Err(ApiError::Network) => return Err(ApiError::Network),
            Err(_) => return check(response),
        };
        let retried = self
            .0
            .transport
            .send(self.build(&request, Some(&fresh)))
            .await?;
        check(retried)
    }

    /// One exchange through the transport, as it comes back: no refresh on a 401, no check
    /// of the status.
    pub(super) async fn exchange(&self, request: &ApiRequest) -> Result<HttpResponse, ApiError> {
        let token = self.token().filter(|_| request.authenticated);
        self.0
            .transport
            .send(self.build(request, token.as_deref()))
            .await
    }

    /// GETs `path` and parses the JSON answer.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        parse(self.send(ApiRequest::new("GET", path)).await?)
    }

    /// A token fit for retrying a call that got a 401 with `used`: if another caller has
    /// refreshed meanwhile, its token; if the token the call went out with has been dropped
    /// meanwhile (a logout, here or in another tab, or a refused refresh), none: the
    /// session is over, and a refresh would only be refused; otherwise a new refresh (or
    /// the one in flight).
    async fn token_after_401(&self, used: Option<&str>) -> Result<String, ApiError> {
        match self.token() {
            Some(current) if Some(current.as_str()) != used => Ok(current),
            None if used.is_some() => Err(ApiError::Status {
                status: 401,
                body: None,
            }),
            _ => self.refresh().await,
        }
    }

    /// Gets a new access token with the refresh cookie alone (`PUT /api/tokens`, body `{}`).
    /// Single-flight: callers arriving while a refresh is in flight share its result.
    pub async fn refresh(&self) -> Result<String, ApiError> {
        let in_flight = self.0.refreshing.borrow().clone();
        let refresh = match in_flight {
            Some(refresh) => refresh,
            None => {
                let refresh = self.start_refresh();
                *self.0.refreshing.borrow_mut() = Some(refresh.clone());
                refresh
            }
        };
        refresh.await
    }

    fn start_refresh(&self) -> RefreshFuture {
        let this = self.clone();
        async move {
            let exchange = {
                let this = this.clone();
                async move {
                    // `{}`: no access token, no refresh token in the body; the HttpOnly
                    // cookie alone identifies the session (docs/api.md, "Where we differ,
                    // and why").
                    let mut refresh = ApiRequest::new("PUT", "/api/tokens").anonymous();
                    refresh.body = Some("{}".to_owned());
                    let request = this.build(&refresh, None);
                    let response = this.0.transport.send(request).await?;
                    parse::<Token>(check(response)?)
                }
            };
            let result = with_lock(&this.0.lock_name, Box::pin(exchange)).await;
            this.0.refreshing.borrow_mut().take();
            match &result {
                Ok(token) => *this.0.token.borrow_mut() = Some(token.access_token.clone()),
                Err(err) if err.is_status(401) => {
                    this.clear_token();
                    let callback = this.0.on_refresh_rejected.borrow().clone();
                    if let Some(callback) = callback {
                        callback();
                    }
                }
                Err(_) => {}
            }
            result.map(|token| token.access_token)
        }
        .boxed_local()
        .shared()
    }

    /// Logs in with HTTP Basic (username or email). The server sets the refresh cookie,
    /// unless the account has two-factor authentication: then it answers 202 with a
    /// challenge, and neither a token nor a cookie comes until [`Client::login_two_factor`].
    pub async fn login(&self, username: &str, password: &str) -> Result<LoginOutcome, ApiError> {
        let mut request = self.build(&ApiRequest::new("POST", "/api/tokens").anonymous(), None);
        // No body, so no content type: this is not a cookie-authenticated call.
        request.headers.clear();
        request
            .headers
            .push(("Authorization", basic_auth(username, password)));
        let response = check(self.0.transport.send(request).await?)?;
        if response.status == 202 {
            return parse(response).map(LoginOutcome::TwoFactor);
        }
        self.accept_token(response)?;
        Ok(LoginOutcome::LoggedIn)
    }

    /// The second step of a 2FA login: the challenge and a code (or a recovery code).
    /// Answers like a login, refresh cookie included, hence under `/api/tokens`.
    pub async fn login_two_factor(&self, login: &TwoFactorLogin) -> Result<(), ApiError> {
        let request = ApiRequest::new("POST", "/api/tokens/2fa")
            .json(login)
            .anonymous();
        let response = self.send(request).await?;
        self.accept_token(response)
    }

    /// The absolute address of an API path (for navigations, not fetches).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.0.base)
    }

    pub(super) fn accept_token(&self, response: HttpResponse) -> Result<(), ApiError> {
        let token: Token = parse(response)?;
        *self.0.token.borrow_mut() = Some(token.access_token);
        Ok(())
    }

    /// Revokes the session on the server (`DELETE /api/tokens`) and forgets the token.
    /// A 401 means the session was already gone, which is what we wanted.
    pub async fn logout(&self) -> Result<(), ApiError> {
        let result = self.send(ApiRequest::new("DELETE", "/api/tokens")).await;
        match result {
            Ok(_) => {}
            Err(err) if err.is_status(401) => {}
            Err(err) => return Err(err),
        }
        self.clear_token();
        Ok(())
    }
}

/// `Ok` for a 2xx answer, the error it describes otherwise.
pub fn check(response: HttpResponse) -> Result<HttpResponse, ApiError> {
    if response.is_success() {
        Ok(response)
    } else {
        Err(ApiError::from_response(response.status, &response.body))
    }
}

/// Parses a success body as JSON.
pub fn parse<T: DeserializeOwned>(response: HttpResponse) -> Result<T, ApiError> {
    serde_json::from_str(&response.body).map_err(|_| ApiError::Unexpected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_token_endpoints_carry_credentials() {
        assert!(is_token_endpoint("/api/tokens"));
        assert!(is_token_endpoint("/api/tokens/reset"));
        assert!(is_token_endpoint("/api/tokens/oauth2/github"));
        assert!(!is_token_endpoint("/api/tokensmith"));
        assert!(!is_token_endpoint("/api/me"));
        assert!(!is_token_endpoint("/api/users"));
    }
}
