//! Registration, profiles, `/me`, and avatars.

use futures::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{Answer, PASSWORD, TestApp, spawn_app};

fn new_user(username: &str) -> Value {
    json!({"username": username, "email": format!("{username}@example.com"), "password": PASSWORD})
}

async fn register(app: &TestApp, body: &Value) -> Answer {
    app.post("/api/users").json(body).send().await
}

async fn users_in_db(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM users").await
}

// --- POST /api/users ------------------------------------------------------------------

#[tokio::test]
async fn register_creates_the_user_and_names_it_in_location() {
    let app = spawn_app().await;

    let answer = register(
        &app,
        &json!({"username": "susan", "email": "susan@example.com",
                "password": PASSWORD, "about_me": "I write."}),
    )
    .await;

    answer.assert_status(201);
    let id = answer.body["id"].as_i64().unwrap();
    assert_eq!(answer.headers["location"], format!("/api/users/{id}"));
    assert_eq!(answer.body["username"], "susan");
    assert_eq!(answer.body["email"], "susan@example.com");
    assert_eq!(answer.body["about_me"], "I write.");
    assert_eq!(answer.body["url"], format!("/api/users/{id}"));
    assert_eq!(answer.body["posts_url"], format!("/api/users/{id}/posts"));
    assert_eq!(answer.body["has_password"], true);
    assert!(
        answer.body["avatar_url"].as_str().unwrap().contains('?'),
        "clients append &s=48: {}",
        answer.body
    );
    assert!(answer.body.get("password").is_none());
    assert!(answer.body.get("password_hash").is_none());
    assert_eq!(users_in_db(&app).await, 1);
}

#[tokio::test]
async fn register_stores_a_hash_not_the_password() {
    let app = spawn_app().await;

    register(&app, &new_user("susan")).await.assert_status(201);

    let plain = app
        .count(&format!(
            "SELECT COUNT(*) FROM users WHERE password_hash = '{PASSWORD}'"
        ))
        .await;
    let argon = app
        .count("SELECT COUNT(*) FROM users WHERE password_hash LIKE '$argon2id$%'")
        .await;
    assert_eq!((plain, argon), (0, 1));
}

#[tokio::test]
async fn register_ignores_any_authorization_header() {
    let app = spawn_app().await;
    for (i, value) in ["Bearer null", "Bearer not-a-token", "Basic !!!", "garbage"]
        .into_iter()
        .enumerate()
    {
        let answer = app
            .post("/api/users")
            .header("Authorization", value)
            .json(&new_user(&format!("user{i}")))
            .send()
            .await;

        answer.assert_status(201);
    }
}

#[tokio::test]
async fn register_refuses_each_invalid_field_and_writes_nothing() {
    let app = spawn_app().await;
    let long = "x".repeat(300);
    let cases: &[(&str, Value, &str)] = &[
        ("username", json!("ab"), "too short"),
        ("username", json!("x".repeat(65)), "too long"),
        ("username", json!("has space"), "a space"),
        ("username", json!("émile"), "not ASCII"),
        ("username", json!("_susan"), "leading underscore"),
        ("username", json!("12345"), "digits only: would shadow ids"),
        (
            "username",
            json!("a@b"),
            "an @: would shadow emails at login",
        ),
        ("email", json!("susan"), "no @"),
        ("email", json!("susan@localhost"), "no dot in the domain"),
        ("email", json!("a b@example.com"), "a space"),
        ("email", json!(format!("{long}@example.com")), "too long"),
        ("password", json!("short"), "under 8 characters"),
        ("password", json!("x".repeat(257)), "over 256 characters"),
        ("password", json!("password123"), "a common password"),
        ("about_me", json!("x".repeat(141)), "over 140 characters"),
    ];
    for (field, value, why) in cases {
        let mut body = new_user("susan");
        body[*field] = value.clone();

        let answer = register(&app, &body).await;

        let errors = answer.field_errors(field);
        assert_eq!(errors.len(), 1, "{field} {why}: {}", answer.body);
        assert_eq!(
            answer.body["errors"]["json"].as_object().unwrap().len(),
            1,
            "{field} {why}: only that field is wrong: {}",
            answer.body
        );
    }
    assert_eq!(users_in_db(&app).await, 0);
}

