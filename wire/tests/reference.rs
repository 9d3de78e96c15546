//! Answers shaped as the reference Flask API (`miguelgrinberg/microblog-api`) sends them,
//! written from its documented schemas: our SPA reads these types, and must work against
//! that server as well as ours. What our server sends and accepts stays as strict.

use wire::{ErrorBody, Page, Post, PostText, Timestamp, Token, UpdateMe, User};

/// `GET /api/me` from the reference: `about_me` is `null` until set, the avatar is an
/// absolute Gravatar URL, and timestamps are naive ISO 8601 with a `Z` appended, with no
/// fraction when the microseconds are zero.
const REFERENCE_ME: &str = r#"{
    "id": 1,
    "url": "/api/users/1",
    "username": "susan",
    "email": "susan@example.com",
    "has_password": true,
    "avatar_url": "https://www.gravatar.com/avatar/3f5d6a0c8e2b4a1f9c7d8e6b5a4f3e2d?d=identicon",
    "about_me": null,
    "first_seen": "2026-11-30T09:15:02.482910Z",
    "last_seen": "2026-12-01T04:00:00Z",
    "posts_url": "/api/users/1/posts"
}"#;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

#[test]
fn a_reference_user_with_null_about_me_reads_as_empty() {
    let me: User = serde_json::from_str(REFERENCE_ME).unwrap();
    assert_eq!(me.id, 1);
    assert_eq!(me.about_me, "");
    assert_eq!(me.email.as_deref(), Some("susan@example.com"));
    assert_eq!(
        me.avatar_url,
        "https://www.gravatar.com/avatar/3f5d6a0c8e2b4a1f9c7d8e6b5a4f3e2d?d=identicon"
    );
    assert_eq!(me.first_seen, Timestamp::from_micros(1_796_030_102_482_910));
    assert_eq!(me.last_seen.as_micros() % 1_000_000, 0);
    assert_eq!(me.last_seen, at("2026-12-01T04:00:00.000000Z"));
    assert!(me.has_password);
}

#[test]
fn an_oauth_only_reference_user_reads() {
    // Created by OAuth login: no password, and an about_me set to empty by the user.
    let json = r#"{"id": 7, "url": "/api/users/7", "username": "octo",
        "email": "octo@example.com", "has_password": false,
        "avatar_url": "https://www.gravatar.com/avatar/00000000000000000000000000000000?d=identicon",
        "about_me": "", "first_seen": "2026-01-02T03:04:05.000006Z",
        "last_seen": "2026-01-02T03:04:05.000006Z", "posts_url": "/api/users/7/posts"}"#;
    let user: User = serde_json::from_str(json).unwrap();
    assert!(!user.has_password);
    assert_eq!(user.about_me, "");
    assert_eq!(user.first_seen, at("2026-01-02T03:04:05.000006Z"));
}

#[test]
fn reference_deployments_older_than_its_oauth_and_utc_suffix_read() {
    // Before OAuth support there was no `has_password`; before its timestamps carried a
    // `Z`, they were naive ISO 8601 (UTC all the same).
    let json = r#"{"id": 2, "url": "/api/users/2", "username": "john",
        "email": "john@example.com",
        "avatar_url": "https://www.gravatar.com/avatar/aa?d=identicon",
        "about_me": "Hi", "first_seen": "2021-11-25T10:00:00.5",
        "last_seen": "2021-11-25T10:00:00", "posts_url": "/api/users/2/posts"}"#;
    let user: User = serde_json::from_str(json).unwrap();
    assert!(user.has_password);
    assert_eq!(user.first_seen, at("2021-11-25T10:00:00.500000Z"));
    assert_eq!(user.last_seen, at("2021-11-25T10:00:00Z"));
}

#[test]
fn a_reference_feed_page_reads_with_its_authors() {
    // `GET /api/feed`: the reference orders `pagination` before `data`, and every
    // author, the reader's own or not, carries an email.
    let json = format!(
        r#"{{"pagination": {{"offset": 0, "limit": 25, "count": 2, "total": 2}},
            "data": [
              {{"id": 2, "url": "/api/posts/2", "text": "second", "timestamp": "2026-12-01T04:05:06Z",
                "author": {REFERENCE_ME}}},
              {{"id": 1, "url": "/api/posts/1", "text": "first", "timestamp": "2026-12-01T04:05:05.000001Z",
                "author": {REFERENCE_ME}}}
            ]}}"#
    );
    let page: Page<Post> = serde_json::from_str(&json).unwrap();
    assert_eq!(page.data.len(), 2);
    assert!(!page.pagination.has_more());
    assert_eq!(page.data[0].timestamp, at("2026-12-01T04:05:06.000000Z"));
    assert!(page.data[1].timestamp < page.data[0].timestamp);
    assert_eq!(page.data[0].author.about_me, "");
    // `after` pagination: the offset counts the posts at or before the cursor.
    let json =
        r#"{"pagination": {"offset": 25, "limit": 25, "count": 0, "total": 25}, "data": []}"#;
    let page: Page<Post> = serde_json::from_str(json).unwrap();
    assert!(page.data.is_empty() && !page.pagination.has_more());
}

