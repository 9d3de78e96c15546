//! Helpers for the account-security tests: the mail outbox, TOTP codes, 2FA enrolment.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::json;
use server::auth::totp;

use crate::helpers::{Answer, TestApp, TestUser, spawn_app_with};

/// A test server and the folder its email lands in.
pub struct MailApp {
    pub app: TestApp,
    outbox: tempfile::TempDir,
}

impl std::ops::Deref for MailApp {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

/// Starts a server whose outbox this test can read.
pub async fn spawn_mail_app(overrides: &[(&str, &str)]) -> MailApp {
    let outbox = tempfile::tempdir().expect("outbox folder");
    let path = outbox.path().join("outbox").display().to_string();
    let mut all = vec![("MAIL_OUTBOX", path.as_str())];
    all.extend_from_slice(overrides);
    MailApp {
        app: spawn_app_with(&all).await,
        outbox,
    }
}

/// One email from the outbox, decoded.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    /// The whole message, quoted-printable undone.
    pub text: String,
}

impl Mail {
    /// The reset link in the message.
    pub fn link(&self) -> String {
        let start = self.text.find("http").expect("a link in the message");
        self.text[start..]
            .split_whitespace()
            .next()
            .expect("link")
            .to_owned()
    }

    /// The token of the reset link.
    pub fn token(&self) -> String {
        let link = self.link();
        let (_, token) = link.split_once("token=").expect("token in the link");
        token.to_owned()
    }
}

impl MailApp {
    fn outbox_dir(&self) -> PathBuf {
        self.outbox.path().join("outbox")
    }

    /// Every message so far, oldest first.
    pub fn mails(&self) -> Vec<Mail> {
        read_mails(&self.outbox_dir())
    }

    /// Waits until `count` messages with `subject` arrived (sending is asynchronous), and
    /// returns them, oldest first.
    pub async fn wait_for(&self, subject: &str, count: usize) -> Vec<Mail> {
        for _ in 0..250 {
            let found: Vec<Mail> = self
                .mails()
                .into_iter()
                .filter(|m| m.subject == subject)
                .collect();
            if found.len() >= count {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "no {count} emails {subject:?} in the outbox: {:?}",
            self.mails()
        );
    }

    /// `POST /api/tokens/reset`, then the token from the email it sends.
    pub async fn reset_token(&self, email: &str) -> String {
        let before = self
            .mails()
            .iter()
            .filter(|m| m.subject == RESET_SUBJECT)
            .count();
        self.post("/api/tokens/reset")
            .json(&json!({ "email": email }))
            .send()
            .await
            .assert_status(204);
        let mails = self.wait_for(RESET_SUBJECT, before + 1).await;
        mails.last().expect("a reset email").token()
    }
}

/// Every message in an outbox folder, oldest first.
pub fn read_mails(outbox: &Path) -> Vec<Mail> {
    let Ok(dir) = std::fs::read_dir(outbox) else {
        return Vec::new();
    };
    let mut files: Vec<(SystemTime, PathBuf)> = dir
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| (p.metadata().and_then(|m| m.modified()).unwrap(), p))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|(_, p)| parse_mail(&std::fs::read_to_string(p).expect("readable .eml")))
        .collect()
}

pub const RESET_SUBJECT: &str = "Reset your Microblog password";
pub const CHANGED_SUBJECT: &str = "Your Microblog password was changed";

fn parse_mail(raw: &str) -> Mail {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let text = if head.contains("quoted-printable") {
        decode_quoted_printable(body)
    } else {
        body.to_owned()
    };
    Mail {
        to: header("To"),
        subject: header("Subject"),
        text: text.replace("\r\n", "\n"),
    }
}

fn decode_quoted_printable(text: &str) -> String {
    let text = text.replace("=\r\n", "").replace("=\n", "");
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        let hex = tail.get(..2).and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(decoded) if b == b'=' => {
                out.push(decoded);
                rest = &tail[2..];
            }
            _ => {
                out.push(b);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The code of the current step plus `offset`.
pub fn code(secret: &str, offset: i64) -> String {
    let raw = totp::base32_decode(secret).expect("base32 secret");
    totp::code_at(&raw, totp::current_step() + offset)
}

/// A six-digit code that no step of the window accepts.
pub fn wrong_code(secret: &str) -> String {
    let window: Vec<String> = (-1..=1).map(|o| code(secret, o)).collect();
    (0..1000)
        .map(|n| format!("{:06}", 100_000 + n * 7919 % 900_000))
        .find(|c| !window.contains(c))
        .expect("some code is wrong")
}

/// Waits, if needed, so that the next few seconds stay within one 30-second step: codes
/// computed now are then judged against the same step by the server.
pub async fn settle_step() {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let into_step = secs % 30.0;
    if into_step > 24.0 {
        tokio::time::sleep(Duration::from_secs_f64(30.0 - into_step + 0.2)).await;
    }
}

/// Turns on 2FA for `user` (confirming with the previous step's code, so the current and
/// next steps stay usable), and returns the secret and the recovery codes.
pub async fn enable_2fa(app: &TestApp, user: &TestUser) -> (String, Vec<String>) {
    settle_step().await;
    let setup = app
        .post("/api/me/2fa")
        .bearer(&user.access_token)
        .json(&json!({ "password": user.password }))
        .send()
        .await;
    setup.assert_status(200);
    let secret = setup.body["secret"].as_str().expect("secret").to_owned();
    let confirmed = app
        .put("/api/me/2fa")
        .bearer(&user.access_token)
        .json(&json!({ "code": code(&secret, -1) }))
        .send()
        .await;
    confirmed.assert_status(200);
    let codes = serde_json::from_value(confirmed.body["recovery_codes"].clone()).expect("codes");
    (secret, codes)
}

/// `POST /api/tokens/2fa` with a code.
pub async fn answer_challenge(app: &TestApp, challenge: &str, code: &str) -> Answer {
    app.post("/api/tokens/2fa")
        .json(&json!({ "challenge": challenge, "code": code }))
        .send()
        .await
}

/// Logs in with the password, expecting a 2FA challenge; returns it.
pub async fn challenge(app: &TestApp, user: &TestUser) -> String {
    let answer = app.login(&user.username, &user.password).await;
    answer.assert_status(202);
    answer.body["challenge"]
        .as_str()
        .expect("challenge")
        .to_owned()
}

/// Runs a statement against the test's database (to simulate what no endpoint does).
pub async fn execute(app: &TestApp, sql: &str) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .expect("database connection");
    sqlx::query(sql)
        .execute(&mut conn)
        .await
        .expect("statement runs");
}

/// The error description of an answer.
pub fn description(answer: &Answer) -> String {
    answer.body["description"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}
