//! Follows (follow, unfollow, the following and follower lists) and the list of users.

use crate::helpers::{TestApp, TestUser, spawn_app};
use crate::seed::{Seed, ids};

fn following_url(id: i64) -> String {
    format!("/api/me/following/{id}")
}

async fn follow_count(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM follows").await
}

async fn follow(app: &TestApp, user: &TestUser, id: i64) {
    app.post(&following_url(id))
        .bearer(&user.access_token)
        .send()
        .await
        .assert_status(204);
}

#[tokio::test]
async fn following_a_user_answers_204_and_is_then_reported() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let john = app.user("john").await;

    let answer = app
        .post(&following_url(john.id))
        .bearer(&susan.access_token)
        .send()
        .await;

    answer.assert_status(204);
    app.get(&following_url(john.id))
        .bearer(&susan.access_token)
        .send()
        .await
        .assert_status(204);
    // Following is one-way.
    app.get(&following_url(susan.id))
        .bearer(&john.access_token)
        .send()
        .await
        .assert_error(404);
    assert_eq!(follow_count(&app).await, 1);
}

#[tokio::test]
async fn asking_about_a_user_one_does_not_follow_answers_404() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let mut seed = Seed::connect(&app).await;
    let john = seed.user("john").await;

    for id in [john, 999, susan.id] {
        app.get(&following_url(id))
            .bearer(&susan.access_token)
            .send()
            .await
            .assert_error(404);
    }
}

#[tokio::test]
async fn following_twice_answers_409_and_keeps_one_follow() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let mut seed = Seed::connect(&app).await;
    let john = seed.user("john").await;
    follow(&app, &susan, john).await;

    let answer = app
        .post(&following_url(john))
        .bearer(&susan.access_token)
        .send()
        .await;

    answer.assert_error(409);
    assert_eq!(follow_count(&app).await, 1);
}

#[tokio::test]
async fn following_an_unknown_user_answers_404() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    for path in [following_url(999), "/api/me/following/abc".to_owned()] {
        app.post(&path)
            .bearer(&susan.access_token)
            .send()
            .await
            .assert_error(404);
    }
    assert_eq!(follow_count(&app).await, 0);
}

#[tokio::test]
async fn following_oneself_is_refused_with_a_reason() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answer = app
        .post(&following_url(susan.id))
        .bearer(&susan.access_token)
        .send()
        .await;

    answer.assert_error(400);
    assert_eq!(answer.body["description"], "You cannot follow yourself.");
    assert_eq!(follow_count(&app).await, 0);
}

#[tokio::test]
async fn unfollowing_answers_204_and_ends_the_follow() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let mut seed = Seed::connect(&app).await;
    let john = seed.user("john").await;
    follow(&app, &susan, john).await;

    let answer = app
        .delete(&following_url(john))
        .bearer(&susan.access_token)
        .send()
        .await;

    answer.assert_status(204);
    app.get(&following_url(john))
        .bearer(&susan.access_token)
        .send()
        .await
        .assert_error(404);
    assert_eq!(follow_count(&app).await, 0);
}

#[tokio::test]
async fn unfollowing_someone_not_followed_answers_409() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let mut seed = Seed::connect(&app).await;
    let john = seed.user("john").await;
    let mary = seed.user("mary").await;
    seed.follow(mary, john).await; // someone else's follow stays

    for id in [john, susan.id] {
        app.delete(&following_url(id))
            .bearer(&susan.access_token)
            .send()
            .await
            .assert_error(409);
    }
    assert_eq!(follow_count(&app).await, 1);
}

#[tokio::test]
async fn unfollowing_an_unknown_user_answers_404() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    app.delete(&following_url(999))
        .bearer(&susan.access_token)
        .send()
        .await
        .assert_error(404);
}

#[tokio::test]
async fn follow_endpoints_need_an_access_token() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let url = following_url(susan.id);

    app.get(&url).send().await.assert_error(401);
    app.post(&url).send().await.assert_error(401);
    app.delete(&url).send().await.assert_error(401);
    for path in [
        "/api/me/following".to_owned(),
        "/api/me/followers".to_owned(),
        format!("/api/users/{}/following", susan.id),
        format!("/api/users/{}/followers", susan.id),
        "/api/users".to_owned(),
    ] {
        app.get(&path).send().await.assert_error(401);
    }
}

/// Susan follows five users and is followed by them, whose names sort differently by
/// case and by punctuation; returns their ids in the expected order: case-insensitive,
/// then byte by byte (`a1` before `a_b`, where a language-aware collation puts `_` first).
async fn susan_with_mixed_case_neighbours(app: &TestApp, susan: &TestUser) -> Vec<i64> {
    let mut seed = Seed::connect(app).await;
    let mut ordered = Vec::new();
    // Inserted out of order; the expected order is A1, a_b, B.b, c_c, Dave.
    for name in ["c_c", "Dave", "a_b", "B.b", "A1"] {
        let id = seed.user(name).await;
        seed.follow(susan.id, id).await;
        seed.follow(id, susan.id).await;
        ordered.push((name.to_lowercase(), id));
    }
    ordered.sort();
    ordered.into_iter().map(|(_, id)| id).collect()
}

#[tokio::test]
async fn my_following_and_followers_are_listed_by_username_ignoring_case() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let expected = susan_with_mixed_case_neighbours(&app, &susan).await;

    for path in ["/api/me/following", "/api/me/followers"] {
        let answer = app.get(path).bearer(&susan.access_token).send().await;

        answer.assert_status(200);
        assert_eq!(ids(&answer.body), expected, "{path}");
        assert_eq!(answer.body["pagination"]["total"], 5, "{path}");
        assert!(
            answer.body["data"][0].get("email").is_none(),
            "others' emails stay private"
        );
    }
}

#[tokio::test]
async fn another_users_following_and_followers_are_listed_by_username() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let mut seed = Seed::connect(&app).await;
    let john = seed.user("john").await;
    let zed = seed.user("zed").await;
    let amy = seed.user("amy").await;
    seed.follow(john, zed).await;
    seed.follow(john, amy).await;
    seed.follow(susan.id, john).await;
    seed.follow(zed, john).await;

    let following = app
        .get(&format!("/api/users/{john}/following"))
        .bearer(&susan.access_token)
        .send()
        .await;
    let followers = app
        .get(&format!("/api/users/{john}/followers"))
        .bearer(&susan.access_token)
        .send()
        .await;

    following.assert_status(200);
    followers.assert_status(200);
    assert_eq!(ids(&following.body), [amy, zed]);
    assert_eq!(ids(&followers.body), [susan.id, zed]);
    // The caller sees their own email in a list, and no one else's.
    assert_eq!(followers.body["data"][0]["email"], susan.email);
    assert!(followers.body["data"][1].get("email").is_none());
}

#[tokio::test]
async fn the_lists_of_an_unknown_user_answer_404() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    for path in [
        "/api/users/999/following",
        "/api/users/999/followers",
        "/api/users/abc/followers",
    ] {
        app.get(path)
            .bearer(&susan.access_token)
            .send()
            .await
            .assert_error(404);
    }
}

#[tokio::test]
async fn the_user_list_has_everyone_in_order_of_registration() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let mut seed = Seed::connect(&app).await;
    let zed = seed.user("zed").await;
    let amy = seed.user("amy").await;

    let answer = app
        .get("/api/users")
        .bearer(&susan.access_token)
        .send()
        .await;

    answer.assert_status(200);
    assert_eq!(ids(&answer.body), [susan.id, zed, amy]);
    assert_eq!(answer.body["data"][0]["email"], susan.email);
    assert!(answer.body["data"][1].get("email").is_none());
}
