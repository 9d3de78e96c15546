//! Browser tests of components: render with props, look at the DOM, click.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};
use wire::{Post, Timestamp, User};

use super::*;
use crate::flash::{FlashKind, FlashMessage};
use crate::nav::Router;

wasm_bindgen_test_configure!(run_in_browser);

/// Mounts `view` into a fresh element and returns that element.
fn mount<V: IntoView + 'static>(view: impl FnOnce() -> V + 'static) -> Element {
    let document = document();
    let host = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    leptos::mount::mount_to(host.clone().unchecked_into::<HtmlElement>(), view).forget();
    host
}

fn find(host: &Element, selector: &str) -> Option<Element> {
    host.query_selector(selector).unwrap()
}

fn count(host: &Element, selector: &str) -> u32 {
    host.query_selector_all(selector).unwrap().length()
}

fn click(host: &Element, selector: &str) {
    find(host, selector)
        .unwrap_or_else(|| panic!("no {selector}"))
        .unchecked_into::<HtmlElement>()
        .click();
}

/// Lets effects and the DOM catch up with a signal change.
async fn settle() {
    leptos::task::tick().await;
    leptos::task::tick().await;
}

fn user(id: i64, name: &str) -> User {
    User {
        id,
        username: name.into(),
        email: None,
        about_me: String::new(),
        avatar_url: format!("/api/avatars/{id}?d=identicon"),
        first_seen: Timestamp::from_micros(0),
        last_seen: Timestamp::from_micros(0),
        posts_url: format!("/api/users/{id}/posts"),
        url: format!("/api/users/{id}"),
        has_password: true,
    }
}

fn post(id: i64, author: User) -> Post {
    Post {
        id,
        text: format!("post number {id}"),
        timestamp: Timestamp::from_micros(1_000_000_000_000_000),
        url: format!("/api/posts/{id}"),
        author,
    }
}

#[wasm_bindgen_test]
async fn flash_messages_stack_and_can_be_dismissed() {
    let messages = RwSignal::new(vec![
        FlashMessage {
            id: 1,
            kind: FlashKind::Success,
            text: "Saved.".into(),
        },
        FlashMessage {
            id: 2,
            kind: FlashKind::Error,
            text: "Oops.".into(),
        },
    ]);
    let dismissed = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&dismissed);
    let host = mount(move || {
        view! { <FlashList messages on_dismiss=move |id: u64| seen.store(id as u32, Ordering::SeqCst) /> }
    });

    assert_eq!(count(&host, ".flash"), 2);
    assert_eq!(count(&host, ".flash-error[role=alert]"), 1);
    assert_eq!(count(&host, ".flash-success[role]"), 0);
    click(
        &host,
        ".flash-error button[aria-label='Dismiss notification']",
    );
    assert_eq!(dismissed.load(Ordering::SeqCst), 2);

    messages.update(|m| m.retain(|f| f.id != 2));
    settle().await;
    assert_eq!(count(&host, ".flash"), 1);
}

#[wasm_bindgen_test]
async fn a_field_shows_its_errors_beside_the_control() {
    let value = RwSignal::new("sus".to_string());
    let errors = RwSignal::new(Vec::<String>::new());
    let host = mount(move || {
        view! { <Field label="Username" name="username" value errors autocomplete="username" /> }
    });
    let input = find(&host, "input#username").unwrap();
    assert_eq!(
        find(&host, "label[for=username]")
            .unwrap()
            .text_content()
            .unwrap(),
        "Username"
    );
    assert_eq!(
        input.get_attribute("autocomplete").as_deref(),
        Some("username")
    );
    assert_eq!(
        input.get_attribute("aria-describedby").as_deref(),
        Some("username-error")
    );
    assert_eq!(input.get_attribute("aria-invalid"), None);

    errors.set(vec!["Use a different username.".into()]);
    settle().await;
    assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
    assert_eq!(
        find(&host, "#username-error")
            .unwrap()
            .text_content()
            .unwrap(),
        "Use a different username."
    );
    // What the user typed stays.
    assert_eq!(
        input.unchecked_into::<web_sys::HtmlInputElement>().value(),
        "sus"
    );
}

