//! Posts: write, read, edit, delete; explore, a user's posts and the feed.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, spawn_app};
use crate::seed::{Seed, at, ids};

/// `POST /api/posts` as `user`; asserts 201 and returns the post.
pub async fn write(app: &TestApp, user: &TestUser, text: &str) -> Value {
    let answer = app
        .post("/api/posts")
        .bearer(&user.access_token)
        .json(&json!({ "text": text }))
        .send()
        .await;
    answer.assert_status(201);
    answer.body
}

/// Bodies that must not become posts: (what, body, the field whose error is expected).
fn bad_bodies() -> Vec<(&'static str, Value, &'static str)> {
    vec![
        ("empty", json!({"text": ""}), "text"),
        ("whitespace only", json!({"text": " \n\t "}), "text"),
        ("281 characters", json!({"text": "é".repeat(281)}), "text"),
        ("a number", json!({"text": 5}), "text"),
        ("null", json!({"text": null}), "text"),
        ("missing", json!({}), "text"),
        (
            "an unknown field",
            json!({"text": "hi", "author_id": 1}),
            "author_id",
        ),
        ("not an object", json!(["hi"]), "_schema"),
    ]
}

async fn post_count(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM posts").await
}

#[tokio::test]
async fn writing_a_post_answers_201_with_its_location_and_author() {
    // Arrange
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    // Act
    let answer = app
        .post("/api/posts")
        .bearer(&susan.access_token)
        .json(&json!({"text": "  Hello, world!  "}))
        .send()
        .await;

    // Assert
    answer.assert_status(201);
    let post = &answer.body;
    let id = post["id"].as_i64().unwrap();
    assert_eq!(post["text"], "Hello, world!");
    assert_eq!(post["url"], format!("/api/posts/{id}"));
    assert_eq!(answer.headers["location"], format!("/api/posts/{id}"));
    assert!(post["timestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(post["author"]["id"], susan.id);
    assert_eq!(
        post["author"]["email"], susan.email,
        "one's own email is shown"
    );
    assert_eq!(post_count(&app).await, 1);
}

#[tokio::test]
async fn a_post_of_280_characters_is_accepted() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let post = write(&app, &susan, &"é".repeat(280)).await;

    assert_eq!(post["text"].as_str().unwrap().chars().count(), 280);
}

#[tokio::test]
async fn invalid_posts_are_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    for (what, body, field) in bad_bodies() {
        let answer = app
            .post("/api/posts")
            .bearer(&susan.access_token)
            .json(&body)
            .send()
            .await;

        assert!(!answer.field_errors(field).is_empty(), "{what}");
    }
    assert_eq!(post_count(&app).await, 0);
}

#[tokio::test]
async fn writing_a_post_needs_an_access_token() {
    let app = spawn_app().await;

    let answer = app
        .post("/api/posts")
        .json(&json!({"text": "anonymous"}))
        .send()
        .await;

    answer.assert_error(401);
    assert_eq!(post_count(&app).await, 0);
}

#[tokio::test]
async fn a_post_reads_back_with_its_author_but_not_the_authors_email() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let john = app.user("john").await;
    let post = write(&app, &susan, "mine").await;

    let answer = app
        .get(post["url"].as_str().unwrap())
        .bearer(&john.access_token)
        .send()
        .await;

    answer.assert_status(200);
    assert_eq!(answer.body["id"], post["id"]);
    assert_eq!(answer.body["text"], "mine");
    assert_eq!(answer.body["timestamp"], post["timestamp"]);
    assert_eq!(answer.body["author"]["username"], "susan");
    assert!(
        answer.body["author"].get("email").is_none(),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn unknown_posts_answer_json_404() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    for path in ["/api/posts/999", "/api/posts/abc", "/api/posts/-1"] {
        app.get(path)
            .bearer(&susan.access_token)
            .send()
            .await
            .assert_error(404);
    }
}

#[tokio::test]
async fn the_author_can_edit_a_post_and_its_timestamp_stays() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let post = write(&app, &susan, "first draft").await;

    let answer = app
        .put(post["url"].as_str().unwrap())
        .bearer(&susan.access_token)
        .json(&json!({"text": " second draft "}))
        .send()
        .await;

    answer.assert_status(200);
    assert_eq!(answer.body["text"], "second draft");
    assert_eq!(answer.body["id"], post["id"]);
    assert_eq!(answer.body["timestamp"], post["timestamp"]);
    let stored = app
        .get(post["url"].as_str().unwrap())
        .bearer(&susan.access_token)
        .send()
        .await;
    assert_eq!(stored.body["text"], "second draft");
}

