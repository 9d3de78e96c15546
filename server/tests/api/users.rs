//! Registration and profiles.

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