#[wasm_bindgen_test]
async fn own_posts_offer_edit_and_a_confirmed_delete() {
    let deleted = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&deleted);
    let me = user(1, "susan");
    let posts = vec![post(10, me.clone()), post(11, user(2, "david"))];
    let host = mount(move || {
        view! {
            <Router>
                <PostList
                    posts=Signal::stored(posts)
                    me=Signal::stored(Some(1))
                    back=Signal::stored("/".to_string())
                    on_delete=move |id: i64| seen.store(id as u32, Ordering::SeqCst)
                />
            </Router>
        }
    });

    assert_eq!(count(&host, "article.post"), 2);
    let mine = find(&host, "article[aria-label='Post by susan']").unwrap();
    let theirs = find(&host, "article[aria-label='Post by david']").unwrap();
    assert_eq!(count(&theirs, ".post-actions"), 0);
    assert_eq!(
        find(&mine, ".post-actions a")
            .unwrap()
            .get_attribute("href")
            .as_deref(),
        Some("/posts/10/edit?next=%2F")
    );
    let time = find(&mine, "time").unwrap();
    assert!(
        time.get_attribute("title").is_some_and(|t| !t.is_empty()),
        "full date on hover"
    );
    assert!(time.text_content().unwrap().ends_with("ago"));

    click(&mine, ".post-actions button");
    settle().await;
    assert_eq!(deleted.load(Ordering::SeqCst), 0, "asks first");
    click(&mine, ".post-actions button.danger");
    assert_eq!(deleted.load(Ordering::SeqCst), 10);
}

#[wasm_bindgen_test]
async fn list_footer_shows_more_loading_and_errors() {
    let status = RwSignal::new(ListStatus::Loading);
    let more = Arc::new(AtomicU32::new(0));
    let clicks = Arc::clone(&more);
    let host = mount(move || {
        view! {
            <ListFooter
                status
                is_empty=Signal::stored(false)
                empty_text="Nothing."
                on_more=move |()| { clicks.fetch_add(1, Ordering::SeqCst); }
            />
        }
    });
    assert_eq!(count(&host, "[role=status]"), 1);

    status.set(ListStatus::Ready { has_more: true });
    settle().await;
    click(&host, ".more button");
    assert_eq!(more.load(Ordering::SeqCst), 1);

    status.set(ListStatus::Failed(crate::api::ApiError::Network));
    settle().await;
    assert!(
        find(&host, "[role=alert]")
            .unwrap()
            .text_content()
            .unwrap()
            .contains("Cannot reach")
    );

    status.set(ListStatus::Ready { has_more: false });
    settle().await;
    assert_eq!(count(&host, "button"), 0);
}

#[wasm_bindgen_test]
async fn the_qr_code_is_an_svg_without_styles() {
    let host = mount(|| {
        view! {
            <QrCode
                text="otpauth://totp/Microblog:susan?secret=JBSWY3DPEHPK3PXP&issuer=Microblog".to_string()
                label="QR code"
            />
        }
    });
    let svg = find(&host, "svg[role=img][aria-label='QR code']").expect("an svg");
    assert_eq!(
        svg.namespace_uri().as_deref(),
        Some("http://www.w3.org/2000/svg")
    );
    assert!(svg.get_attribute("viewBox").is_some());
    let path = find(&host, "svg path").unwrap();
    assert!(path.get_attribute("d").unwrap().starts_with("M4 4h7"));
    // The CSP forbids inline styles.
    assert_eq!(count(&host, "[style]"), 0);
}

#[wasm_bindgen_test]
async fn recovery_codes_show_once_with_a_done_button() {
    let done = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&done);
    let codes = vec![
        "aaaa-bbbb-cccc-dddd".to_string(),
        "eeee-ffff-gggg-hhhh".to_string(),
    ];
    let host = mount(move || {
        view! { <RecoveryCodeList codes on_done=move |()| { seen.fetch_add(1, Ordering::SeqCst); } /> }
    });
    assert_eq!(count(&host, "ol.codes li code"), 2);
    assert!(
        host.text_content()
            .unwrap()
            .contains("will not be shown again")
    );
    click(&host, "button");
    assert_eq!(done.load(Ordering::SeqCst), 1);
}