#[tokio::test]
async fn register_accepts_the_longest_allowed_values() {
    let app = spawn_app().await;
    let body = json!({
        "username": "u".repeat(64),
        "email": format!("{}@example.com", "e".repeat(108)),
        "password": "p".repeat(256),
        "about_me": "é".repeat(140),
    });

    register(&app, &body).await.assert_status(201);
}

#[tokio::test]
async fn register_reports_every_invalid_field_at_once() {
    let app = spawn_app().await;

    let answer = register(
        &app,
        &json!({"username": "x", "email": "nope", "password": "short"}),
    )
    .await;

    for field in ["username", "email", "password"] {
        assert_eq!(answer.field_errors(field).len(), 1, "{field}");
    }
}

#[tokio::test]
async fn register_refuses_a_taken_username_whatever_its_case() {
    let app = spawn_app().await;
    register(&app, &new_user("susan")).await.assert_status(201);
    let mut body = new_user("SuSaN");
    body["email"] = json!("other@example.com");

    let answer = register(&app, &body).await;

    assert_eq!(
        answer.field_errors("username"),
        ["Use a different username."]
    );
    assert_eq!(users_in_db(&app).await, 1);
}

#[tokio::test]
async fn register_refuses_a_taken_email_whatever_its_case() {
    let app = spawn_app().await;
    register(&app, &new_user("susan")).await.assert_status(201);
    let mut body = new_user("john");
    body["email"] = json!("SUSAN@Example.COM");

    let answer = register(&app, &body).await;

    assert_eq!(answer.field_errors("email"), ["Use a different email."]);
    assert_eq!(users_in_db(&app).await, 1);
}

#[tokio::test]
async fn register_reports_both_taken_fields_together() {
    let app = spawn_app().await;
    register(&app, &new_user("susan")).await.assert_status(201);

    let answer = register(&app, &new_user("susan")).await;

    assert_eq!(
        answer.field_errors("username"),
        ["Use a different username."]
    );
    assert_eq!(answer.field_errors("email"), ["Use a different email."]);
}

#[tokio::test]
async fn concurrent_registrations_of_one_name_create_one_user_and_no_500() {
    let app = spawn_app().await;
    // All pass the uniqueness check before any inserts (hashing takes longer than the
    // check), so all but one lose at the unique index: they must still get a 400.
    let attempts = (0..4).map(|i| {
        let mut body = new_user("susan");
        body["email"] = json!(format!("susan{i}@example.com"));
        let app = &app;
        async move { register(app, &body).await }
    });

    let answers = join_all(attempts).await;

    let statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    for answer in answers.iter().filter(|a| a.status != 201) {
        assert_eq!(
            answer.field_errors("username"),
            ["Use a different username."]
        );
    }
    assert_eq!(users_in_db(&app).await, 1);
}

#[tokio::test]
async fn register_refuses_missing_fields() {
    let app = spawn_app().await;
    for field in ["username", "email", "password"] {
        let mut body = new_user("susan");
        body.as_object_mut().unwrap().remove(field);

        let answer = register(&app, &body).await;

        assert_eq!(
            answer.field_errors(field),
            ["Missing data for required field."]
        );
    }
    assert_eq!(users_in_db(&app).await, 0);
}

#[tokio::test]
async fn register_refuses_wrong_types() {
    let app = spawn_app().await;
    let cases: &[(&str, Value)] = &[
        ("username", json!(42)),
        ("username", json!(null)),
        ("email", json!(["susan@example.com"])),
        ("password", json!({"value": PASSWORD})),
        ("password", json!(true)),
        ("about_me", json!(7)),
    ];
    for (field, value) in cases {
        let mut body = new_user("susan");
        body[*field] = value.clone();

        let answer = register(&app, &body).await;

        let errors = answer.field_errors(field);
        assert!(
            errors[0].starts_with("Not a valid value"),
            "{field}={value}: {errors:?}"
        );
    }
    assert_eq!(users_in_db(&app).await, 0);
}

#[tokio::test]
async fn register_refuses_unknown_fields() {
    let app = spawn_app().await;
    let mut body = new_user("susan");
    body["is_admin"] = json!(true);

    let answer = register(&app, &body).await;

    assert_eq!(answer.field_errors("is_admin"), ["Unknown field."]);
    assert_eq!(users_in_db(&app).await, 0);
}

