//! What the derive macros cannot say in the OpenAPI document: the rules the server
//! enforces on every field (lengths, patterns, bounds), the answers every operation can
//! give besides its own (401 without a token, 413 and 415 on bodies, 503 when the
//! database is away), and the links between operations. Applied once, to the generated
//! document, so that the document is a contract clients can generate code from and that
//! `schemathesis` can hold the server to.

use serde_json::{Map, Value, json};
use wire::limits;

/// Completes the generated document in place.
pub fn complete(doc: &mut Value) {
    constrain_schemas(doc);
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                if let Some(op) = op.as_object_mut() {
                    complete_operation(path, method, op);
                }
            }
        }
    }
    add_links(doc);
}

/// Field rules, as `Username::parse`, `Email::parse`, `NewPassword::parse`,
/// `PostText::parse` and `AboutMe::parse` apply them.
fn constrain_schemas(doc: &mut Value) {
    let username = json!({
        "minLength": limits::USERNAME_MIN_CHARS,
        "maxLength": limits::USERNAME_MAX_CHARS,
        "pattern": limits::USERNAME_PATTERN,
    });
    let email = json!({
        "maxLength": limits::EMAIL_MAX_CHARS,
        "pattern": limits::EMAIL_PATTERN,
    });
    let new_password = json!({
        "minLength": limits::PASSWORD_MIN_CHARS,
        "maxLength": limits::PASSWORD_MAX_CHARS,
    });
    let about_me = json!({ "maxLength": limits::ABOUT_ME_MAX_CHARS });
    let post_text = json!({
        "maxLength": limits::POST_MAX_CHARS,
        "pattern": limits::NOT_BLANK_PATTERN,
    });
    let totp_code = json!({ "pattern": limits::TOTP_CODE_PATTERN });
    let Some(schemas) = doc.pointer_mut("/components/schemas") else {
        return;
    };
    let rules: &[(&str, &str, &Value)] = &[
        ("NewUser", "username", &username),
        ("NewUser", "email", &email),
        ("NewUser", "password", &new_password),
        ("NewUser", "about_me", &about_me),
        ("UpdateMe", "username", &username),
        ("UpdateMe", "email", &email),
        ("UpdateMe", "password", &new_password),
        ("UpdateMe", "about_me", &about_me),
        ("PostText", "text", &post_text),
        ("ResetRequest", "email", &email),
        ("PasswordReset", "new_password", &new_password),
        ("TwoFactorCode", "code", &totp_code),
        ("TwoFactorLogin", "code", &totp_code),
    ];
    for (schema, field, rule) in rules {
        let property = schemas
            .pointer_mut(&format!("/{schema}/properties/{field}"))
            .and_then(Value::as_object_mut);
        if let (Some(property), Some(rule)) = (property, rule.as_object()) {
            property.extend(rule.clone());
        }
    }
    // Every request body refuses unknown fields.
    for name in [
        "NewUser",
        "UpdateMe",
        "PostText",
        "RefreshRequest",
        "ResetRequest",
        "PasswordReset",
        "PasswordConfirmation",
        "TwoFactorCode",
        "PasswordAndCode",
        "TwoFactorLogin",
    ] {
        if let Some(schema) = schemas.get_mut(name).and_then(Value::as_object_mut) {
            schema.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
    // A new password or email needs the current password (a `null` is no change).
    if let Some(schema) = schemas.get_mut("UpdateMe").and_then(Value::as_object_mut) {
        let needs_old_password = |field: &str| {
            json!({
                "if": { "required": [field], "properties": { field: { "type": "string" } } },
                "then": { "required": ["old_password"], "properties": { "old_password": { "type": "string" } } },
            })
        };
        schema.insert(
            "allOf".into(),
            json!([needs_old_password("password"), needs_old_password("email")]),
        );
    }
    // Exactly one of `code` and `recovery_code` (a `null` counts as absent).
    if let Some(schema) = schemas
        .get_mut("TwoFactorLogin")
        .and_then(Value::as_object_mut)
    {
        schema.insert(
            "oneOf".into(),
            json!([
                { "required": ["code"], "properties": { "code": { "type": "string" } } },
                { "required": ["recovery_code"], "properties": { "recovery_code": { "type": "string" } } },
            ]),
        );
    }
}

/// Operations whose answers do not depend on the database.
const NO_DATABASE: &[&str] = &[
    "/api/openapi.json",
    "/api/docs",
    "/api/docs.css",
    "/api/avatars/{id}",
    "/api/health",
];

/// Post lists page `after` a timestamp; follower lists after a username; `/users` has no
/// order to continue from.
fn after_rule(path: &str) -> Option<Value> {
    match path {
        "/api/users" => None,
        "/api/posts" | "/api/feed" | "/api/users/{id}/posts" => Some(json!({
            "type": "string",
            "pattern": limits::TIMESTAMP_PATTERN,
        })),
        _ => Some(json!({ "type": "string" })),
    }
}

fn complete_operation(path: &str, method: &str, op: &mut Map<String, Value>) {
    let mut add: Vec<(u16, &str)> = Vec::new();
    let bearer = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
    if bearer {
        add.push((401, "No valid access token (`WWW-Authenticate: Bearer`)"));
    }
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        params.retain(|p| {
            !(p["in"] == "query" && p["name"] == "after" && after_rule(path).is_none())
        });
        let mut query = false;
        let mut in_path = false;
        for p in params.iter_mut() {
            let name = p["name"].as_str().unwrap_or_default().to_owned();
            match p["in"].as_str() {
                Some("query") => {
                    query = true;
                    let schema = match name.as_str() {
                        "limit" => Some(json!({
                            "type": "integer", "format": "int64",
                            "minimum": 1, "maximum": i64::MAX,
                        })),
                        "offset" => Some(json!({
                            "type": "integer", "format": "int64",
                            "minimum": 0, "maximum": i64::MAX,
                        })),
                        "after" => after_rule(path),
                        "s" => Some(json!({
                            "type": "integer", "format": "int64",
                            "minimum": i64::MIN, "maximum": i64::MAX,
                        })),
                        _ => None,
                    };
                    if let Some(schema) = schema {
                        p["schema"] = schema;
                    }
                }
                Some("path") => {
                    in_path = true;
                    if p["schema"]["type"] == "integer" {
                        p["schema"] = json!({
                            "type": "integer", "format": "int64",
                            "minimum": i64::MIN, "maximum": i64::MAX,
                        });
                    }
                }
                _ => {}
            }
        }
        if query {
            add.push((
                400,
                "Invalid query parameters (`errors.query`): `offset` past the end of a \
                 non-empty list, or both `offset` and `after`",
            ));
        }
        if in_path {
            add.push((
                404,
                "No such resource, or a path parameter of the wrong type",
            ));
        }
    }
    let logout = path == "/api/tokens" && method == "delete";
    if logout {
        // No body, but the CSRF defence wants `Content-Type: application/json`, which only
        // a request body can declare.
        op.insert(
            "requestBody".into(),
            json!({
                "description": "Empty, or any JSON: only the content type matters (a cross-site form cannot send it)",
                "required": true,
                "content": { "application/json": { "schema": {} } },
            }),
        );
    }
    if let Some(body) = op.get_mut("requestBody").and_then(Value::as_object_mut) {
        body.insert("required".into(), Value::Bool(true));
        if !logout {
            add.push((400, "Invalid body (`errors.json`)"));
        }
        add.push((413, "Body over 64 KiB"));
        add.push((415, "Not sent as `Content-Type: application/json`"));
    }
    if !NO_DATABASE.contains(&path) && !path.starts_with("/.well-known/") {
        add.push((
            503,
            "The database is unavailable or the server is too busy; try again after `Retry-After` seconds",
        ));
    }
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("responses is an object");
    for (status, description) in add {
        responses.entry(status.to_string()).or_insert_with(|| {
            json!({
                "description": description,
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } },
            })
        });
    }
    for (status, response) in responses.iter_mut() {
        let header = match status.as_str() {
            "401" if bearer => Some((
                "WWW-Authenticate",
                "`Bearer realm=\"Authentication Required\"` (or `Form` after a failed password login)",
            )),
            "429" | "503" if path != "/api/health" => {
                Some(("Retry-After", "Seconds to wait before trying again"))
            }
            _ => None,
        };
        if let (Some((name, description)), Some(response)) = (header, response.as_object_mut()) {
            let headers = response.entry("headers").or_insert_with(|| json!({}));
            headers[name] = json!({
                "description": description,
                "required": true,
                "schema": { "type": "string" },
            });
        }
    }
}

/// The stateful links: a post just written can be read, edited and deleted by its id.
fn add_links(doc: &mut Value) {
    let created = doc
        .pointer_mut("/paths/~1api~1posts/post/responses/201")
        .and_then(Value::as_object_mut);
    if let Some(created) = created {
        let id = json!({ "id": "$response.body#/id" });
        created.insert(
            "links".into(),
            json!({
                "GetPost": { "operationId": "get_post", "parameters": id },
                "EditPost": { "operationId": "edit_post", "parameters": id },
                "DeletePost": { "operationId": "delete_post", "parameters": id },
            }),
        );
    }
    let registered = doc
        .pointer_mut("/paths/~1api~1users/post/responses/201")
        .and_then(Value::as_object_mut);
    if let Some(registered) = registered {
        let id = json!({ "id": "$response.body#/id" });
        registered.insert(
            "links".into(),
            json!({
                "GetUser": { "operationId": "get_user", "parameters": id },
                "Follow": { "operationId": "follow", "parameters": id },
                "UserPosts": { "operationId": "user_posts", "parameters": id },
            }),
        );
    }
}