#[tokio::test]
async fn editing_someone_elses_post_is_forbidden_and_changes_nothing() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let john = app.user("john").await;
    let post = write(&app, &susan, "susan's words").await;

    let answer = app
        .put(post["url"].as_str().unwrap())
        .bearer(&john.access_token)
        .json(&json!({"text": "john's words"}))
        .send()
        .await;

    answer.assert_error(403);
    let kept = app
        .count("SELECT COUNT(*) FROM posts WHERE text = 'susan''s words'")
        .await;
    assert_eq!(kept, 1);
}

#[tokio::test]
async fn editing_an_unknown_post_answers_404() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = app
        .put("/api/posts/999")
        .bearer(&susan.access_token)
        .json(&json!({"text": "hello"}))
        .send()
        .await;

    answer.assert_error(404);
    assert_eq!(post_count(&app).await, 0);
}

#[tokio::test]
async fn invalid_edits_are_refused_and_the_post_is_unchanged() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let post = write(&app, &susan, "original").await;

    for (what, body, field) in bad_bodies() {
        let answer = app
            .put(post["url"].as_str().unwrap())
            .bearer(&susan.access_token)
            .json(&body)
            .send()
            .await;

        assert!(!answer.field_errors(field).is_empty(), "{what}");
    }
    let unchanged = app
        .count("SELECT COUNT(*) FROM posts WHERE text = 'original'")
        .await;
    assert_eq!(unchanged, 1);
}

#[tokio::test]
async fn the_author_can_delete_a_post() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let post = write(&app, &susan, "regrettable").await;
    let url = post["url"].as_str().unwrap();

    let answer = app.delete(url).bearer(&susan.access_token).send().await;

    answer.assert_status(204);
    assert_eq!(answer.body, Value::Null, "204 has no body");
    app.get(url)
        .bearer(&susan.access_token)
        .send()
        .await
        .assert_error(404);
    assert_eq!(post_count(&app).await, 0);
}

#[tokio::test]
async fn deleting_someone_elses_post_is_forbidden_and_keeps_it() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let john = app.user("john").await;
    let post = write(&app, &susan, "keep me").await;

    let answer = app
        .delete(post["url"].as_str().unwrap())
        .bearer(&john.access_token)
        .send()
        .await;

    answer.assert_error(403);
    assert_eq!(post_count(&app).await, 1);
}

#[tokio::test]
async fn deleting_an_unknown_post_answers_404() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = app
        .delete("/api/posts/999")
        .bearer(&susan.access_token)
        .send()
        .await;

    answer.assert_error(404);
}

#[tokio::test]
async fn explore_lists_everyones_posts_newest_first() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let john = app.user("john").await;
    let first = write(&app, &susan, "one").await;
    let second = write(&app, &john, "two").await;
    let third = write(&app, &susan, "three").await;

    let answer = app
        .get("/api/posts")
        .bearer(&john.access_token)
        .send()
        .await;

    answer.assert_status(200);
    assert_eq!(
        ids(&answer.body),
        [&third, &second, &first].map(|p| p["id"].as_i64().unwrap())
    );
    // The author is embedded; the email only where the author is the caller.
    let data = &answer.body["data"];
    assert_eq!(data[0]["author"]["username"], "susan");
    assert!(data[0]["author"].get("email").is_none());
    assert_eq!(data[1]["author"]["email"], john.email);
}

#[tokio::test]
async fn posts_of_the_same_microsecond_are_ordered_by_id_newest_first() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let mut seed = Seed::connect(&app).await;
    let a = seed.post(susan.id, "a", at(1)).await;
    let b = seed.post(susan.id, "b", at(2)).await;
    let c = seed.post(susan.id, "c", at(2)).await;
    let d = seed.post(susan.id, "d", at(0)).await;

    let answer = app
        .get("/api/posts")
        .bearer(&susan.access_token)
        .send()
        .await;

    assert_eq!(ids(&answer.body), [c, b, a, d]);
}

#[tokio::test]
async fn a_users_posts_are_theirs_alone_newest_first() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let john = app.user("john").await;
    let older = write(&app, &susan, "older").await;
    write(&app, &john, "john's").await;
    let newer = write(&app, &susan, "newer").await;

    let answer = app
        .get(&format!("/api/users/{}/posts", susan.id))
        .bearer(&john.access_token)
        .send()
        .await;

    answer.assert_status(200);
    assert_eq!(
        ids(&answer.body),
        [&newer, &older].map(|p| p["id"].as_i64().unwrap())
    );
    assert_eq!(answer.body["pagination"]["total"], 2);
}

