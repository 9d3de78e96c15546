//! Input that once crashed a handler: the client gets a JSON error, and the server keeps
//! answering.

use crate::helpers::spawn_app;

/// `after` values that are not timestamps, some with multi-byte characters where the
/// parser used to cut the string (a panic, and a dropped connection).
const MALFORMED_AFTER: [&str; 6] = [
    "2026-01-01T00:00:00.00000%C3%A9Z",
    "2026-01-01T00:00:00.00000%F0%9F%92%A5Z",
    "2026-01-01T00:00:00.0000000%F0%9F%92%A5",
    "2026-01-01T00:00:0%C3%A9Z",
    "%C3%A9026-01-01T00:00:00Z",
    "%FF%FE",
];

#[tokio::test]
async fn malformed_after_values_get_a_json_400_and_the_server_stays_up() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    app.post("/api/posts")
        .bearer(&susan.access_token)
        .json(&serde_json::json!({"text": "still here"}))
        .send()
        .await
        .assert_status(201);
    let lists = [
        "/api/posts".to_owned(),
        "/api/feed".to_owned(),
        format!("/api/users/{}/posts", susan.id),
    ];

    for list in &lists {
        for bad in MALFORMED_AFTER {
            let answer = app
                .get(&format!("{list}?after={bad}"))
                .bearer(&susan.access_token)
                .send()
                .await;

            answer.assert_error(400);
            assert!(
                answer.body["errors"]["query"]["after"].is_array(),
                "{list}?after={bad}: {}",
                answer.body
            );
        }
    }

    // The same server still answers, with the data it had.
    for list in &lists {
        let answer = app.get(list).bearer(&susan.access_token).send().await;
        answer.assert_status(200);
        assert_eq!(answer.body["data"][0]["text"], "still here", "{list}");
    }
}
