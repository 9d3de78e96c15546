//! The test harness: a real server on a free port with a fresh database, and typed
//! helpers to speak HTTP to it.
//!
//! SQLite by default (a file in a temporary folder). With `TEST_POSTGRES_URL` set (an
//! admin connection to a PostgreSQL server), each test gets a fresh PostgreSQL database.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server::config::Config;
use server::startup::Application;
use sqlx::Connection;

/// A password that satisfies the policy.
pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub address: String,
    pub database_url: String,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// Starts a server with the default test configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts a server with some settings overridden, as environment variables would.
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().expect("temporary folder");
    let database_url = fresh_database_url(&dir).await;
    start(dir, database_url, overrides).await
}

impl TestApp {
    /// Another instance of the server on this one's database (several instances behind a
    /// balancer, or this one restarted with other settings). This one must outlive it.
    pub async fn another_instance(&self, overrides: &[(&str, &str)]) -> TestApp {
        let dir = tempfile::tempdir().expect("temporary folder");
        start(dir, self.database_url.clone(), overrides).await
    }
}

impl TestApp {
    /// A server this process did not start, at `address` on `database_url` (the
    /// two-instance topology that `cargo xtask test` sets up).
    pub fn external(address: &str, database_url: &str) -> TestApp {
        TestApp {
            address: address.trim_end_matches('/').to_owned(),
            database_url: database_url.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("HTTP client"),
            _dir: tempfile::tempdir().expect("temporary folder"),
        }
    }
}

async fn start(
    dir: tempfile::TempDir,
    database_url: String,
    overrides: &[(&str, &str)],
) -> TestApp {
    let mut env: HashMap<String, String> = HashMap::from([
        ("PORT".into(), "0".into()),
        ("DATABASE_URL".into(), database_url.clone()),
        (
            "STATIC_DIR".into(),
            dir.path().join("no-dist").display().to_string(),
        ),
        (
            "MAIL_OUTBOX".into(),
            dir.path().join("outbox").display().to_string(),
        ),
        ("PUBLIC_URL".into(), "http://localhost:8080".into()),
        // Every test registers its users from 127.0.0.1; the registration tests set it low.
        ("THROTTLE_REGISTER_ADDRESS".into(), "10000/3600".into()),
        ("SECRET_KEY".into(), server::secrets::generate_key()),
    ]);
    for (k, v) in overrides {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    let config = Config::from_vars(env).expect("test configuration");
    let app = Application::build(config).await.expect("server starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        address,
        database_url,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client"),
        _dir: dir,
    }
}

/// A fresh, empty database: a SQLite file in `dir`, or a new PostgreSQL database.
pub async fn fresh_database_url(dir: &tempfile::TempDir) -> String {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!(
                "test_{}",
                server::auth::token::hash(&server::auth::token::generate())[..24].to_owned()
            );
            let mut admin = sqlx::PgConnection::connect(&admin_url)
                .await
                .expect("connect to TEST_POSTGRES_URL");
            sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut admin)
                .await
                .expect("create a test database");
            let base = admin_url
                .rsplit_once('/')
                .map_or(admin_url.as_str(), |(b, _)| b);
            format!("{base}/{name}")
        }
        _ => format!("sqlite://{}", dir.path().join("test.db").display()),
    }
}