#[tokio::test]
async fn the_posts_of_an_unknown_user_answer_404() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    for path in ["/api/users/999/posts", "/api/users/abc/posts"] {
        app.get(path)
            .bearer(&susan.access_token)
            .send()
            .await
            .assert_error(404);
    }
}

#[tokio::test]
async fn the_feed_has_ones_own_posts_and_those_of_followed_users_newest_first() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let mut seed = Seed::connect(&app).await;
    let john = seed.user("john").await;
    let mary = seed.user("mary").await;
    seed.follow(susan.id, john).await;
    seed.follow(mary, susan.id).await; // a follower's posts are not in the feed
    let johns = seed.post(john, "john", at(3)).await;
    let own = seed.post(susan.id, "own", at(2)).await;
    seed.post(mary, "mary", at(4)).await;
    let johns_older = seed.post(john, "john again", at(1)).await;

    let answer = app
        .get("/api/feed")
        .bearer(&susan.access_token)
        .send()
        .await;

    answer.assert_status(200);
    assert_eq!(ids(&answer.body), [johns, own, johns_older]);
    assert_eq!(answer.body["pagination"]["total"], 3);
}

#[tokio::test]
async fn the_feed_of_someone_who_follows_nobody_is_their_own_posts() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let john = app.user("john").await;
    write(&app, &john, "not for susan").await;
    let own = write(&app, &susan, "mine").await;

    let answer = app
        .get("/api/feed")
        .bearer(&susan.access_token)
        .send()
        .await;

    assert_eq!(ids(&answer.body), [own["id"].as_i64().unwrap()]);
}

async fn feed_ids(app: &TestApp, user: &TestUser) -> Vec<i64> {
    let answer = app.get("/api/feed").bearer(&user.access_token).send().await;
    answer.assert_status(200);
    ids(&answer.body)
}

#[tokio::test]
async fn the_feed_follows_follows_and_unfollows() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let john = app.user("john").await;
    let johns = write(&app, &john, "hello").await["id"].as_i64().unwrap();
    let follow_url = format!("/api/me/following/{}", john.id);

    app.post(&follow_url)
        .bearer(&susan.access_token)
        .send()
        .await
        .assert_status(204);
    let following = feed_ids(&app, &susan).await;
    app.delete(&follow_url)
        .bearer(&susan.access_token)
        .send()
        .await
        .assert_status(204);
    let unfollowed = feed_ids(&app, &susan).await;

    assert_eq!(following, [johns]);
    assert_eq!(unfollowed, Vec::<i64>::new());
}

#[tokio::test]
async fn post_lists_need_an_access_token() {
    let app = spawn_app().await;

    for path in [
        "/api/posts",
        "/api/feed",
        "/api/posts/1",
        "/api/users/1/posts",
    ] {
        app.get(path).send().await.assert_error(401);
    }
}

#[tokio::test]
async fn the_feed_total_follows_posts_written_and_deleted() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let mut seed = Seed::connect(&app).await;
    let john = seed.user("john").await;
    seed.follow(susan.id, john).await;
    seed.post(john, "seeded", at(1)).await;
    write(&app, &susan, "kept").await;
    let gone = write(&app, &susan, "deleted").await;
    app.delete(gone["url"].as_str().unwrap())
        .bearer(&susan.access_token)
        .send()
        .await
        .assert_status(204);

    let answer = app
        .get("/api/feed")
        .bearer(&susan.access_token)
        .send()
        .await;

    answer.assert_status(200);
    assert_eq!(answer.body["pagination"]["total"], 2);
    assert_eq!(answer.body["pagination"]["count"], 2);
}

#[tokio::test]
async fn the_openapi_document_describes_posts_follows_and_user_lists() {
    let app = spawn_app().await;

    let answer = app.get("/api/openapi.json").send().await;

    answer.assert_status(200);
    let paths = &answer.body["paths"];
    for (path, methods) in [
        ("/api/posts", &["get", "post"][..]),
        ("/api/posts/{id}", &["get", "put", "delete"]),
        ("/api/feed", &["get"]),
        ("/api/users/{id}/posts", &["get"]),
        ("/api/users", &["get"]),
        ("/api/me/following", &["get"]),
        ("/api/me/followers", &["get"]),
        ("/api/me/following/{id}", &["get", "post", "delete"]),
        ("/api/users/{id}/following", &["get"]),
        ("/api/users/{id}/followers", &["get"]),
    ] {
        for method in methods {
            let operation = &paths[path][method];
            assert!(
                operation["summary"].is_string(),
                "{method} {path} undocumented"
            );
        }
    }
}
