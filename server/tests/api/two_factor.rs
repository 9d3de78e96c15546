//! Two-factor authentication with TOTP (auth rules 22-25).

use std::time::Duration;

use serde_json::{Value, json};

use crate::account::{
    answer_challenge, challenge, code, description, enable_2fa, execute, read_mails, settle_step,
    spawn_mail_app, wrong_code,
};
use crate::helpers::{PASSWORD, spawn_app, spawn_app_with};
use crate::security::ServerProcess;

const CHALLENGE_GONE: &str =
    "This sign-in has expired or was already completed. Log in again with your password.";
const WRONG_CODE: &str = "The code is incorrect.";
const REPLAYED_CODE: &str =
    "This code was already used. Wait for the next code from your authenticator app.";

#[tokio::test]
async fn enrolment_needs_the_password_and_is_on_only_after_a_valid_code() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let status = || app.get("/api/me/2fa").bearer(&susan.access_token).send();
    let off = status().await;
    off.assert_status(200);
    assert_eq!(
        off.body,
        json!({"enabled": false, "recovery_codes_left": 0})
    );

    let wrong = app
        .post("/api/me/2fa")
        .bearer(&susan.access_token)
        .json(&json!({ "password": "not my password" }))
        .send()
        .await;
    assert_eq!(wrong.field_errors("password"), ["Incorrect password."]);

    settle_step().await;
    let setup = app
        .post("/api/me/2fa")
        .bearer(&susan.access_token)
        .json(&json!({ "password": PASSWORD }))
        .send()
        .await;
    setup.assert_status(200);
    let secret = setup.body["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 32, "160 bits of base32");
    let uri = setup.body["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with(&format!(
            "otpauth://totp/Microblog:susan?secret={secret}&issuer=Microblog"
        )),
        "{uri}"
    );
    assert!(uri.contains("algorithm=SHA1&digits=6&period=30"), "{uri}");
    // Pending: login is unchanged.
    assert_eq!(status().await.body["enabled"], false);
    app.login("susan", PASSWORD).await.assert_status(200);

    let bad = app
        .put("/api/me/2fa")
        .bearer(&susan.access_token)
        .json(&json!({ "code": wrong_code(&secret) }))
        .send()
        .await;
    assert_eq!(bad.field_errors("code"), [WRONG_CODE]);
    assert_eq!(status().await.body["enabled"], false);

    let confirmed = app
        .put("/api/me/2fa")
        .bearer(&susan.access_token)
        .json(&json!({ "code": code(&secret, 0) }))
        .send()
        .await;
    confirmed.assert_status(200);
    let codes = confirmed.body["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    assert_eq!(
        status().await.body,
        json!({"enabled": true, "recovery_codes_left": 10})
    );
    // Stored hashed: no code, and no plaintext, in the table.
    let first = codes[0].as_str().unwrap().replace('-', "");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM recovery_codes WHERE code_hash = '{first}'"
        ))
        .await,
        0
    );

    let again = app
        .post("/api/me/2fa")
        .bearer(&susan.access_token)
        .json(&json!({ "password": PASSWORD }))
        .send()
        .await;
    again.assert_error(409);
}

#[tokio::test]
async fn a_2fa_login_yields_only_a_challenge_then_tokens_for_a_code() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let (secret, _) = enable_2fa(&app, &susan).await;

    let first = app.login("susan", PASSWORD).await;
    first.assert_status(202);
    assert!(first.body.get("access_token").is_none(), "{}", first.body);
    assert!(
        first.set_cookie().is_none(),
        "no refresh cookie before the code"
    );
    let challenge = first.body["challenge"].as_str().unwrap();
    assert!(challenge.len() >= 43);
    let expires: wire::Timestamp = first.body["expires_at"].as_str().unwrap().parse().unwrap();
    let ttl = expires.as_micros() - server::db::now_micros();
    assert!(ttl > 0 && ttl <= 300_000_000, "{ttl}");
    // Only its hash is stored.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM login_challenges WHERE token_hash = '{challenge}'"
        ))
        .await,
        0
    );

    let done = answer_challenge(&app, challenge, &code(&secret, 0)).await;
    done.assert_status(200);
    let access = done.body["access_token"].as_str().unwrap();
    let cookie = done.set_cookie().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Path=/api/tokens"),
        "{cookie}"
    );
    app.get("/api/me/2fa")
        .bearer(access)
        .send()
        .await
        .assert_status(200);
    app.refresh(&done.refresh_cookie().unwrap())
        .await
        .assert_status(200);

    // Single use.
    let reused = answer_challenge(&app, challenge, &code(&secret, 1)).await;
    reused.assert_error(401);
    assert_eq!(description(&reused), CHALLENGE_GONE);
}

