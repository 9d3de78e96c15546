//! CSRF and CORS refusals, bad input, and secrets kept out of bodies and logs.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Answer, PASSWORD, TestApp, spawn_app};

/// The origin the test configuration allows (`PUBLIC_URL`'s).
const ALLOWED_ORIGIN: &str = "http://localhost:8080";
const FOREIGN_ORIGIN: &str = "https://evil.example";

// --- CSRF on the cookie-authenticated endpoints ---------------------------------------

#[tokio::test]
async fn refresh_and_logout_refuse_a_body_not_declared_json_with_415() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
    ] {
        let mut refresh = app.put("/api/tokens").cookie(&susan.refresh_token);
        let mut logout = app.delete("/api/tokens").bearer(&susan.access_token);
        if let Some(ct) = content_type {
            refresh = refresh.raw_body(ct, "{}");
            logout = logout.raw_body(ct, "{}");
        }

        refresh.send().await.assert_error(415);
        logout.send().await.assert_error(415);
    }
    // Nothing happened: the session is as it was.
    app.refresh(&susan.refresh_token).await.assert_status(200);
}

#[tokio::test]
async fn refresh_and_logout_refuse_a_foreign_origin_with_403() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    for origin in [FOREIGN_ORIGIN, "null", "http://localhost:8081"] {
        let refresh = app
            .put("/api/tokens")
            .header("Origin", origin)
            .cookie(&susan.refresh_token)
            .json(&json!({}))
            .send()
            .await;
        let logout = app
            .delete("/api/tokens")
            .header("Origin", origin)
            .bearer(&susan.access_token)
            .json(&json!({}))
            .send()
            .await;

        refresh.assert_error(403);
        assert!(refresh.set_cookie().is_none(), "{origin}: no rotation");
        logout.assert_error(403);
    }
    app.refresh(&susan.refresh_token).await.assert_status(200);
}

#[tokio::test]
async fn refresh_and_logout_accept_the_allowed_origin_and_the_servers_own() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let own_origin = app.address.clone();

    let refreshed = app
        .put("/api/tokens")
        .header("Origin", ALLOWED_ORIGIN)
        .cookie(&susan.refresh_token)
        .json(&json!({}))
        .send()
        .await;
    let logged_out = app
        .delete("/api/tokens")
        .header("Origin", &own_origin)
        .bearer(&susan.access_token)
        .json(&json!({}))
        .send()
        .await;

    refreshed.assert_status(200);
    logged_out.assert_status(204);
}

// --- CORS -----------------------------------------------------------------------------

async fn preflight(app: &TestApp, origin: &str, method: &str) -> Answer {
    app.call(Method::OPTIONS, "/api/tokens")
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
}

#[tokio::test]
async fn a_preflight_from_the_allowed_origin_is_allowed_with_credentials() {
    let app = spawn_app().await;

    let answer = preflight(&app, ALLOWED_ORIGIN, "PUT").await;

    assert!(answer.status.is_success(), "{}", answer.status);
    assert_eq!(
        answer.headers["access-control-allow-origin"],
        ALLOWED_ORIGIN
    );
    assert_eq!(answer.headers["access-control-allow-credentials"], "true");
    let methods = answer.headers["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(methods.contains("PUT"), "{methods}");
}

#[tokio::test]
async fn a_preflight_from_a_foreign_origin_gets_no_allow_origin() {
    let app = spawn_app().await;

    for method in ["PUT", "DELETE", "POST"] {
        let answer = preflight(&app, FOREIGN_ORIGIN, method).await;

        assert!(
            answer.headers.get("access-control-allow-origin").is_none(),
            "{method}: {:?}",
            answer.headers
        );
    }
}

#[tokio::test]
async fn cors_never_answers_a_wildcard_or_a_reflected_foreign_origin() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    for origin in [ALLOWED_ORIGIN, FOREIGN_ORIGIN, "null"] {
        for answer in [
            app.get("/api/health").header("Origin", origin).send().await,
            app.get("/api/me")
                .header("Origin", origin)
                .bearer(&susan.access_token)
                .send()
                .await,
            preflight(&app, origin, "GET").await,
        ] {
            let acao = answer
                .headers
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap().to_owned());
            assert_ne!(acao.as_deref(), Some("*"));
            let expected = (origin == ALLOWED_ORIGIN).then(|| origin.to_owned());
            assert_eq!(acao, expected, "{origin}");
        }
    }
}

// --- Endpoints that need no login -----------------------------------------------------

