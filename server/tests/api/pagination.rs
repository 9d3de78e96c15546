//! Pagination, as the contract's table has it, on every list endpoint.

use serde_json::Value;

use crate::helpers::{Answer, TestApp, TestUser, spawn_app};
use crate::seed::{Seed, at, ids, iso, pagination};

/// How many users Susan follows and is followed by, each with one post.
const NEIGHBOURS: i64 = 30;

/// A world where every list has more than one page: Susan follows and is followed by 30
/// users (`user00`..`user29`, registered in reverse order so that id order and name order
/// differ); each of them posted once, and Susan 30 times, all at distinct times.
struct World {
    app: TestApp,
    susan: TestUser,
    /// Neighbour ids by username.
    neighbours: Vec<i64>,
    /// Every post id, newest first.
    posts: Vec<i64>,
    /// Susan's post ids, newest first.
    susans_posts: Vec<i64>,
    /// `(post id, timestamp)`, newest first.
    times: Vec<(i64, i64)>,
}

impl World {
    async fn new() -> Self {
        let app = spawn_app().await;
        let susan = app.user("susan").await;
        let mut seed = Seed::connect(&app).await;
        let mut neighbours = vec![0; NEIGHBOURS as usize];
        let mut times = Vec::new();
        let mut susans_posts = Vec::new();
        for i in (0..NEIGHBOURS).rev() {
            let id = seed.user(&format!("user{i:02}")).await;
            seed.follow(susan.id, id).await;
            seed.follow(id, susan.id).await;
            neighbours[i as usize] = id;
            let theirs = seed.post(id, "theirs", at(2 * i + 1)).await;
            times.push((theirs, at(2 * i + 1)));
            let hers = seed.post(susan.id, "hers", at(2 * i)).await;
            times.push((hers, at(2 * i)));
            susans_posts.push((at(2 * i), hers));
        }
        times.sort_by_key(|&(_, t)| std::cmp::Reverse(t));
        susans_posts.sort_by_key(|&(t, _)| std::cmp::Reverse(t));
        Self {
            posts: times.iter().map(|&(id, _)| id).collect(),
            susans_posts: susans_posts.into_iter().map(|(_, id)| id).collect(),
            app,
            susan,
            neighbours,
            times,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.app
            .get(path)
            .bearer(&self.susan.access_token)
            .send()
            .await
    }

    /// Every list endpoint with its full contents in order.
    fn lists(&self) -> Vec<(String, Vec<i64>)> {
        let id = self.susan.id;
        let mut everyone = vec![id];
        everyone.extend(self.neighbours.iter().rev());
        vec![
            ("/api/posts".into(), self.posts.clone()),
            ("/api/feed".into(), self.posts.clone()),
            (format!("/api/users/{id}/posts"), self.susans_posts.clone()),
            ("/api/me/following".into(), self.neighbours.clone()),
            ("/api/me/followers".into(), self.neighbours.clone()),
            (
                format!("/api/users/{id}/following"),
                self.neighbours.clone(),
            ),
            (
                format!("/api/users/{id}/followers"),
                self.neighbours.clone(),
            ),
            ("/api/users".into(), everyone),
        ]
    }
}

/// `path` with a query string appended.
fn with(path: &str, query: &str) -> String {
    format!("{path}?{query}")
}

/// Asserts a 400 with a message under `errors.query.<field>`.
#[track_caller]
fn assert_query_error(answer: &Answer, field: &str, context: &str) {
    answer.assert_error(400);
    assert_eq!(answer.body["message"], "Validation Error", "{context}");
    let messages = &answer.body["errors"]["query"][field];
    assert!(
        messages.as_array().is_some_and(|m| !m.is_empty()),
        "{context}: no errors.query.{field} in {}",
        answer.body
    );
}

#[tokio::test]
async fn lists_default_to_pages_of_25_from_the_start() {
    let world = World::new().await;

    for (path, all) in world.lists() {
        let answer = world.get(&path).await;

        answer.assert_status(200);
        assert_eq!(ids(&answer.body), all[..25], "{path}");
        assert_eq!(
            pagination(&answer.body),
            (0, 25, 25, all.len() as i64),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_limit_above_25_is_clamped_to_25() {
    let world = World::new().await;

    for (path, _) in world.lists() {
        let answer = world.get(&with(&path, "limit=500")).await;

        answer.assert_status(200);
        let (_, limit, count, _) = pagination(&answer.body);
        assert_eq!((limit, count), (25, 25), "{path}");
    }
}

#[tokio::test]
async fn limit_and_offset_select_a_slice() {
    let world = World::new().await;

    for (path, all) in world.lists() {
        let answer = world.get(&with(&path, "limit=3&offset=5")).await;

        answer.assert_status(200);
        assert_eq!(ids(&answer.body), all[5..8], "{path}");
        assert_eq!(
            pagination(&answer.body),
            (5, 3, 3, all.len() as i64),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_last_page_is_short_and_says_nothing_remains() {
    let world = World::new().await;

    for (path, all) in world.lists() {
        let total = all.len() as i64;
        let answer = world
            .get(&with(&path, &format!("offset={}", total - 2)))
            .await;

        answer.assert_status(200);
        assert_eq!(ids(&answer.body), all[all.len() - 2..], "{path}");
        let (offset, _, count, total) = pagination(&answer.body);
        assert_eq!(count, 2, "{path}");
        assert_eq!(offset + count, total, "{path}: nothing remains");
    }
}

#[tokio::test]
async fn walking_by_offset_visits_every_item_once() {
    let world = World::new().await;

    for (path, all) in world.lists() {
        let mut seen = Vec::new();
        let mut offset = 0;
        loop {
            let page = world
                .get(&with(&path, &format!("limit=7&offset={offset}")))
                .await;
            page.assert_status(200);
            seen.extend(ids(&page.body));
            let (at, _, count, total) = pagination(&page.body);
            if at + count >= total {
                break;
            }
            offset = at + count;
        }

        assert_eq!(seen, all, "{path}");
    }
}

#[tokio::test]
async fn bad_limits_and_offsets_are_refused() {
    let world = World::new().await;

    for (path, all) in world.lists() {
        let total = all.len();
        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=-5", "limit"),
            ("limit=ten", "limit"),
            ("offset=-1", "offset"),
            ("offset=many", "offset"),
            (&format!("offset={total}"), "offset"),
            (&format!("offset={}", total + 100), "offset"),
        ] {
            let answer = world.get(&with(&path, query)).await;

            assert_query_error(&answer, field, &format!("{path}?{query}"));
        }
    }
}

#[tokio::test]
async fn offset_and_after_together_are_refused_as_a_whole() {
    let world = World::new().await;
    let when = iso(at(10));

    for (path, _) in world.lists() {
        let after = if path.contains("follow") {
            "user05"
        } else {
            &when
        };
        let answer = world
            .get(&with(&path, &format!("offset=1&after={after}")))
            .await;

        assert_query_error(&answer, "_schema", &path);
    }
}

#[tokio::test]
async fn after_is_refused_on_the_user_list() {
    let world = World::new().await;

    let answer = world.get("/api/users?after=susan").await;

    assert_query_error(&answer, "after", "/api/users?after=susan");
}

#[tokio::test]
async fn offsets_are_not_checked_against_an_empty_list() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    for query in ["", "?offset=0", "?offset=3"] {
        let answer = app
            .get(&format!("/api/feed{query}"))
            .bearer(&susan.access_token)
            .send()
            .await;

        answer.assert_status(200);
        assert_eq!(ids(&answer.body), Vec::<i64>::new());
        assert_eq!(pagination(&answer.body).3, 0, "total");
    }
}

/// The post lists of the world with their contents.
fn post_lists(world: &World) -> Vec<(String, Vec<i64>)> {
    world
        .lists()
        .into_iter()
        .filter(|(path, _)| path.contains("posts") || path.contains("feed"))
        .collect()
}

#[tokio::test]
async fn after_a_timestamp_gives_strictly_older_posts_and_counts_the_newer_ones() {
    let world = World::new().await;
    let time_of = |id: i64| world.times.iter().find(|(p, _)| *p == id).unwrap().1;

    for (path, all) in post_lists(&world) {
        let k = 4;
        let after = iso(time_of(all[k]));

        let answer = world
            .get(&with(&path, &format!("limit=5&after={after}")))
            .await;

        answer.assert_status(200);
        assert_eq!(ids(&answer.body), all[k + 1..k + 6], "{path}");
        assert_eq!(
            pagination(&answer.body),
            ((k + 1) as i64, 5, 5, all.len() as i64),
            "{path}: offset is the number of posts at or before `after`"
        );
    }
}

#[tokio::test]
async fn walking_by_after_visits_every_post_once() {
    let world = World::new().await;

    for (path, all) in post_lists(&world) {
        let mut seen: Vec<i64> = Vec::new();
        let mut page = world.get(&with(&path, "limit=7")).await;
        loop {
            page.assert_status(200);
            let batch = page.body["data"].as_array().unwrap().clone();
            seen.extend(ids(&page.body));
            let (offset, _, count, total) = pagination(&page.body);
            assert_eq!(offset as usize + batch.len(), seen.len(), "{path}");
            if offset + count >= total {
                break;
            }
            let last = batch.last().unwrap()["timestamp"].as_str().unwrap();
            page = world
                .get(&with(&path, &format!("limit=7&after={last}")))
                .await;
        }

        assert_eq!(seen, all, "{path}");
    }
}

#[tokio::test]
async fn after_the_oldest_post_is_an_empty_last_page() {
    let world = World::new().await;

    for (path, all) in post_lists(&world) {
        let answer = world
            .get(&with(&path, &format!("after={}", iso(at(-1)))))
            .await;

        answer.assert_status(200);
        let total = all.len() as i64;
        assert_eq!(pagination(&answer.body), (total, 25, 0, total), "{path}");
    }
}

#[tokio::test]
async fn after_a_time_newer_than_every_post_starts_at_the_top() {
    let world = World::new().await;

    for (path, all) in post_lists(&world) {
        let answer = world
            .get(&with(&path, "limit=2&after=2999-01-01T00:00:00Z"))
            .await;

        answer.assert_status(200);
        assert_eq!(ids(&answer.body), all[..2], "{path}");
        assert_eq!(pagination(&answer.body).0, 0, "{path}");
    }
}

#[tokio::test]
async fn after_skips_every_post_of_the_same_microsecond() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let mut seed = Seed::connect(&app).await;
    seed.post(susan.id, "newest", at(3)).await;
    seed.post(susan.id, "tied a", at(2)).await;
    seed.post(susan.id, "tied b", at(2)).await;
    let oldest = seed.post(susan.id, "oldest", at(1)).await;

    let answer = app
        .get(&format!("/api/posts?after={}", iso(at(2))))
        .bearer(&susan.access_token)
        .send()
        .await;

    answer.assert_status(200);
    assert_eq!(ids(&answer.body), [oldest]);
    assert_eq!(pagination(&answer.body), (3, 25, 1, 4));
}

#[tokio::test]
async fn after_counts_the_newer_posts_exactly_however_the_timeline_is_stored() {
    // Arrange: 2,600 posts, so ids span three blocks of the server's timeline summary;
    // every seventh is back-dated (block time ranges overlap, and ties appear), and every
    // eleventh is then deleted (a block's bounds stay wider than its posts).
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let mut seed = Seed::connect(&app).await;
    let times: Vec<i64> = (0..2600)
        .map(|i| if i % 7 == 3 { at(i - 500) } else { at(i) })
        .collect();
    let posts = seed.posts(susan.id, &times).await;
    let mut kept: Vec<(i64, i64)> = Vec::new();
    for (n, (&id, &time)) in posts.iter().zip(&times).enumerate() {
        if n % 11 == 5 {
            seed.delete_post(id).await;
        } else {
            kept.push((time, id));
        }
    }
    kept.sort_by(|a, b| b.cmp(a)); // newest first, ids breaking ties

    for cursor in [-600, -1, 0, 523, 700, 1023, 1024, 1500, 2047, 2599, 9999].map(at) {
        // Act
        let answer = app
            .get(&format!("/api/posts?limit=3&after={}", iso(cursor)))
            .bearer(&susan.access_token)
            .send()
            .await;

        // Assert
        answer.assert_status(200);
        let newer = kept.iter().filter(|&&(t, _)| t >= cursor).count();
        let next: Vec<i64> = kept[newer..].iter().take(3).map(|&(_, id)| id).collect();
        let (offset, _, count, total) = pagination(&answer.body);
        assert_eq!(offset as usize, newer, "offset after {}", iso(cursor));
        assert_eq!(total as usize, kept.len());
        assert_eq!(count as usize, next.len());
        assert_eq!(ids(&answer.body), next, "page after {}", iso(cursor));
    }
}

#[tokio::test]
async fn a_malformed_after_timestamp_is_refused() {
    let world = World::new().await;

    for (path, _) in post_lists(&world) {
        for bad in ["yesterday", "2026-13-01T00:00:00Z", "1700000000"] {
            let answer = world.get(&with(&path, &format!("after={bad}"))).await;

            assert_query_error(&answer, "after", &format!("{path}?after={bad}"));
        }
    }
}

/// The follower and following lists of the world with their contents.
fn user_lists(world: &World) -> Vec<(String, Vec<i64>)> {
    world
        .lists()
        .into_iter()
        .filter(|(path, _)| path.contains("follow"))
        .collect()
}

#[tokio::test]
async fn after_a_username_gives_the_users_strictly_after_it_ignoring_case() {
    let world = World::new().await;

    for (path, all) in user_lists(&world) {
        for after in ["user04", "USER04", "user04a"] {
            let answer = world
                .get(&with(&path, &format!("limit=3&after={after}")))
                .await;

            answer.assert_status(200);
            assert_eq!(ids(&answer.body), all[5..8], "{path}?after={after}");
            assert_eq!(
                pagination(&answer.body),
                (5, 3, 3, NEIGHBOURS),
                "{path}?after={after}: offset counts the users at or before it"
            );
        }
    }
}

#[tokio::test]
async fn walking_by_username_visits_every_user_once() {
    let world = World::new().await;

    for (path, all) in user_lists(&world) {
        let mut seen: Vec<i64> = Vec::new();
        let mut page = world.get(&with(&path, "limit=8")).await;
        loop {
            page.assert_status(200);
            seen.extend(ids(&page.body));
            let (offset, _, count, total) = pagination(&page.body);
            if offset + count >= total {
                break;
            }
            let data: &Value = &page.body["data"];
            let last = data[data.as_array().unwrap().len() - 1]["username"]
                .as_str()
                .unwrap()
                .to_owned();
            page = world
                .get(&with(&path, &format!("limit=8&after={last}")))
                .await;
        }

        assert_eq!(seen, all, "{path}");
    }
}

#[tokio::test]
async fn after_the_last_username_is_an_empty_last_page() {
    let world = World::new().await;

    for (path, _) in user_lists(&world) {
        let answer = world.get(&with(&path, "after=zzz")).await;

        answer.assert_status(200);
        assert_eq!(
            pagination(&answer.body),
            (NEIGHBOURS, 25, 0, NEIGHBOURS),
            "{path}"
        );
    }
}