#[tokio::test]
async fn codes_of_the_adjacent_steps_pass_and_replays_fail() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    // Enabled with the code of step T-1.
    let (secret, _) = enable_2fa(&app, &susan).await;

    // T-1 again: a replay.
    let c = challenge(&app, &susan).await;
    let replay = answer_challenge(&app, &c, &code(&secret, -1)).await;
    replay.assert_error(401);
    assert_eq!(description(&replay), REPLAYED_CODE);
    // T+1: inside the window.
    answer_challenge(&app, &c, &code(&secret, 1))
        .await
        .assert_status(200);
    // T is now older than the last accepted step: refused as a replay.
    let c = challenge(&app, &susan).await;
    let older = answer_challenge(&app, &c, &code(&secret, 0)).await;
    older.assert_error(401);
    assert_eq!(description(&older), REPLAYED_CODE);
    // T+2 and T-2: outside the window.
    for offset in [2, -2] {
        let far = code(&secret, offset);
        if (-1..=1).any(|o| code(&secret, o) == far) {
            continue; // a one-in-a-million collision
        }
        let outside = answer_challenge(&app, &c, &far).await;
        outside.assert_error(401);
        assert_eq!(description(&outside), WRONG_CODE);
    }
}

#[tokio::test]
async fn a_wrong_code_leaves_the_challenge_usable_until_too_many_failures() {
    let app = spawn_app_with(&[("TWO_FACTOR_CHALLENGE_MAX_FAILURES", "2")]).await;
    let susan = app.user("susan").await;
    let (secret, _) = enable_2fa(&app, &susan).await;

    let c = challenge(&app, &susan).await;
    let wrong = answer_challenge(&app, &c, &wrong_code(&secret)).await;
    wrong.assert_error(401);
    assert_eq!(description(&wrong), WRONG_CODE);
    answer_challenge(&app, &c, &code(&secret, 0))
        .await
        .assert_status(200);

    let c = challenge(&app, &susan).await;
    for _ in 0..2 {
        answer_challenge(&app, &c, &wrong_code(&secret))
            .await
            .assert_error(401);
    }
    let late = answer_challenge(&app, &c, &code(&secret, 1)).await;
    late.assert_error(401);
    assert_eq!(description(&late), CHALLENGE_GONE);
}

#[tokio::test]
async fn a_challenge_expires() {
    let app = spawn_app_with(&[("TWO_FACTOR_CHALLENGE_TTL_SECS", "1")]).await;
    let susan = app.user("susan").await;
    let (secret, _) = enable_2fa(&app, &susan).await;
    let c = challenge(&app, &susan).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let late = answer_challenge(&app, &c, &code(&secret, 0)).await;
    late.assert_error(401);
    assert_eq!(description(&late), CHALLENGE_GONE);
}

#[tokio::test]
async fn recovery_codes_log_in_once_each() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let (_, codes) = enable_2fa(&app, &susan).await;

    let c = challenge(&app, &susan).await;
    let done = app
        .post("/api/tokens/2fa")
        .json(&json!({ "challenge": c, "recovery_code": codes[3].to_uppercase() }))
        .send()
        .await;
    done.assert_status(200);
    let access = done.body["access_token"].as_str().unwrap();
    let status = app.get("/api/me/2fa").bearer(access).send().await;
    assert_eq!(status.body["recovery_codes_left"], 9);

    let c = challenge(&app, &susan).await;
    let again = app
        .post("/api/tokens/2fa")
        .json(&json!({ "challenge": c, "recovery_code": codes[3] }))
        .send()
        .await;
    again.assert_error(401);
    assert_eq!(
        description(&again),
        "The recovery code is incorrect or was already used."
    );
}

#[tokio::test]
async fn the_second_step_wants_exactly_one_well_formed_code() {
    let app = spawn_app().await;
    for body in [
        json!({ "challenge": "c" }),
        json!({ "challenge": "c", "code": "123456", "recovery_code": "abcd-efgh-ijkl-mnop" }),
    ] {
        let answer = app.post("/api/tokens/2fa").json(&body).send().await;
        assert!(!answer.field_errors("_schema").is_empty(), "{body}");
    }
    let short = app
        .post("/api/tokens/2fa")
        .json(&json!({ "challenge": "c", "code": "12345" }))
        .send()
        .await;
    assert!(!short.field_errors("code").is_empty());
    let unknown = answer_challenge(&app, "no-such-challenge", "123456").await;
    unknown.assert_error(401);
    assert_eq!(description(&unknown), CHALLENGE_GONE);
}