#[tokio::test]
async fn endpoints_that_need_no_login_ignore_bearer_null() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let answers = [
        app.get("/api/health").send_with_bearer_null().await,
        app.get("/api/avatars/1?s=48").send_with_bearer_null().await,
        app.get("/api/openapi.json").send_with_bearer_null().await,
        app.post("/api/users")
            .json(&json!({"username": "john", "email": "john@example.com", "password": PASSWORD}))
            .send_with_bearer_null()
            .await,
        app.put("/api/tokens")
            .cookie(&susan.refresh_token)
            .json(&json!({}))
            .send_with_bearer_null()
            .await,
    ];

    for answer in answers {
        assert!(answer.status.is_success(), "{answer:?}");
    }
}

trait BearerNull {
    async fn send_with_bearer_null(self) -> Answer;
}

impl BearerNull for crate::helpers::Call<'_> {
    async fn send_with_bearer_null(self) -> Answer {
        self.header("Authorization", "Bearer null").send().await
    }
}

// --- Bad input to the token endpoints -------------------------------------------------

#[tokio::test]
async fn refresh_refuses_bad_bodies_with_json_errors() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let big = format!(r#"{{"access_token": "{}"}}"#, "x".repeat(70 * 1024));
    let cases: [(&str, String, u16); 5] = [
        ("malformed", "{\"access_token\":".into(), 400),
        ("unknown field", r#"{"refresh": "x"}"#.into(), 400),
        ("wrong type", r#"{"access_token": 5}"#.into(), 400),
        ("not an object", "[1, 2]".into(), 400),
        ("over 64 KiB", big, 413),
    ];
    for (why, body, status) in cases {
        let answer = app
            .put("/api/tokens")
            .cookie(&susan.refresh_token)
            .raw_body("application/json", body)
            .send()
            .await;

        answer.assert_error(status);
        assert!(answer.set_cookie().is_none(), "{why}: no rotation");
    }
    app.refresh(&susan.refresh_token).await.assert_status(200);
}

#[tokio::test]
async fn token_answers_are_never_cached() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;

    let login = app.login(&susan.username, PASSWORD).await;
    let refresh = app.refresh(&susan.refresh_token).await;

    for answer in [login, refresh] {
        assert_eq!(answer.headers["cache-control"], "no-store");
    }
}

// --- No secret in any response body ---------------------------------------------------

#[tokio::test]
async fn no_response_body_carries_a_refresh_token_a_password_or_a_hash() {
    let app = spawn_app().await;
    let mut answers = Vec::new();
    let mut refresh_tokens = Vec::new();

    let body = json!({"username": "susan", "email": "susan@example.com", "password": PASSWORD});
    answers.push(app.post("/api/users").json(&body).send().await);
    let login = app.login("susan", PASSWORD).await;
    refresh_tokens.push(login.refresh_cookie().unwrap());
    let access = login.body["access_token"].as_str().unwrap().to_owned();
    answers.push(login);
    let refreshed = app.refresh(&refresh_tokens[0]).await;
    refresh_tokens.push(refreshed.refresh_cookie().unwrap());
    answers.push(refreshed);
    answers.push(app.get("/api/me").bearer(&access).send().await);
    answers.push(app.get("/api/users/susan").bearer(&access).send().await);
    answers.push(
        app.put("/api/me")
            .bearer(&access)
            .json(&json!({"password": "a brand new secret", "old_password": PASSWORD}))
            .send()
            .await,
    );
    answers.push(app.login("susan", "wrong password").await);
    answers.push(app.refresh(&refresh_tokens[0]).await); // reuse within grace
    answers.push(
        app.delete("/api/tokens")
            .bearer(&access)
            .json(&json!({}))
            .send()
            .await,
    );

    for answer in &answers {
        let text = answer.body.to_string();
        for secret in refresh_tokens.iter().map(String::as_str).chain([
            PASSWORD,
            "a brand new secret",
            "wrong password",
            "$argon2",
        ]) {
            assert!(!text.contains(secret), "{secret:?} in {text}");
        }
    }
}

// --- No secret in the server's logs ---------------------------------------------------

/// The real server binary, started as production starts it, with its output captured.
pub(crate) struct ServerProcess {
    child: Child,
    pub(crate) address: String,
    lines: Arc<Mutex<Vec<String>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl ServerProcess {
    pub(crate) fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
            .env("PORT", "0")
            .env("HOST", "127.0.0.1")
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", dir.path().join("db.sqlite").display()),
            )
            .env("STATIC_DIR", dir.path().join("no-dist"))
            .env("MAIL_OUTBOX", dir.path().join("outbox"))
            .env("LOG_FORMAT", "json")
            .env("SECRET_KEY", server::secrets::generate_key())
            // Stricter than production: debug lines must not leak either.
            .env("RUST_LOG", "debug")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server binary starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = mpsc::channel();
        let readers = vec![
            read_lines(child.stdout.take().unwrap(), &lines, port_tx.clone()),
            read_lines(child.stderr.take().unwrap(), &lines, port_tx),
        ];
        let port: u16 = port_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server logs the port it listens on");
        Self {
            child,
            address: format!("http://127.0.0.1:{port}"),
            lines,
            readers,
            _dir: dir,
        }
    }

    /// The folder the server writes its email to.
    pub(crate) fn outbox(&self) -> std::path::PathBuf {
        self._dir.path().join("outbox")
    }

    /// Stops the server as a service manager would (SIGTERM), and returns all it wrote.
    pub(crate) fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let terminated = Command::new("kill").args(["-TERM", &pid]).status();
        if !terminated.is_ok_and(|s| s.success()) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        self.lines.lock().unwrap().join("\n")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Collects every line of `stream`, and sends the port of the "listening on" line.
fn read_lines(
    stream: impl Read + Send + 'static,
    lines: &Arc<Mutex<Vec<String>>>,
    port: mpsc::Sender<u16>,
) -> std::thread::JoinHandle<()> {
    let lines = Arc::clone(lines);
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let authority = rest.split_whitespace().next().unwrap_or_default();
                if let Some(p) = authority.rsplit(':').next().and_then(|p| p.parse().ok()) {
                    let _ = port.send(p);
                }
            }
            lines.lock().unwrap().push(line);
        }
    })
}