#[tokio::test]
async fn register_refuses_bodies_that_are_not_a_json_object() {
    let app = spawn_app().await;
    for (raw, why) in [
        (&b"{\"username\": \"susan\""[..], "truncated"),
        (b"username=susan&password=x", "form-encoded"),
        (b"", "empty"),
        (b"[]", "an array"),
        (b"null", "null"),
        (b"{\"username\": \"su\xffsan\"}", "invalid UTF-8"),
    ] {
        let answer = app
            .post("/api/users")
            .raw_body("application/json", raw.to_vec())
            .send()
            .await;

        answer.assert_error(400);
        assert_eq!(answer.body["message"], "Validation Error", "{why}");
        assert!(
            answer.body["errors"]["json"]["_schema"].is_array(),
            "{why}: {}",
            answer.body
        );
    }
    assert_eq!(users_in_db(&app).await, 0);
}

#[tokio::test]
async fn register_refuses_a_body_over_64_kib_with_json_413() {
    let app = spawn_app().await;
    let mut body = new_user("susan");
    body["about_me"] = json!("x".repeat(65 * 1024));

    let answer = register(&app, &body).await;

    answer.assert_error(413);
    assert_eq!(users_in_db(&app).await, 0);
}

#[tokio::test]
async fn register_refuses_a_body_that_is_not_declared_json_with_415() {
    let app = spawn_app().await;
    let json_text = new_user("susan").to_string();
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonp",
    ] {
        let answer = app
            .post("/api/users")
            .raw_body(content_type, json_text.clone())
            .send()
            .await;

        answer.assert_error(415);
    }
    let answer = app.post("/api/users").send().await;
    answer.assert_error(415);
    assert_eq!(users_in_db(&app).await, 0);
}

#[tokio::test]
async fn register_accepts_json_with_a_charset() {
    let app = spawn_app().await;

    let answer = app
        .post("/api/users")
        .raw_body(
            "application/json; charset=utf-8",
            new_user("susan").to_string(),
        )
        .send()
        .await;

    answer.assert_status(201);
}

#[tokio::test]
async fn registered_users_can_log_in_by_username_or_email() {
    let app = spawn_app().await;
    register(&app, &new_user("susan")).await.assert_status(201);

    app.login("susan", PASSWORD).await.assert_status(200);
    app.login("susan@example.com", PASSWORD)
        .await
        .assert_status(200);
}

// --- GET /api/users/{id or username} --------------------------------------------------

#[tokio::test]
async fn get_user_by_id_hides_the_email_of_others() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let john = app.user("john").await;

    let answer = app
        .get(&format!("/api/users/{}", susan.id))
        .bearer(&john.access_token)
        .send()
        .await;

    answer.assert_status(200);
    assert_eq!(answer.body["id"], susan.id);
    assert_eq!(answer.body["username"], "susan");
    assert!(answer.body.get("email").is_none(), "{}", answer.body);
    assert!(!answer.body.to_string().contains(&susan.email));
}

#[tokio::test]
async fn get_user_shows_the_email_when_it_is_the_caller() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = app
        .get(&format!("/api/users/{}", susan.id))
        .bearer(&susan.access_token)
        .send()
        .await;

    answer.assert_status(200);
    assert_eq!(answer.body["email"], "susan@example.com");
}

#[tokio::test]
async fn get_user_by_username_whatever_its_case() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let john = app.user("john").await;

    for name in ["susan", "Susan", "SUSAN"] {
        let answer = app
            .get(&format!("/api/users/{name}"))
            .bearer(&john.access_token)
            .send()
            .await;

        answer.assert_status(200);
        assert_eq!(answer.body["id"], susan.id, "{name}");
        assert!(answer.body.get("email").is_none());
    }
}

#[tokio::test]
async fn get_user_answers_json_404_for_unknown_users() {
    let app = spawn_app().await;
    let john = app.user("john").await;

    for path in [
        "/api/users/999",
        "/api/users/nobody",
        "/api/users/0",
        "/api/users/99999999999999999999999",
        "/api/users/%FF",
    ] {
        let answer = app.get(path).bearer(&john.access_token).send().await;

        answer.assert_error(404);
    }
}

