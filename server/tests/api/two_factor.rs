//! Two-factor settings: enrolment, turning it off, recovery codes.

use std::time::Duration;

use serde_json::{Value, json};

use crate::account::{
    challenge, code, description, enable_2fa, execute, read_mails, settle_step, wrong_code,
};
use crate::helpers::{PASSWORD, spawn_app};
use crate::logs::ServerProcess;

const WRONG_CODE: &str = "The code is incorrect.";
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
    assert!(
        output.contains(r#""method":"2fa code""#) && output.contains(r#""method":"recovery code""#),
        "no login by 2fa code and by recovery code in the logs:\n{output}"
    );
    for message in [
        "password reset requested",
        "password reset",
        "2fa enrolment started",
        "2fa enabled",
        "login: password accepted, 2fa challenge issued",
        "2fa login failed: wrong code",
        "login",
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