#[test]
fn a_reference_post_and_user_list_read() {
    let post = format!(
        r#"{{"id": 3, "url": "/api/posts/3", "text": "hello", "timestamp": "2026-12-01T04:05:06.100000Z", "author": {REFERENCE_ME}}}"#
    );
    let post: Post = serde_json::from_str(&post).unwrap();
    assert_eq!(post.author.username, "susan");
    let users = format!(
        r#"{{"pagination": {{"offset": 0, "limit": 25, "count": 1, "total": 1}}, "data": [{REFERENCE_ME}]}}"#
    );
    let users: Page<User> = serde_json::from_str(&users).unwrap();
    assert_eq!(users.data[0].about_me, "");
}

#[test]
fn a_reference_token_reads_with_a_null_refresh_token() {
    // The refresh token travels in a cookie; the body says `null` unless configured.
    let token: Token = serde_json::from_str(
        r#"{"access_token": "eyJhbGciOiJIUzI1NiJ9.e30.sig", "refresh_token": null}"#,
    )
    .unwrap();
    assert_eq!(token.refresh_token, None);
    assert_eq!(token.access_token, "eyJhbGciOiJIUzI1NiJ9.e30.sig");
}

#[test]
fn reference_error_bodies_read() {
    // HTTP errors: the status, its name, and werkzeug's description.
    let unauthorized: ErrorBody = serde_json::from_str(
        r#"{"code": 401, "message": "Unauthorized", "description": "The server could not verify that you are authorized to access the URL requested."}"#,
    )
    .unwrap();
    assert_eq!(unauthorized.code, 401);
    assert_eq!(unauthorized.errors, None);

    // Validation errors by location and field, as webargs reports them.
    let invalid: ErrorBody = serde_json::from_str(
        r#"{"code": 400, "message": "Validation Error",
            "description": "The server found one or more errors in the information that you sent.",
            "errors": {"json": {"username": ["Use a different username."], "email": ["Not a valid email address."]}}}"#,
    )
    .unwrap();
    let errors = invalid.errors.unwrap();
    assert_eq!(errors.json["username"], ["Use a different username."]);
    assert_eq!(errors.json["email"], ["Not a valid email address."]);

    let query: ErrorBody = serde_json::from_str(
        r#"{"code": 400, "message": "Validation Error", "description": "...",
            "errors": {"query": {"_schema": ["Cannot specify both offset and after"]}}}"#,
    )
    .unwrap();
    assert_eq!(
        query.errors.unwrap().query["_schema"],
        ["Cannot specify both offset and after"]
    );

    // A body that is JSON but no object, and one that is not JSON at all.
    let not_an_object: ErrorBody = serde_json::from_str(
        r#"{"code": 400, "description": "The server found one or more errors in the information that you sent.",
            "errors": {"json": {"_schema": ["Invalid input type."]}}, "message": "Validation Error"}"#,
    )
    .unwrap();
    assert_eq!(
        not_an_object.errors.unwrap().json["_schema"],
        ["Invalid input type."]
    );
    let not_json: ErrorBody = serde_json::from_str(
        r#"{"code": 400, "description": "The browser (or proxy) sent a request that this server could not understand.", "message": "Bad Request"}"#,
    )
    .unwrap();
    assert_eq!(not_json.message, "Bad Request");
}

#[test]
fn what_our_server_sends_is_unchanged() {
    let user = User {
        id: 6,
        username: "susan".into(),
        email: None,
        about_me: String::new(),
        avatar_url: "/api/avatars/6?d=identicon".into(),
        first_seen: Timestamp::from_micros(0),
        last_seen: Timestamp::from_micros(0),
        posts_url: "/api/users/6/posts".into(),
        url: "/api/users/6".into(),
        has_password: false,
    };
    let json = serde_json::to_value(&user).unwrap();
    // Always a string and always the flag: never a null, never left out.
    assert_eq!(json["about_me"], "");
    assert_eq!(json["has_password"], false);
    assert_eq!(serde_json::from_value::<User>(json).unwrap(), user);
}

#[test]
fn what_our_server_accepts_is_unchanged() {
    // Request bodies still refuse a null where a string is required, and unknown fields.
    assert!(serde_json::from_str::<PostText>(r#"{"text": null}"#).is_err());
    assert!(serde_json::from_str::<PostText>(r#"{}"#).is_err());
    assert!(
        serde_json::from_str::<UpdateMe>(r#"{"about_me": "x", "has_password": true}"#).is_err()
    );
    // A user record's other fields keep their types: a null username or id is refused.
    let null_username = REFERENCE_ME.replace(r#""username": "susan""#, r#""username": null"#);
    assert!(serde_json::from_str::<User>(&null_username).is_err());
    let null_seen = REFERENCE_ME.replace(r#""2026-12-01T04:00:00Z""#, "null");
    assert!(serde_json::from_str::<User>(&null_seen).is_err());
}