/// An answer: status, headers and the JSON body (Null when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The value of the refresh cookie set by this answer, if any.
    pub fn refresh_cookie(&self) -> Option<String> {
        self.set_cookie()
            .and_then(|c| c.split(';').next().map(str::to_owned))
            .and_then(|pair| pair.strip_prefix("refresh_token=").map(str::to_owned))
    }

    /// The whole `Set-Cookie` header of the refresh cookie (the session hint cookie is set
    /// beside it).
    pub fn set_cookie(&self) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("refresh_token="))
            .map(str::to_owned)
    }

    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Self {
        assert_eq!(self.status.as_u16(), expected, "body: {}", self.body);
        self
    }

    /// Asserts the contract's error body: `{code, message, description}`.
    #[track_caller]
    pub fn assert_error(&self, code: u16) -> &Self {
        self.assert_status(code);
        assert_eq!(self.body["code"], code, "{}", self.body);
        assert!(self.body["message"].is_string(), "{}", self.body);
        assert!(self.body["description"].is_string(), "{}", self.body);
        self
    }

    /// The messages for one body field of a validation error.
    #[track_caller]
    pub fn field_errors(&self, field: &str) -> Vec<String> {
        self.assert_error(400);
        assert_eq!(self.body["message"], "Validation Error", "{}", self.body);
        serde_json::from_value(self.body["errors"]["json"][field].clone())
            .unwrap_or_else(|_| panic!("no errors.json.{field} in {}", self.body))
    }
}

/// A request being built: method, path, and what goes with it.
pub struct Call<'a> {
    app: &'a TestApp,
    request: reqwest::RequestBuilder,
}

impl Call<'_> {
    pub fn bearer(mut self, token: &str) -> Self {
        self.request = self.request.bearer_auth(token);
        self
    }

    pub fn basic(mut self, user: &str, password: &str) -> Self {
        let encoded = STANDARD.encode(format!("{user}:{password}"));
        self.request = self
            .request
            .header("Authorization", format!("Basic {encoded}"));
        self
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.request = self.request.json(body);
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request = self.request.header(name, value);
        self
    }

    pub fn cookie(self, refresh_token: &str) -> Self {
        self.header("Cookie", &format!("refresh_token={refresh_token}"))
    }

    pub fn raw_body(mut self, content_type: &str, body: impl Into<reqwest::Body>) -> Self {
        self.request = self.request.header("Content-Type", content_type).body(body);
        self
    }

    pub async fn send(self) -> Answer {
        let _ = self.app;
        let response = self.request.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body read");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Answer {
            status,
            headers,
            body,
        }
    }
}

/// A registered, logged-in user.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl TestApp {
    pub fn call(&self, method: Method, path: &str) -> Call<'_> {
        Call {
            app: self,
            request: self.http.request(method, format!("{}{path}", self.address)),
        }
    }

    pub fn get(&self, path: &str) -> Call<'_> {
        self.call(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Call<'_> {
        self.call(Method::POST, path)
    }

    pub fn put(&self, path: &str) -> Call<'_> {
        self.call(Method::PUT, path)
    }

    pub fn delete(&self, path: &str) -> Call<'_> {
        self.call(Method::DELETE, path)
    }

    /// Registers `username` (email `<username>@example.com`) and logs in.
    pub async fn user(&self, username: &str) -> TestUser {
        let email = format!("{username}@example.com");
        let created = self
            .post("/api/users")
            .json(&json!({"username": username, "email": email, "password": PASSWORD}))
            .send()
            .await;
        created.assert_status(201);
        let login = self.login(username, PASSWORD).await;
        login.assert_status(200);
        TestUser {
            id: created.body["id"].as_i64().expect("user id"),
            username: username.to_owned(),
            email,
            password: PASSWORD.to_owned(),
            access_token: login.body["access_token"]
                .as_str()
                .expect("access token")
                .to_owned(),
            refresh_token: login.refresh_cookie().expect("refresh cookie"),
        }
    }

    /// `POST /api/tokens` with Basic credentials.
    pub async fn login(&self, name: &str, password: &str) -> Answer {
        self.post("/api/tokens").basic(name, password).send().await
    }

    /// `PUT /api/tokens` with the refresh cookie alone, as the SPA does.
    pub async fn refresh(&self, refresh_token: &str) -> Answer {
        self.put("/api/tokens")
            .cookie(refresh_token)
            .json(&json!({}))
            .send()
            .await
    }

    /// A single number from the database, for asserting what was (not) written.
    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.database_url)
            .await
            .expect("database connection");
        sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .expect("count query")
    }
}
