//! Browser tests of the client's refresh logic against a scripted fake server.
//! Run with `cargo test --target wasm32-unknown-unknown -p microblog`
//! (and `CHROMEDRIVER=/usr/bin/chromedriver`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures::future::{LocalBoxFuture, join, join_all};
use js_sys::{Promise, Reflect};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

use super::ApiError;
use super::client::{ApiRequest, Client};
use super::transport::{HttpRequest, HttpResponse, Transport};

wasm_bindgen_test_configure!(run_in_browser);

/// A pretend API: one valid access token at a time; each refresh issues the next one.
#[derive(Default)]
struct Server {
    valid: RefCell<Option<String>>,
    refreshes: Cell<u32>,
    refreshing_now: Cell<u32>,
    most_concurrent_refreshes: Cell<u32>,
    refuse_refresh: Cell<bool>,
    /// Answer 401 to every authenticated call, even with a fresh token.
    always_401: Cell<bool>,
    log: RefCell<Vec<HttpRequest>>,
}

#[derive(Clone)]
struct Fake(Rc<Server>);

async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        leptos::prelude::window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

impl Transport for Fake {
    fn send(
        &self,
        request: HttpRequest,
    ) -> LocalBoxFuture<'static, Result<HttpResponse, ApiError>> {
        let server = Rc::clone(&self.0);
        Box::pin(async move {
            server.log.borrow_mut().push(request.clone());
            if request.method == "PUT" && request.url.ends_with("/api/tokens") {
                server.refreshing_now.set(server.refreshing_now.get() + 1);
                server.most_concurrent_refreshes.set(
                    server
                        .most_concurrent_refreshes
                        .get()
                        .max(server.refreshing_now.get()),
                );
                sleep(20).await;
                server.refreshing_now.set(server.refreshing_now.get() - 1);
                if server.refuse_refresh.get() {
                    return Ok(reply(
                        401,
                        r#"{"code":401,"message":"Unauthorized","description":"No session."}"#,
                    ));
                }
                let n = server.refreshes.get() + 1;
                server.refreshes.set(n);
                let token = format!("token-{n}");
                *server.valid.borrow_mut() = Some(token.clone());
                return Ok(reply(
                    200,
                    &format!(r#"{{"access_token":"{token}","refresh_token":null}}"#),
                ));
            }
            sleep(5).await;
            let valid = server.valid.borrow().clone();
            let authorized = valid
                .map(|t| format!("Bearer {t}"))
                .is_some_and(|expected| request.header("Authorization") == Some(expected.as_str()));
            if authorized && !server.always_401.get() {
                Ok(reply(200, r#"{"ok":true}"#))
            } else {
                Ok(reply(
                    401,
                    r#"{"code":401,"message":"Unauthorized","description":"Token expired."}"#,
                ))
            }
        })
    }
}

fn reply(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        body: body.into(),
    }
}

fn client(server: &Rc<Server>, lock: &str) -> Client {
    Client::with_lock_name("", Fake(Rc::clone(server)), lock)
}

fn gets(log: &[HttpRequest]) -> usize {
    log.iter().filter(|r| r.method == "GET").count()
}

#[wasm_bindgen_test]
async fn a_401_refreshes_once_with_the_cookie_and_retries_once() {
    let server = Rc::new(Server::default());
    let client = client(&server, "test-lock-retry");

    let response = client
        .send(ApiRequest::new("GET", "/api/me"))
        .await
        .unwrap();

    assert_eq!(response.status, 200);
    assert_eq!(server.refreshes.get(), 1);
    let log = server.log.borrow();
    assert_eq!(log.len(), 3, "GET, PUT /api/tokens, GET again");
    let refresh = &log[1];
    assert_eq!(
        (refresh.method, refresh.url.as_str()),
        ("PUT", "/api/tokens")
    );
    assert_eq!(
        refresh.body.as_deref(),
        Some("{}"),
        "the cookie alone, no token in the body"
    );
    assert_eq!(refresh.header("Content-Type"), Some("application/json"));
    assert_eq!(refresh.header("Authorization"), None);
    assert!(refresh.with_credentials, "the refresh cookie must be sent");
    assert!(
        !log[0].with_credentials && !log[2].with_credentials,
        "credentials only on /api/tokens"
    );
    assert_eq!(log[2].header("Authorization"), Some("Bearer token-1"));
}

#[wasm_bindgen_test]
async fn concurrent_401s_share_a_single_refresh() {
    let server = Rc::new(Server::default());
    let client = client(&server, "test-lock-single-flight");

    let calls = (0..5).map(|_| client.send(ApiRequest::new("GET", "/api/feed")));
    let results = join_all(calls).await;

    assert!(
        results
            .iter()
            .all(|r| r.as_ref().is_ok_and(|r| r.status == 200))
    );
    assert_eq!(server.refreshes.get(), 1, "one refresh for five 401s");
    assert_eq!(
        gets(&server.log.borrow()),
        10,
        "each call sent once and retried once"
    );
}

#[wasm_bindgen_test]
async fn a_401_after_someone_else_refreshed_reuses_the_new_token() {
    let server = Rc::new(Server::default());
    let client = client(&server, "test-lock-reuse");
    client.refresh().await.unwrap();
    // The token expires server-side; the first call refreshes, a later one needs no refresh.
    *server.valid.borrow_mut() = None;
    client
        .send(ApiRequest::new("GET", "/api/me"))
        .await
        .unwrap();
    client
        .send(ApiRequest::new("GET", "/api/me"))
        .await
        .unwrap();
    assert_eq!(server.refreshes.get(), 2);
}

#[wasm_bindgen_test]
async fn a_call_whose_token_was_dropped_in_flight_gets_its_401_without_a_refresh() {
    let server = Rc::new(Server::default());
    let client = client(&server, "test-lock-dropped");
    client.refresh().await.unwrap();
    // The token expires server-side, and the person logs out while a call is on its way
    // (the fake answers after 5 ms): the call's 401 must not revive the session.
    *server.valid.borrow_mut() = None;
    let call = client.send(ApiRequest::new("GET", "/api/me"));
    let logout = async { client.clear_token() };
    let (result, ()) = join(call, logout).await;

    assert!(result.unwrap_err().is_status(401));
    assert_eq!(
        server.refreshes.get(),
        1,
        "no refresh once the token is gone"
    );
    assert_eq!(gets(&server.log.borrow()), 1, "and no retry");
}

#[wasm_bindgen_test]
async fn a_second_401_is_returned_not_retried_again() {
    let server = Rc::new(Server::default());
    server.always_401.set(true);
    let client = client(&server, "test-lock-once");

    let err = client
        .send(ApiRequest::new("GET", "/api/me"))
        .await
        .unwrap_err();

    assert!(err.is_status(401));
    assert_eq!(server.refreshes.get(), 1);
    assert_eq!(
        server.log.borrow().len(),
        3,
        "GET, one refresh, one retry: no loop"
    );
}

#[wasm_bindgen_test]
async fn a_refused_refresh_ends_the_session() {
    let server = Rc::new(Server::default());
    server.refuse_refresh.set(true);
    let client = client(&server, "test-lock-refused");
    let ended = Rc::new(Cell::new(0));
    let counter = Rc::clone(&ended);
    client.on_refresh_rejected(move || counter.set(counter.get() + 1));

    let (a, b) = join(
        client.send(ApiRequest::new("GET", "/api/me")),
        client.send(ApiRequest::new("GET", "/api/feed")),
    )
    .await;

    assert!(a.unwrap_err().is_status(401));
    assert!(b.unwrap_err().is_status(401));
    assert_eq!(ended.get(), 1, "told once, for the one shared refresh");
}

#[wasm_bindgen_test]
async fn anonymous_calls_neither_send_the_token_nor_refresh() {
    let server = Rc::new(Server::default());
    let client = client(&server, "test-lock-anon");
    client.refresh().await.unwrap();

    let err = client
        .send(ApiRequest::new("GET", "/api/anything").anonymous())
        .await
        .unwrap_err();

    assert!(err.is_status(401));
    assert_eq!(server.refreshes.get(), 1, "only the explicit refresh");
    assert_eq!(server.log.borrow()[1].header("Authorization"), None);
}

#[wasm_bindgen_test]
async fn tabs_sharing_the_lock_never_refresh_at_the_same_time() {
    // Two clients stand for two tabs: same lock name, one shared "cookie jar" (server).
    let server = Rc::new(Server::default());
    let tab_a = client(&server, "test-lock-tabs");
    let tab_b = client(&server, "test-lock-tabs");

    let (a, b) = join(tab_a.refresh(), tab_b.refresh()).await;

    assert!(a.is_ok() && b.is_ok());
    assert_eq!(server.refreshes.get(), 2, "each tab gets its own token");
    assert_eq!(
        server.most_concurrent_refreshes.get(),
        1,
        "never two at once"
    );

    // The contrast that shows the fake would catch overlap: without a shared lock, they do.
    let server = Rc::new(Server::default());
    let (a, b) = join(
        client(&server, "test-lock-tab-1").refresh(),
        client(&server, "test-lock-tab-2").refresh(),
    )
    .await;
    assert!(a.is_ok() && b.is_ok());
    assert_eq!(server.most_concurrent_refreshes.get(), 2);
}

#[wasm_bindgen_test]
async fn logout_sends_json_with_credentials_and_forgets_the_token() {
    let server = Rc::new(Server::default());
    let client = client(&server, "test-lock-logout");
    client.refresh().await.unwrap();

    client.logout().await.unwrap_or_else(|e| {
        // The fake answers 200 {"ok":true} to DELETE with a valid token.
        panic!("{e}")
    });

    let delete = server.log.borrow().last().unwrap().clone();
    assert_eq!(
        (delete.method, delete.url.as_str()),
        ("DELETE", "/api/tokens")
    );
    assert_eq!(delete.header("Authorization"), Some("Bearer token-1"));
    assert_eq!(delete.header("Content-Type"), Some("application/json"));
    assert!(delete.with_credentials);
    let err = client
        .send(ApiRequest::new("GET", "/api/me").anonymous())
        .await
        .unwrap_err();
    assert!(err.is_status(401));
    assert_eq!(
        server.log.borrow().last().unwrap().header("Authorization"),
        None
    );
}

#[wasm_bindgen_test]
async fn login_uses_basic_auth_and_keeps_the_token_out_of_web_storage() {
    let server = Rc::new(Server::default());
    let client = client(&server, "test-lock-login");
    // The fake answers 401 to the login (it only knows refresh), which is fine here: we
    // check what was sent.
    let _ = client.login("zoë", "pässwörd").await;
    let login = server.log.borrow()[0].clone();
    assert_eq!((login.method, login.url.as_str()), ("POST", "/api/tokens"));
    assert_eq!(
        login.header("Authorization"),
        Some("Basic em/Dqzpww6Rzc3fDtnJk")
    );
    assert!(login.with_credentials);

    client.refresh().await.unwrap();
    let window = leptos::prelude::window();
    for storage in ["localStorage", "sessionStorage"] {
        let store = Reflect::get(&window, &JsValue::from_str(storage)).unwrap();
        let length = Reflect::get(&store, &JsValue::from_str("length")).unwrap();
        assert_eq!(length.as_f64(), Some(0.0), "{storage} must stay empty");
    }
}

#[wasm_bindgen_test]
async fn a_refused_lock_request_still_runs_the_task_once() {
    // Web Locks refuses names starting with '-': the task must run anyway, exactly once.
    let runs = Rc::new(Cell::new(0));
    let counter = Rc::clone(&runs);
    let value = super::tabs::with_lock(
        "-refused",
        Box::pin(async move {
            counter.set(counter.get() + 1);
            42
        }),
    )
    .await;
    assert_eq!((value, runs.get()), (42, 1));

    let locked = super::tabs::with_lock("test-lock-plain", Box::pin(async { 7 })).await;
    assert_eq!(locked, 7);
}

/// A pretend API for logins: a 2FA account answers the password with a challenge (202),
/// then the code with tokens; anything else is logged and refused.
#[derive(Clone, Default)]
struct TwoFactorServer(Rc<RefCell<Vec<HttpRequest>>>);

impl Transport for TwoFactorServer {
    fn send(
        &self,
        request: HttpRequest,
    ) -> LocalBoxFuture<'static, Result<HttpResponse, ApiError>> {
        self.0.borrow_mut().push(request.clone());
        let answer = match (request.method, request.url.as_str()) {
            ("POST", "/api/tokens") => reply(
                202,
                r#"{"challenge":"ch-1","expires_at":"2026-11-29T14:17:51.000000Z"}"#,
            ),
            ("POST", "/api/tokens/2fa")
                if request
                    .body
                    .as_deref()
                    .is_some_and(|b| b.contains("123456")) =>
            {
                reply(200, r#"{"access_token":"token-2fa","refresh_token":null}"#)
            }
            ("POST", "/api/tokens/2fa") => reply(
                401,
                r#"{"code":401,"message":"Unauthorized","description":"The code is incorrect."}"#,
            ),
            ("GET", _) if request.header("Authorization") == Some("Bearer token-2fa") => {
                reply(200, r#"{"ok":true}"#)
            }
            _ => reply(
                401,
                r#"{"code":401,"message":"Unauthorized","description":"No."}"#,
            ),
        };
        Box::pin(async move { Ok(answer) })
    }
}

#[wasm_bindgen_test]
async fn a_2fa_login_gets_a_challenge_then_a_token_for_the_code() {
    use super::client::LoginOutcome;
    use wire::TwoFactorLogin;

    let server = TwoFactorServer::default();
    let client = Client::with_lock_name("", server.clone(), "test-lock-2fa");

    let outcome = client.login("susan", "dog").await.unwrap();
    let LoginOutcome::TwoFactor(challenge) = outcome else {
        panic!("a 202 is a challenge, not a login");
    };
    assert_eq!(challenge.challenge, "ch-1");

    // A wrong code: the server's refusal, and no refresh attempt (it is not a session 401).
    let wrong = TwoFactorLogin {
        challenge: challenge.challenge.clone(),
        code: Some("000000".into()),
        recovery_code: None,
    };
    let err = client.login_two_factor(&wrong).await.unwrap_err();
    assert_eq!(err.description(), Some("The code is incorrect."));
    assert_eq!(
        server.0.borrow().len(),
        2,
        "no refresh after a refused code"
    );

    let right = TwoFactorLogin {
        code: Some("123456".into()),
        ..wrong
    };
    client.login_two_factor(&right).await.unwrap();
    let verify = server.0.borrow().last().unwrap().clone();
    assert_eq!(verify.url, "/api/tokens/2fa");
    // The answer sets the refresh cookie, so the request carries credentials.
    assert!(verify.with_credentials);
    assert_eq!(verify.header("Content-Type"), Some("application/json"));
    assert_eq!(verify.header("Authorization"), None);
    assert_eq!(
        verify.body.as_deref(),
        Some(r#"{"challenge":"ch-1","code":"123456"}"#)
    );

    // Logged in: calls carry the new token.
    let me = client
        .send(ApiRequest::new("GET", "/api/me"))
        .await
        .unwrap();
    assert_eq!(me.status, 200);
}