#[tokio::test]
async fn turning_2fa_off_needs_the_password_and_a_code() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let (secret, codes) = enable_2fa(&app, &susan).await;
    let disable = |password: &str, code: &str| {
        app.delete("/api/me/2fa")
            .bearer(&susan.access_token)
            .json(&json!({ "password": password, "code": code }))
            .send()
    };
    let bad_password = disable("not my password", &code(&secret, 0)).await;
    assert_eq!(
        bad_password.field_errors("password"),
        ["Incorrect password."]
    );
    let bad_code = disable(PASSWORD, &wrong_code(&secret)).await;
    assert_eq!(bad_code.field_errors("code"), [WRONG_CODE]);
    assert!(
        !disable(PASSWORD, "zzzz")
            .await
            .field_errors("code")
            .is_empty()
    );

    // A recovery code stands in for the app's code.
    disable(PASSWORD, &codes[0]).await.assert_status(204);
    let status = app
        .get("/api/me/2fa")
        .bearer(&susan.access_token)
        .send()
        .await;
    assert_eq!(
        status.body,
        json!({"enabled": false, "recovery_codes_left": 0})
    );
    app.login("susan", PASSWORD).await.assert_status(200);
    disable(PASSWORD, &code(&secret, 0)).await.assert_error(409);
}

#[tokio::test]
async fn new_recovery_codes_need_the_password_and_a_code_and_kill_the_old() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    let (secret, old) = enable_2fa(&app, &susan).await;
    let regenerate = |password: &str, code: String| {
        app.post("/api/me/2fa/recovery-codes")
            .bearer(&susan.access_token)
            .json(&json!({ "password": password, "code": code }))
            .send()
    };
    regenerate("not my password", code(&secret, 0))
        .await
        .assert_error(400);
    regenerate(PASSWORD, wrong_code(&secret))
        .await
        .assert_error(400);
    let fresh = regenerate(PASSWORD, code(&secret, 0)).await;
    fresh.assert_status(200);
    let new: Vec<String> = serde_json::from_value(fresh.body["recovery_codes"].clone()).unwrap();
    assert_eq!(new.len(), 10);
    assert!(new.iter().all(|c| !old.contains(c)));

    let c = challenge(&app, &susan).await;
    let login = |code: &str| {
        app.post("/api/tokens/2fa")
            .json(&json!({ "challenge": c, "recovery_code": code }))
            .send()
    };
    login(&old[0]).await.assert_error(401);
    login(&new[0]).await.assert_status(200);
}

#[tokio::test]
async fn wrong_codes_are_throttled_per_account() {
    let app = spawn_app_with(&[("THROTTLE_TWO_FACTOR_ACCOUNT", "3/60")]).await;
    let susan = app.user("susan").await;
    let (secret, _) = enable_2fa(&app, &susan).await;
    let c = challenge(&app, &susan).await;
    for _ in 0..3 {
        answer_challenge(&app, &c, &wrong_code(&secret))
            .await
            .assert_error(401);
    }
    // Even the right code waits now, and so would a new challenge.
    let refused = answer_challenge(&app, &c, &code(&secret, 0)).await;
    refused.assert_error(429);
    let retry: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
}

#[tokio::test]
async fn a_password_reset_does_not_bypass_2fa() {
    let app = spawn_mail_app(&[]).await;
    let susan = app.user("susan").await;
    let (secret, _) = enable_2fa(&app, &susan).await;
    let pending = challenge(&app, &susan).await;

    let token = app.reset_token("susan@example.com").await;
    app.put("/api/tokens/reset")
        .json(&json!({ "token": token, "new_password": "a brand new passphrase" }))
        .send()
        .await
        .assert_status(204);

    // The challenge the old password opened is gone.
    let stale = answer_challenge(&app, &pending, &code(&secret, 0)).await;
    stale.assert_error(401);
    assert_eq!(description(&stale), CHALLENGE_GONE);
    // The new password still leads to a challenge, not to tokens.
    let login = app.login("susan", "a brand new passphrase").await;
    login.assert_status(202);
    assert!(login.set_cookie().is_none());
    answer_challenge(
        &app,
        login.body["challenge"].as_str().unwrap(),
        &code(&secret, 0),
    )
    .await
    .assert_status(200);
}

#[tokio::test]
async fn an_account_without_a_password_cannot_enrol() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    execute(
        &app,
        &format!(
            "UPDATE users SET password_hash = NULL WHERE id = {}",
            susan.id
        ),
    )
    .await;
    let answer = app
        .post("/api/me/2fa")
        .bearer(&susan.access_token)
        .json(&json!({ "password": "anything at all" }))
        .send()
        .await;
    answer.assert_error(400);
    assert!(
        description(&answer).contains("no password"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn confirming_without_a_pending_enrolment_conflicts() {
    let app = spawn_app().await;
    let susan = app.user("susan").await;
    app.put("/api/me/2fa")
        .bearer(&susan.access_token)
        .json(&json!({ "code": "123456" }))
        .send()
        .await
        .assert_error(409);
}

#[tokio::test]
async fn the_openapi_document_lists_the_new_endpoints() {
    let app = spawn_app().await;
    let doc = app.get("/api/openapi.json").send().await;
    let paths = &doc.body["paths"];
    for (path, method) in [
        ("/api/tokens/2fa", "post"),
        ("/api/tokens/reset", "post"),
        ("/api/tokens/reset", "put"),
        ("/api/me/2fa", "get"),
        ("/api/me/2fa", "post"),
        ("/api/me/2fa", "put"),
        ("/api/me/2fa", "delete"),
        ("/api/me/2fa/recovery-codes", "post"),
        ("/api/me/sessions", "get"),
        ("/api/me/sessions", "delete"),
        ("/api/me/sessions/{id}", "delete"),
    ] {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} undocumented"
        );
    }
    assert!(paths["/api/tokens"]["post"]["responses"]["202"].is_object());
}