#[wasm_bindgen_test]
async fn sessions_mark_the_current_one_and_offer_logout_for_the_others() {
    let revoked = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&revoked);
    let session = |id: i64, current: bool| wire::SessionInfo {
        id,
        created_at: Timestamp::from_micros(1_000_000_000_000_000),
        last_used_at: Timestamp::from_micros(1_000_000_000_000_000),
        client_ip: format!("10.0.0.{id}"),
        user_agent: String::new(),
        device: format!("Device {id}"),
        current,
    };
    let sessions = vec![session(7, true), session(8, false)];
    let revoking = RwSignal::new(Vec::<i64>::new());
    let host = mount(move || {
        view! {
            <SessionList sessions revoking on_revoke=move |id: i64| seen.store(id as u32, Ordering::SeqCst) />
        }
    });
    assert_eq!(count(&host, "li.session"), 2);
    let current = find(&host, "li.session.current").unwrap();
    assert!(current.text_content().unwrap().contains("This device"));
    assert_eq!(count(&current, "button"), 0);
    assert!(host.text_content().unwrap().contains("10.0.0.8"));
    click(&host, "li.session:not(.current) button");
    assert_eq!(revoked.load(Ordering::SeqCst), 8);

    revoking.set(vec![8]);
    settle().await;
    let button = find(&host, "li.session:not(.current) button").unwrap();
    assert!(button.has_attribute("disabled"));
    assert_eq!(button.text_content().unwrap(), "Logging out…");
}

/// Renders one post by "david" with `text`, and returns its text paragraph.
fn post_text(text: &str) -> Element {
    let mut post = post(20, user(2, "david"));
    post.text = text.into();
    let host = mount(move || {
        view! {
            <Router>
                <PostList
                    posts=Signal::stored(vec![post])
                    me=Signal::stored(None)
                    back=Signal::stored("/".to_string())
                    on_delete=|_: i64| {}
                />
            </Router>
        }
    });
    find(&host, ".post-text").expect("the post's text")
}

#[wasm_bindgen_test]
fn addresses_and_names_in_posts_are_links() {
    let text = post_text("Read https://example.com/a?b=1&c=2. Thanks @susan!");
    let links = text.query_selector_all("a").unwrap();
    assert_eq!(links.length(), 2);
    let web = links.get(0).unwrap().unchecked_into::<Element>();
    assert_eq!(
        web.get_attribute("href").as_deref(),
        Some("https://example.com/a?b=1&c=2")
    );
    assert_eq!(
        web.text_content().as_deref(),
        Some("https://example.com/a?b=1&c=2")
    );
    assert_eq!(
        web.get_attribute("rel").as_deref(),
        Some("noopener noreferrer nofollow ugc")
    );
    let name = links.get(1).unwrap().unchecked_into::<Element>();
    assert_eq!(name.get_attribute("href").as_deref(), Some("/user/susan"));
    assert_eq!(name.text_content().as_deref(), Some("@susan"));
    // Every character is on screen, in order.
    assert_eq!(
        text.text_content().as_deref(),
        Some("Read https://example.com/a?b=1&c=2. Thanks @susan!")
    );
}

#[wasm_bindgen_test]
fn hostile_post_texts_stay_text() {
    for hostile in [
        "<img src=x onerror=\"document.body.dataset.pwned=1\">",
        "<script>document.body.dataset.pwned=1</script>",
        "<a href=\"javascript:document.body.dataset.pwned=1\">click</a>",
        "javascript:document.body.dataset.pwned=1",
        "JAVASCRIPT:alert(1) data:text/html,<b>x</b> vbscript:msgbox",
        "https://exаmple.com/ (a Cyrillic а)",
        "https://example.com/\u{202e}gpj.exe",
        "https://bank.example@evil.example/login",
        "&lt;b&gt;entities&lt;/b&gt; &amp;",
    ] {
        let text = post_text(hostile);
        assert_eq!(
            text.query_selector_all("*").unwrap().length(),
            0,
            "{hostile:?} made elements: {}",
            text.inner_html()
        );
        assert_eq!(text.text_content().as_deref(), Some(hostile));
    }
    assert!(
        document()
            .body()
            .unwrap()
            .get_attribute("data-pwned")
            .is_none()
    );
}

#[wasm_bindgen_test]
fn only_web_addresses_get_an_href() {
    let text = post_text("a https://ok.example b javascript:x c http://also.example/(x)");
    let hrefs: Vec<String> = (0..text.query_selector_all("a").unwrap().length())
        .map(|i| {
            text.query_selector_all("a")
                .unwrap()
                .get(i)
                .unwrap()
                .unchecked_into::<Element>()
                .get_attribute("href")
                .unwrap()
        })
        .collect();
    assert_eq!(hrefs, ["https://ok.example", "http://also.example/(x)"]);
}
