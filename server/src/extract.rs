//! Extractors whose rejections are the contract's JSON errors, never axum's plain text.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Validation};

/// A JSON body: requires `Content-Type: application/json`, and turns serde's complaints
/// into field errors under `errors.json.<field>`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e: BytesRejection| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::BadRequest("The request body could not be read.".into())
                }
            })?;
        parse_json(&bytes).map(Json)
    }
}

/// Whether the request declares a JSON body (`application/json`, any parameters).
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// Parses a JSON body, naming the offending field in the error where serde knows it.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // serde builds a struct from a JSON array too (`["hi"]` as `{"text": "hi"}`); every
    // body of this API is an object, so an array is refused before it can be read so.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::Validation(
            Validation::default()
                .json("_schema", "Send a JSON object, not an array.")
                .into_errors(),
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(de) {
        Ok(value) => Ok(value),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let (field, message) = describe(&path, &inner);
            Err(ApiError::Validation(
                Validation::default().json(&field, message).into_errors(),
            ))
        }
    }
}

/// Turns a serde_json error into (field, message a person can read).
fn describe(path: &str, e: &serde_json::Error) -> (String, String) {
    use serde_json::error::Category;
    let text = e.to_string();
    // serde's own words for these two name the field in backticks.
    let quoted = |prefix: &str| {
        text.strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    if let Some(field) = quoted("unknown field `") {
        return (field, "Unknown field.".into());
    }
    if let Some(field) = quoted("missing field `") {
        return (field, "Missing data for required field.".into());
    }
    if matches!(e.classify(), Category::Syntax | Category::Eof) {
        return ("_schema".into(), "The body is not valid JSON.".into());
    }
    let field = if path == "." || path.is_empty() {
        "_schema".to_owned()
    } else {
        path.to_owned()
    };
    // "invalid type: integer `5`, expected a string at line 1 column 9"
    let detail = text.split(" at line ").next().unwrap_or(&text);
    let message = match detail.split_once(", expected ") {
        Some((_, expected)) => format!("Not a valid value: expected {expected}."),
        None => format!("Not a valid value: {detail}."),
    };
    (field, message)
}

/// Path parameters; a malformed one (a word where an id goes) is a JSON 404.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

impl From<PathRejection> for ApiError {
    fn from(_: PathRejection) -> Self {
        ApiError::NotFound("The requested URL was not found on the server.")
    }
}

/// Query-string parameters; bad values are validation errors under `errors.query`.
/// Unknown parameters are ignored, as the contract says.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        let text = e.body_text();
        // "Failed to deserialize query string: limit: invalid digit found in string"
        let detail = text
            .strip_prefix("Failed to deserialize query string: ")
            .unwrap_or(&text);
        let (field, message) = match detail.split_once(": ") {
            Some((field, message)) if !field.contains(' ') => (field, message),
            _ => ("_schema", detail),
        };
        ApiError::query(field, format!("Not a valid value: {message}."))
    }
}

/// Who is asking: the client's address and user agent, for session records, throttling
/// and logs.
#[derive(Debug, Clone)]
pub struct Client {
    /// The peer's address; with `TRUST_PROXY`, the address the proxy reported.
    pub ip: String,
    pub user_agent: String,
}

/// The client address a trusted reverse proxy reported, put in the request's extensions
/// by the `TRUST_PROXY` layer (see [`crate::web::with_layers`]).
#[derive(Debug, Clone, Copy)]
pub struct ForwardedFor(pub IpAddr);

/// The last address of the last `X-Forwarded-For` header: the one our own proxy appended.
/// Earlier entries come from the client and prove nothing.
pub fn forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let last = headers.get_all("x-forwarded-for").iter().next_back()?;
    last.to_str().ok()?.rsplit(',').next()?.trim().parse().ok()
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let forwarded = parts.extensions.get::<ForwardedFor>().map(|f| f.0);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let ip = forwarded
            .or(peer)
            .unwrap_or(IpAddr::from([0, 0, 0, 0]))
            .to_string();
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .chars()
            .take(512)
            .collect();
        Ok(Self { ip, user_agent })
    }
}

/// `(username or email, password)` from `Authorization: Basic …`; `None` if the header is
/// missing, not Basic, not base64, not UTF-8 or has no colon.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (name, password) = decoded.split_once(':')?;
    Some((name.to_owned(), password.to_owned()))
}

/// A cookie's value from the `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k, axum::http::HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        text: String,
        count: Option<i64>,
    }

    fn field_errors(json: &str) -> std::collections::BTreeMap<String, Vec<String>> {
        match parse_json::<Body>(json.as_bytes()) {
            Err(ApiError::Validation(errors)) => errors.json,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn forwarded_for_is_the_last_entry_only() {
        let mut h = HeaderMap::new();
        assert_eq!(forwarded_for(&h), None);
        h.append("x-forwarded-for", "1.1.1.1, 10.0.0.7".parse().unwrap());
        assert_eq!(forwarded_for(&h), Some(IpAddr::from([10, 0, 0, 7])));
        h.append("x-forwarded-for", "10.0.0.8".parse().unwrap());
        assert_eq!(forwarded_for(&h), Some(IpAddr::from([10, 0, 0, 8])));
        h.insert("x-forwarded-for", "not an address".parse().unwrap());
        assert_eq!(forwarded_for(&h), None);
    }

    #[test]
    fn names_the_field_of_each_kind_of_bad_input() {
        assert_eq!(
            field_errors("{}")["text"],
            ["Missing data for required field."]
        );
        assert_eq!(
            field_errors(r#"{"text":"a","x":1}"#)["x"],
            ["Unknown field."]
        );
        assert_eq!(
            field_errors(r#"{"text":5}"#)["text"],
            ["Not a valid value: expected a string."]
        );
        assert_eq!(
            field_errors(r#"{"text":"a","count":"many"}"#)["count"],
            ["Not a valid value: expected i64."]
        );
        assert_eq!(
            field_errors(r#"{"text":"#)["_schema"],
            ["The body is not valid JSON."]
        );
        assert_eq!(field_errors("5")["_schema"].len(), 1);
        assert_eq!(
            field_errors(r#" ["a", 1]"#)["_schema"],
            ["Send a JSON object, not an array."]
        );
    }

    #[test]
    fn basic_credentials_split_at_the_first_colon() {
        let encoded = STANDARD.encode("susan:pass:word");
        let h = headers(&[(header::AUTHORIZATION, &format!("Basic {encoded}"))]);
        assert_eq!(
            basic_credentials(&h),
            Some(("susan".into(), "pass:word".into()))
        );
    }

    #[test]
    fn malformed_basic_credentials_are_refused() {
        let not_utf8 = STANDARD.encode([0xff, 0xfe, b':', b'x']);
        for value in [
            "Bearer abc".to_owned(),
            "Basic !!!".to_owned(),
            format!("Basic {not_utf8}"),
            format!("Basic {}", STANDARD.encode("no-colon")),
        ] {
            let h = headers(&[(header::AUTHORIZATION, &value)]);
            assert_eq!(basic_credentials(&h), None, "{value}");
        }
    }

    #[test]
    fn finds_the_refresh_cookie_among_others() {
        let h = headers(&[(header::COOKIE, "theme=dark; refresh_token=abc; x=y")]);
        assert_eq!(cookie(&h, "refresh_token").as_deref(), Some("abc"));
        let h = headers(&[(header::COOKIE, "refresh_token=")]);
        assert_eq!(cookie(&h, "refresh_token"), None);
    }
}
