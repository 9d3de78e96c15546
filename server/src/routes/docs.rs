//! `/api/openapi.json` and `/api/docs`: the OpenAPI 3.1 document generated from the code,
//! and a page that reads it. The page is rendered here, from the same document, with no
//! script and no third-party asset, so it works offline and under the strict CSP.

use std::fmt::Write;
use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use serde_json::Value;
use utoipa::openapi::OpenApi;

use crate::startup::AppState;

const STYLE: &str = include_str!("docs.css");

pub fn router(openapi: OpenApi) -> Router<AppState> {
    let mut doc = serde_json::to_value(&openapi).expect("the OpenAPI document serialises");
    crate::routes::contract::complete(&mut doc);
    let json = Arc::new(serde_json::to_string_pretty(&doc).expect("JSON serialises"));
    let page = Arc::new(render(&doc));
    Router::new()
        .route(
            "/openapi.json",
            get(move || {
                let json = Arc::clone(&json);
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        json.to_string(),
                    )
                }
            }),
        )
        .route(
            "/docs",
            get(move || {
                let page = Arc::clone(&page);
                async move { Html(page.to_string()) }
            }),
        )
        .route(
            "/docs.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css")], STYLE).into_response() }),
        )
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The documentation page: every operation with its summary, security, parameters,
/// body and answers, then every schema.
fn render(doc: &Value) -> String {
    let title = text(&doc["info"]["title"]);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/api/docs.css\"></head><body>\
         <main><h1>{title}</h1><p>{}</p>\
         <p>Machine-readable: <a href=\"/api/openapi.json\">/api/openapi.json</a> (OpenAPI {}).</p>",
        text(&doc["info"]["description"]),
        text(&doc["openapi"]),
    );
    let empty = serde_json::Map::new();
    let paths = doc["paths"].as_object().unwrap_or(&empty);
    for tag in doc["tags"].as_array().into_iter().flatten() {
        let name = tag["name"].as_str().unwrap_or_default();
        let _ = write!(
            out,
            "<section><h2 id=\"tag-{n}\">{n}</h2><p>{}</p>",
            text(&tag["description"]),
            n = escape(name)
        );
        for (path, item) in paths {
            for method in METHODS {
                let op = &item[method];
                let tagged = op["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == name));
                if tagged {
                    operation(&mut out, method, path, op);
                }
            }
        }
        out.push_str("</section>");
    }
    out.push_str("<section><h2 id=\"schemas\">Schemas</h2>");
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap_or(&empty) {
        let pretty = serde_json::to_string_pretty(schema).unwrap_or_default();
        let _ = write!(
            out,
            "<h3 id=\"schema-{n}\">{n}</h3><pre>{}</pre>",
            escape(&pretty),
            n = escape(name)
        );
    }
    out.push_str("</section></main></body></html>");
    out
}

fn operation(out: &mut String, method: &str, path: &str, op: &Value) {
    let _ = write!(
        out,
        "<article class=\"op\"><h3><span class=\"method {method}\">{}</span> <code>{}</code></h3>\
         <p class=\"summary\">{}</p>",
        method.to_uppercase(),
        escape(path),
        text(&op["summary"]),
    );
    let description = text(&op["description"]);
    if !description.is_empty() {
        let _ = write!(out, "<p>{description}</p>");
    }
    let security: Vec<String> = op["security"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_object())
        .flat_map(|s| s.keys().cloned())
        .collect();
    let _ = write!(
        out,
        "<p><strong>Authentication:</strong> {}</p>",
        if security.is_empty() {
            "none".to_owned()
        } else {
            escape(&security.join(", "))
        }
    );
    if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
        out.push_str("<h4>Parameters</h4><ul>");
        for p in params {
            let _ = write!(
                out,
                "<li><code>{}</code> ({}{}) {}</li>",
                text(&p["name"]),
                text(&p["in"]),
                if p["required"] == true {
                    ", required"
                } else {
                    ""
                },
                text(&p["description"]),
            );
        }
        out.push_str("</ul>");
    }
    if let Some(content) = op["requestBody"]["content"].as_object() {
        out.push_str("<h4>Request body</h4><ul>");
        for (mime, media) in content {
            let _ = write!(
                out,
                "<li><code>{}</code> {}</li>",
                escape(mime),
                schema_link(&media["schema"])
            );
        }
        out.push_str("</ul>");
    }
    if let Some(responses) = op["responses"].as_object() {
        out.push_str("<h4>Responses</h4><ul>");
        for (status, response) in responses {
            let body = response["content"]
                .as_object()
                .and_then(|c| c.values().next())
                .map(|media| schema_link(&media["schema"]))
                .unwrap_or_default();
            let _ = write!(
                out,
                "<li><code>{}</code> {} {body}</li>",
                escape(status),
                text(&response["description"]),
            );
        }
        out.push_str("</ul>");
    }
    out.push_str("</article>");
}

/// A link to a referenced schema, or its type.
fn schema_link(schema: &Value) -> String {
    let reference = schema["$ref"]
        .as_str()
        .or_else(|| schema["items"]["$ref"].as_str());
    match reference.and_then(|r| r.rsplit('/').next()) {
        Some(name) => {
            let list = if schema["items"].is_object() {
                "list of "
            } else {
                ""
            };
            format!("({list}<a href=\"#schema-{n}\">{n}</a>)", n = escape(name))
        }
        None => schema["type"]
            .as_str()
            .map(|t| format!("({})", escape(t)))
            .unwrap_or_default(),
    }
}

fn text(v: &Value) -> String {
    escape(v.as_str().unwrap_or_default())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_operations_under_their_tags_and_escapes_text() {
        let doc = serde_json::json!({
            "openapi": "3.1.0",
            "info": {"title": "T", "description": "<b>d</b>"},
            "tags": [{"name": "posts", "description": "Posts"}],
            "paths": {"/api/posts/{id}": {"get": {
                "tags": ["posts"], "summary": "Get a post.",
                "responses": {"404": {"description": "No such post"}}
            }}},
        });
        let html = render(&doc);
        assert!(html.contains("<code>/api/posts/{id}</code>"));
        assert!(html.contains("Get a post."));
        assert!(html.contains("<code>404</code> No such post"));
        assert!(html.contains("&lt;b&gt;d&lt;/b&gt;"));
        assert!(!html.contains("<script"));
    }
}