#[tokio::test]
async fn get_user_needs_a_valid_access_token() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let path = format!("/api/users/{}", susan.id);

    for token in [None, Some("null"), Some("not-a-token")] {
        let call = app.get(&path);
        let call = match token {
            Some(t) => call.bearer(t),
            None => call,
        };

        let answer = call.send().await;

        answer.assert_error(401);
        assert!(answer.headers.contains_key("www-authenticate"));
    }
}

// --- GET /api/me ----------------------------------------------------------------------

#[tokio::test]
async fn me_is_the_callers_own_record_with_email() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = app.get("/api/me").bearer(&susan.access_token).send().await;

    answer.assert_status(200);
    assert_eq!(answer.body["id"], susan.id);
    assert_eq!(answer.body["email"], "susan@example.com");
    assert_eq!(answer.body["has_password"], true);
    assert!(answer.body["last_seen"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn me_needs_a_valid_access_token() {
    let app = spawn_app().await;

    for header in [
        None,
        Some("Bearer null"),
        Some("Bearer "),
        Some("Basic abc"),
    ] {
        let call = app.get("/api/me");
        let call = match header {
            Some(h) => call.header("Authorization", h),
            None => call,
        };

        call.send().await.assert_error(401);
    }
}

// --- PUT /api/me ----------------------------------------------------------------------

async fn put_me(app: &TestApp, token: &str, body: &Value) -> Answer {
    app.put("/api/me").bearer(token).json(body).send().await
}

async fn me(app: &TestApp, token: &str) -> Value {
    let answer = app.get("/api/me").bearer(token).send().await;
    answer.assert_status(200);
    answer.body
}

#[tokio::test]
async fn put_me_changes_only_the_fields_sent() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = put_me(&app, &susan.access_token, &json!({"about_me": "Hello."})).await;

    answer.assert_status(200);
    assert_eq!(answer.body["about_me"], "Hello.");
    assert_eq!(answer.body["username"], "susan");
    assert_eq!(answer.body["email"], "susan@example.com");
    assert_eq!(me(&app, &susan.access_token).await["about_me"], "Hello.");
}

#[tokio::test]
async fn put_me_with_an_empty_body_changes_nothing() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let before = me(&app, &susan.access_token).await;

    let answer = put_me(&app, &susan.access_token, &json!({})).await;

    answer.assert_status(200);
    assert_eq!(answer.body, before);
}

#[tokio::test]
async fn put_me_changes_username_and_email() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = put_me(
        &app,
        &susan.access_token,
        &json!({"username": "susanna", "email": "susanna@example.org"}),
    )
    .await;

    answer.assert_status(200);
    assert_eq!(answer.body["username"], "susanna");
    assert_eq!(answer.body["email"], "susanna@example.org");
    app.login("susanna", PASSWORD).await.assert_status(200);
    app.login("susanna@example.org", PASSWORD)
        .await
        .assert_status(200);
    app.login("susan", PASSWORD).await.assert_error(401);
}

#[tokio::test]
async fn put_me_may_change_the_case_of_ones_own_username() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = put_me(
        &app,
        &susan.access_token,
        &json!({"username": "Susan", "email": "SUSAN@example.com"}),
    )
    .await;

    answer.assert_status(200);
    assert_eq!(answer.body["username"], "Susan");
}

#[tokio::test]
async fn put_me_refuses_a_username_or_email_taken_by_another_whatever_its_case() {
    let app = spawn_app().await;
    app.user("john").await;
    let susan = app.user("susan").await;
    let cases = [
        ("username", "JOHN", "Use a different username."),
        ("email", "John@Example.com", "Use a different email."),
    ];
    for (field, value, message) in cases {
        let answer = put_me(&app, &susan.access_token, &json!({ field: value })).await;

        assert_eq!(answer.field_errors(field), [message]);
    }
    let after = me(&app, &susan.access_token).await;
    assert_eq!(
        (after["username"].as_str(), after["email"].as_str()),
        (Some("susan"), Some("susan@example.com"))
    );
}