#[tokio::test]
async fn resets_and_2fa_changes_are_logged_with_user_and_address_never_a_secret() {
    let server = ServerProcess::start();
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.address);
    let send = |request: reqwest::RequestBuilder| async move {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        (status, body)
    };
    let new_password = "a brand new passphrase";

    let (_, created) = send(http.post(url("/api/users")).json(&json!({
        "username": "susan", "email": "susan@example.com", "password": PASSWORD
    })))
    .await;
    let user_id = created["id"].as_i64().expect("registered");

    // Reset the password through the emailed link.
    let (status, _) = send(
        http.post(url("/api/tokens/reset"))
            .json(&json!({ "email": "susan@example.com" })),
    )
    .await;
    assert_eq!(status, 204);
    let mut mails = Vec::new();
    for _ in 0..250 {
        mails = read_mails(&server.outbox());
        if !mails.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let reset_token = mails.first().expect("a reset email").token();
    let (status, _) = send(
        http.put(url("/api/tokens/reset"))
            .json(&json!({ "token": reset_token, "new_password": new_password })),
    )
    .await;
    assert_eq!(status, 204);

    // Turn on 2FA, log in with a wrong then a right code, then with a recovery code.
    let (_, login) = send(
        http.post(url("/api/tokens"))
            .basic_auth("susan", Some(new_password)),
    )
    .await;
    let access = login["access_token"].as_str().unwrap().to_owned();
    settle_step().await;
    let (_, setup) = send(
        http.post(url("/api/me/2fa"))
            .bearer_auth(&access)
            .json(&json!({ "password": new_password })),
    )
    .await;
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let (_, confirmed) = send(
        http.put(url("/api/me/2fa"))
            .bearer_auth(&access)
            .json(&json!({ "code": code(&secret, -1) })),
    )
    .await;
    let recovery: Vec<String> =
        serde_json::from_value(confirmed["recovery_codes"].clone()).unwrap();
    let mut challenges = Vec::new();
    for second_factor in [
        json!({ "code": wrong_code(&secret) }),
        json!({ "code": code(&secret, 0) }),
        json!({ "recovery_code": recovery[0] }),
    ] {
        let (status, first) = send(
            http.post(url("/api/tokens"))
                .basic_auth("susan", Some(new_password)),
        )
        .await;
        assert_eq!(status, 202);
        let challenge = first["challenge"].as_str().unwrap().to_owned();
        let mut body = second_factor;
        body["challenge"] = json!(challenge);
        send(http.post(url("/api/tokens/2fa")).json(&body)).await;
        challenges.push(challenge);
    }
    let (status, _) = send(
        http.delete(url("/api/me/2fa"))
            .bearer_auth(&access)
            .json(&json!({ "password": new_password, "code": code(&secret, 1) })),
    )
    .await;
    assert_eq!(status, 204);

    let output = server.stop();
    let mut secrets = vec![
        PASSWORD.to_owned(),
        new_password.to_owned(),
        reset_token,
        access,
        secret.clone(),
        secret.to_lowercase(),
    ];
    secrets.extend(challenges);
    secrets.extend(recovery.iter().cloned());
    secrets.extend(recovery.iter().map(|c| c.replace('-', "")));
    for secret in secrets {
        assert!(
            !output.contains(&secret),
            "{secret:?} in the logs:\n{output}"
        );
    }
    for message in [
        "password reset requested",
        "password reset",
        "2fa enrolment started",
        "2fa enabled",
        "login: password accepted, 2fa challenge issued",
        "2fa login failed: wrong code",
        "login with 2fa",
        "2fa disabled",
    ] {
        let logged = output.lines().any(|line| {
            serde_json::from_str::<Value>(line).is_ok_and(|e| e["fields"]["message"] == message)
                && line.contains(&format!("\"user_id\":{user_id}"))
                && line.contains("127.0.0.1")
        });
        assert!(
            logged,
            "no {message:?} event with user_id {user_id} and the address:\n{output}"
        );
    }
}
