//! The real server binary's logs: authentication events with the user id and address,
//! never a secret.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::PASSWORD;

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
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next())
        .find_map(|pair| pair.strip_prefix("refresh_token="))
        .expect("a refresh cookie")
        .to_owned()
}