#[tokio::test]
async fn the_server_logs_auth_events_with_the_user_id_and_never_a_secret() {
    let server = ServerProcess::start();
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.address);
    let wrong_password = "not the right password";

    let created: Value = http
        .post(url("/api/users"))
        .json(&json!({"username": "susan", "email": "susan@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_id = created["id"].as_i64().expect("registered");
    let login = http
        .post(url("/api/tokens"))
        .basic_auth("susan", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    let refresh_1 = refresh_cookie(&login);
    let login: Value = login.json().await.unwrap();
    let access_1 = login["access_token"].as_str().unwrap().to_owned();
    let refreshed = http
        .put(url("/api/tokens"))
        .header("Cookie", format!("refresh_token={refresh_1}"))
        .json(&json!({"access_token": access_1}))
        .send()
        .await
        .unwrap();
    let refresh_2 = refresh_cookie(&refreshed);
    let refreshed: Value = refreshed.json().await.unwrap();
    let access_2 = refreshed["access_token"].as_str().unwrap().to_owned();
    // A second login, whose family is then revoked by replaying a token two rotations old.
    let second = http
        .post(url("/api/tokens"))
        .basic_auth("susan@example.com", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    let stolen = refresh_cookie(&second);
    let mut latest = stolen.clone();
    for _ in 0..2 {
        let rotated = http
            .put(url("/api/tokens"))
            .header("Cookie", format!("refresh_token={latest}"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        latest = refresh_cookie(&rotated);
    }
    let replay = http
        .put(url("/api/tokens"))
        .header("Cookie", format!("refresh_token={stolen}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 401);
    let new_password = "a brand new secret";
    let changed = http
        .put(url("/api/me"))
        .bearer_auth(&access_2)
        .json(&json!({"password": new_password, "old_password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    let failed = http
        .post(url("/api/tokens"))
        .basic_auth("susan", Some(wrong_password))
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 401);
    let logout = http
        .delete(url("/api/tokens"))
        .bearer_auth(&access_2)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);

    let output = server.stop();

    let basic = |p: &str| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("susan:{p}"))
    };
    for secret in [
        PASSWORD.to_owned(),
        wrong_password.to_owned(),
        new_password.to_owned(),
        basic(PASSWORD),
        basic(wrong_password),
        access_1,
        access_2,
        refresh_1,
        refresh_2,
        stolen,
        latest,
    ] {
        assert!(
            !output.contains(&secret),
            "{secret:?} in the logs:\n{output}"
        );
    }
    let events: Vec<Value> = output
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    for message in [
        "registered",
        "refresh token reuse detected: session revoked",
        "login",
        "refresh",
        "logout",
        "login failed: bad credentials",
        "password changed",
    ] {
        // The user id is a field of the event, or of the handler's span.
        let about_user =
            |e: &Value| e["fields"]["user_id"] == user_id || e["span"]["user_id"] == user_id;
        assert!(
            events
                .iter()
                .any(|e| e["fields"]["message"] == message && about_user(e)),
            "no {message:?} event with user_id {user_id}:\n{output}"
        );
    }
}

fn refresh_cookie(response: &reqwest::Response) -> String {
    response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .and_then(|pair| pair.strip_prefix("refresh_token="))
        .expect("a refresh cookie")
        .to_owned()
}