#[tokio::test]
async fn concurrent_renames_to_one_name_leave_one_winner_and_no_500() {
    let app = spawn_app().await;
    let mut users = Vec::new();
    for name in ["alice", "bob", "carol", "dave"] {
        users.push(app.user(name).await);
    }
    let rename = json!({"username": "winner"});

    let answers = join_all(users.iter().map(|u| put_me(&app, &u.access_token, &rename))).await;

    let statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    for answer in answers.iter().filter(|a| a.status != 200) {
        assert_eq!(
            answer.field_errors("username"),
            ["Use a different username."]
        );
    }
}

#[tokio::test]
async fn put_me_refuses_invalid_fields_and_changes_nothing() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let before = me(&app, &susan.access_token).await;
    let cases: &[(&str, Value)] = &[
        ("username", json!("no spaces allowed")),
        ("username", json!("12345")),
        ("email", json!("not-an-email")),
        ("about_me", json!("x".repeat(141))),
        ("about_me", json!(5)),
        ("username", json!(["susan"])),
        ("is_admin", json!(true)),
    ];
    for (field, value) in cases {
        // A valid change alongside: all or nothing.
        let mut body = json!({"about_me": "Changed?"});
        body[*field] = value.clone();

        let answer = put_me(&app, &susan.access_token, &body).await;

        assert_eq!(answer.field_errors(field).len(), 1, "{field}={value}");
    }
    assert_eq!(me(&app, &susan.access_token).await, before);
}

#[tokio::test]
async fn put_me_is_all_or_nothing_when_one_field_is_taken() {
    let app = spawn_app().await;
    app.user("john").await;
    let susan = app.user("susan").await;

    let answer = put_me(
        &app,
        &susan.access_token,
        &json!({"username": "susanna", "email": "john@example.com", "about_me": "new"}),
    )
    .await;

    assert_eq!(answer.field_errors("email"), ["Use a different email."]);
    let after = me(&app, &susan.access_token).await;
    assert_eq!(after["username"], "susan");
    assert_eq!(after["about_me"], "");
}

#[tokio::test]
async fn put_me_refuses_a_new_password_without_the_old_one() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = put_me(
        &app,
        &susan.access_token,
        &json!({"password": "a brand new secret"}),
    )
    .await;

    assert_eq!(answer.field_errors("old_password").len(), 1);
    app.login("susan", PASSWORD).await.assert_status(200);
    app.login("susan", "a brand new secret")
        .await
        .assert_error(401);
}

#[tokio::test]
async fn put_me_refuses_a_new_password_with_a_wrong_old_one() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = put_me(
        &app,
        &susan.access_token,
        &json!({"password": "a brand new secret", "old_password": "not my password",
                "about_me": "changed?"}),
    )
    .await;

    assert_eq!(
        answer.field_errors("old_password"),
        ["The current password is wrong."]
    );
    app.login("susan", PASSWORD).await.assert_status(200);
    assert_eq!(me(&app, &susan.access_token).await["about_me"], "");
}

#[tokio::test]
async fn put_me_applies_the_password_policy_to_a_new_password() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    for weak in ["short", "password1"] {
        let answer = put_me(
            &app,
            &susan.access_token,
            &json!({"password": weak, "old_password": PASSWORD}),
        )
        .await;

        assert_eq!(answer.field_errors("password").len(), 1, "{weak}");
    }
    app.login("susan", PASSWORD).await.assert_status(200);
}

#[tokio::test]
async fn put_me_changes_the_password() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = put_me(
        &app,
        &susan.access_token,
        &json!({"password": "a brand new secret", "old_password": PASSWORD}),
    )
    .await;

    answer.assert_status(200);
    app.login("susan", "a brand new secret")
        .await
        .assert_status(200);
    app.login("susan", PASSWORD).await.assert_error(401);
}

#[tokio::test]
async fn a_new_password_logs_out_every_other_session_but_keeps_this_one() {
    let app = spawn_app().await;
    let susan = app.user("susan").await; // this device
    let other = app.login("susan", PASSWORD).await; // another device
    let other_access = other.body["access_token"].as_str().unwrap().to_owned();
    let other_refresh = other.refresh_cookie().unwrap();

    put_me(
        &app,
        &susan.access_token,
        &json!({"password": "a brand new secret", "old_password": PASSWORD}),
    )
    .await
    .assert_status(200);

    app.get("/api/me")
        .bearer(&other_access)
        .send()
        .await
        .assert_error(401);
    app.refresh(&other_refresh).await.assert_error(401);
    app.get("/api/me")
        .bearer(&susan.access_token)
        .send()
        .await
        .assert_status(200);
    app.refresh(&susan.refresh_token).await.assert_status(200);
}

