//! Browser tests of the login page's two steps against a scripted API.

use std::cell::RefCell;
use std::rc::Rc;

use futures::future::LocalBoxFuture;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};

use super::LoginPage;
use super::login::CHALLENGE_GONE;
use crate::api::transport::{HttpRequest, HttpResponse, Transport};
use crate::api::{ApiError, Client, Session};
use crate::nav::Router;

wasm_bindgen_test_configure!(run_in_browser);

/// A pretend API: the password yields a 2FA challenge; every code gets `code_answer`.
#[derive(Clone)]
struct TwoFactorApi {
    code_answer: (u16, &'static str),
    log: Rc<RefCell<Vec<String>>>,
}

impl Transport for TwoFactorApi {
    fn send(
        &self,
        request: HttpRequest,
    ) -> LocalBoxFuture<'static, Result<HttpResponse, ApiError>> {
        let api = self.clone();
        Box::pin(async move {
            api.log
                .borrow_mut()
                .push(format!("{} {}", request.method, request.url));
            let (status, body) = match (request.method, request.url.as_str()) {
                ("POST", "/api/tokens") => (
                    202,
                    r#"{"challenge":"c1","expires_at":"2999-01-01T00:00:00Z"}"#,
                ),
                ("POST", "/api/tokens/2fa") => api.code_answer,
                ("GET", "/api/tokens/oauth2") => {
                    (200, r#"[{"name":"mock","display_name":"Mock"}]"#)
                }
                _ => (
                    404,
                    r#"{"code":404,"message":"Not Found","description":"No."}"#,
                ),
            };
            Ok(HttpResponse {
                status,
                body: body.into(),
            })
        })
    }
}

fn mount_login(api: TwoFactorApi) -> Element {
    let document = document();
    let host = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    let host_el = host.clone().unchecked_into::<HtmlElement>();
    leptos::mount::mount_to(host_el, move || {
        let session = Session::with_client(Client::with_lock_name("", api, "login-tests"), None);
        provide_context(session);
        view! { <Router><LoginPage /></Router> }
    })
    .forget();
    host
}

fn find(host: &Element, selector: &str) -> Element {
    host.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no {selector}"))
}

fn type_into(host: &Element, selector: &str, text: &str) {
    let input = find(host, selector).unchecked_into::<HtmlInputElement>();
    input.set_value(text);
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
}

fn submit(host: &Element) {
    find(host, "button[type=submit]")
        .unchecked_into::<HtmlElement>()
        .click();
}

fn heading(host: &Element) -> String {
    find(host, "h1").text_content().unwrap_or_default()
}

/// Waits (a bounded number of turns of the event loop) until `done` holds.
async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        pause().await;
    }
    panic!("never happened: {what}");
}

async fn pause() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 5)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

async fn to_code_step(host: &Element) {
    type_into(host, "#username", "susan");
    type_into(host, "#password", "correct horse battery");
    submit(host);
    until("the code step", || {
        heading(host) == "Two-factor authentication"
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_dead_challenge_sends_the_user_back_to_the_password_step() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let host = mount_login(TwoFactorApi {
        code_answer: (
            410,
            r#"{"code":410,"message":"Gone","description":"This sign-in has ended."}"#,
        ),
        log: Rc::clone(&log),
    });
    to_code_step(&host).await;

    type_into(&host, "#code", "123456");
    submit(&host);

    until("the password step", || heading(&host) == "Log in").await;
    until("the message", || {
        host.text_content()
            .unwrap_or_default()
            .contains(CHALLENGE_GONE)
    })
    .await;
    assert!(host.query_selector("#code").unwrap().is_none());
    let calls: Vec<String> = log
        .borrow()
        .iter()
        .filter(|call| *call != "GET /api/tokens/oauth2")
        .cloned()
        .collect();
    assert_eq!(
        calls,
        ["POST /api/tokens", "POST /api/tokens/2fa"],
        "one try at the code, then nothing more"
    );
}

#[wasm_bindgen_test]
async fn a_wrong_code_on_a_live_challenge_stays_on_the_code_step() {
    let host = mount_login(TwoFactorApi {
        code_answer: (
            401,
            r#"{"code":401,"message":"Unauthorized","description":"The code is incorrect."}"#,
        ),
        log: Rc::default(),
    });
    to_code_step(&host).await;

    type_into(&host, "#code", "123456");
    submit(&host);

    until("the server's words", || {
        host.text_content()
            .unwrap_or_default()
            .contains("The code is incorrect.")
    })
    .await;
    assert_eq!(heading(&host), "Two-factor authentication");
    assert!(
        !host
            .text_content()
            .unwrap_or_default()
            .contains(CHALLENGE_GONE)
    );
}

#[wasm_bindgen_test]
async fn each_offered_provider_gets_a_button_that_leaves_the_app() {
    let host = mount_login(TwoFactorApi {
        code_answer: (500, "{}"),
        log: Rc::default(),
    });
    until("the provider's button", || {
        host.query_selector("a[rel=external]").unwrap().is_some()
    })
    .await;
    let link = host.query_selector("a[rel=external]").unwrap().unwrap();
    assert_eq!(link.text_content().unwrap(), "Continue with Mock");
    // A navigation to the API, which redirects to the provider: never a fetch.
    assert_eq!(
        link.get_attribute("href").unwrap(),
        "/api/tokens/oauth2/mock"
    );
}