#[tokio::test]
async fn other_changes_keep_other_sessions() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let other = app.login("susan", PASSWORD).await;
    let other_access = other.body["access_token"].as_str().unwrap().to_owned();

    put_me(
        &app,
        &susan.access_token,
        &json!({"about_me": "Still logged in elsewhere."}),
    )
    .await
    .assert_status(200);

    app.get("/api/me")
        .bearer(&other_access)
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn put_me_needs_a_valid_access_token() {
    let app = spawn_app().await;

    let answer = app
        .put("/api/me")
        .header("Authorization", "Bearer null")
        .json(&json!({"about_me": "x"}))
        .send()
        .await;

    answer.assert_error(401);
}

// --- GET /api/avatars/{id} ------------------------------------------------------------

#[tokio::test]
async fn avatars_are_svg_identicons_cached_for_long() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let avatar_url = me(&app, &susan.access_token).await["avatar_url"]
        .as_str()
        .unwrap()
        .to_owned();

    // As an <img> asks for it: no credentials, the client's own `&s=`.
    let answer = app.get(&format!("{avatar_url}&s=48")).send().await;

    answer.assert_status(200);
    assert_eq!(answer.headers["content-type"], "image/svg+xml");
    let cache = answer.headers["cache-control"].to_str().unwrap();
    assert!(cache.contains("max-age=31536000"), "{cache}");
    assert!(cache.contains("public"), "{cache}");
    let svg = answer.body.as_str().unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.contains("width=\"48\" height=\"48\""), "{svg}");
}

#[tokio::test]
async fn an_avatar_is_the_same_for_an_id_and_differs_between_ids() {
    let app = spawn_app().await;
    let get = |path: String| {
        let app = &app;
        async move { app.get(&path).send().await.body }
    };

    let first = get("/api/avatars/1".into()).await;
    let again = get("/api/avatars/1".into()).await;
    let other = get("/api/avatars/2".into()).await;

    assert_eq!(first, again);
    assert_ne!(first, other);
}

#[tokio::test]
async fn avatar_sizes_default_to_128_and_are_clamped_to_16_through_512() {
    let app = spawn_app().await;
    for (query, size) in [
        ("", 128),
        ("?s=48", 48),
        ("?d=identicon&s=200", 200),
        ("?s=1", 16),
        ("?s=-5", 16),
        ("?s=100000", 512),
    ] {
        let answer = app.get(&format!("/api/avatars/7{query}")).send().await;

        answer.assert_status(200);
        let svg = answer.body.as_str().unwrap();
        assert!(
            svg.contains(&format!("width=\"{size}\" height=\"{size}\"")),
            "{query}: {svg}"
        );
    }
}

#[tokio::test]
async fn avatar_refuses_a_size_that_is_not_a_number() {
    let app = spawn_app().await;

    let answer = app.get("/api/avatars/7?s=big").send().await;

    answer.assert_error(400);
    assert!(
        answer.body["errors"]["query"]["s"].is_array(),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn avatar_of_a_non_numeric_id_is_a_json_404() {
    let app = spawn_app().await;

    app.get("/api/avatars/susan").send().await.assert_error(404);
}

#[tokio::test]
async fn openapi_documents_the_user_and_avatar_endpoints_with_summaries() {
    let app = spawn_app().await;

    let doc = app.get("/api/openapi.json").send().await.body;

    for (path, method) in [
        ("/api/users", "post"),
        ("/api/users/{id}", "get"),
        ("/api/me", "get"),
        ("/api/me", "put"),
        ("/api/avatars/{id}", "get"),
    ] {
        let operation = &doc["paths"][path][method];
        assert!(
            operation["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path}: {operation}"
        );
        assert_eq!(operation["tags"][0], "users", "{method} {path}");
    }
    assert!(
        doc["paths"]["/api/avatars/{id}"]["get"]["responses"]["200"]["content"]["image/svg+xml"]
            .is_object()
    );
}
