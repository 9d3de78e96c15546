//! The HTTP contract of the microblog API, written once.
//!
//! Both the SPA (compiled to wasm) and the server compile these types, so a field renamed
//! here is renamed on both sides of the wire. The shapes follow `docs/api.md`:
//! the reference Flask API's JSON, plus our extensions. Request bodies reject unknown fields.

mod compat;
mod jwks;
mod time;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::jwks::{Jwk, Jwks};
pub use crate::time::{ParseTimestampError, Timestamp};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Limits the server enforces and the SPA checks before sending, so both agree.
pub mod limits {
    /// A post's text, in characters (Unicode scalar values), after trimming.
    pub const POST_MAX_CHARS: usize = 280;
    /// Usernames: ASCII letters, digits, `_`, `-` and `.`, starting with a letter or digit.
    pub const USERNAME_MIN_CHARS: usize = 3;
    pub const USERNAME_MAX_CHARS: usize = 64;
    pub const EMAIL_MAX_CHARS: usize = 120;
    pub const ABOUT_ME_MAX_CHARS: usize = 140;
    /// docs/security.md, "Passwords": at least 8, and at least 128 accepted.
    pub const PASSWORD_MIN_CHARS: usize = 8;
    pub const PASSWORD_MAX_CHARS: usize = 256;
    /// Pagination: the default and largest page.
    pub const PAGE_LIMIT: i64 = 25;

    /// The characters Rust's `char::is_whitespace` knows (Unicode `White_Space`), as a
    /// regular-expression class body that ECMAScript, Python and Rust's `regex` read alike.
    macro_rules! whitespace {
        () => {
            r"\t\n\x0b\x0c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
        };
    }
    /// One character an email address may hold: not `@`, not `:`, no control character,
    /// no whitespace.
    macro_rules! email_char {
        () => {
            concat!(r"[^@:\x00-\x1f\x7f-\x9f", whitespace!(), "]")
        };
    }
    /// The same, and not a dot.
    macro_rules! domain_edge {
        () => {
            concat!(r"[^@:.\x00-\x1f\x7f-\x9f", whitespace!(), "]")
        };
    }

    /// What the server accepts as a username, as the OpenAPI document states it: a letter
    /// or digit first, then letters, digits, `_`, `-` and `.`, and not only digits.
    /// (Length: `USERNAME_MIN_CHARS..=USERNAME_MAX_CHARS`.)
    pub const USERNAME_PATTERN: &str =
        r"^(?:[A-Za-z][A-Za-z0-9_.-]*|[0-9][A-Za-z0-9_.-]*[A-Za-z_.-][A-Za-z0-9_.-]*)$";
    /// What the server accepts as an email address: something, `@`, a domain with a dot
    /// inside (not first, not last); no whitespace, control character or colon anywhere.
    pub const EMAIL_PATTERN: &str = concat!(
        "^",
        email_char!(),
        "+@",
        domain_edge!(),
        email_char!(),
        r"*\.",
        email_char!(),
        "*",
        domain_edge!(),
        "$"
    );
    /// A code from an authenticator app: six digits, with spaces and dashes anywhere.
    pub const TOTP_CODE_PATTERN: &str = r"^[ -]*[0-9](?:[ -]*[0-9]){5}[ -]*$";
    /// Text with at least one character that is not whitespace (a post).
    pub const NOT_BLANK_PATTERN: &str = concat!("[^", whitespace!(), "]");
    /// A timestamp `after=` accepts: a real calendar date and time of day, `T` or a space
    /// between them, 1 to 9 digits of fraction, and `Z`, `+00:00` or nothing.
    pub const TIMESTAMP_PATTERN: &str = concat!(
        "^(?:",
        r"[0-9]{4}-(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])",
        r"|[0-9]{4}-(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)",
        r"|[0-9]{4}-02-(?:0[1-9]|1[0-9]|2[0-8])",
        r"|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29",
        r")[T ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?(?:Z|\+00:00)?$"
    );
}

/// A user as the API shows it. `email` is present only in the caller's own record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct User {
    pub id: i64,
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Empty when the user wrote nothing. The reference API sends `null` then, which
    /// reads as empty; this server always sends a string.
    #[serde(default, deserialize_with = "compat::null_as_empty")]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub about_me: String,
    /// Already contains a `?`: clients append `&s=<size>`. A path on this server; the
    /// reference API sends an absolute Gravatar URL.
    pub avatar_url: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// Relative path, e.g. `/api/users/6/posts`.
    pub posts_url: String,
    /// Relative path, e.g. `/api/users/6`.
    pub url: String,
    /// False for accounts created by OAuth login only. Reference API deployments older
    /// than its OAuth support leave it out; every account there had a password.
    #[serde(default = "compat::yes")]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub has_password: bool,
}

/// A post with its author embedded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Post {
    pub id: i64,
    pub text: String,
    pub timestamp: Timestamp,
    pub url: String,
    pub author: User,
}

/// Where a page sits in the whole list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Pagination {
    /// With `after`, the number of items at or before the `after` value.
    pub offset: i64,
    pub limit: i64,
    /// Items in this page.
    pub count: i64,
    /// Items in the whole list.
    pub total: i64,
}

impl Pagination {
    /// Whether items remain after this page.
    pub fn has_more(&self) -> bool {
        self.offset + self.count < self.total
    }
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Page<T> {
    pub data: Vec<T>,
    pub pagination: Pagination,
}

/// The answer to a login or a refresh. The refresh token travels in an HttpOnly cookie;
/// `refresh_token` in the body is `null` unless the server is configured to send it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Token {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// Every error body: `{code, message, description}`, plus field errors on validation failures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorBody {
    /// The HTTP status.
    pub code: u16,
    /// The status's reason phrase, or `Validation Error`.
    pub message: String,
    /// Human-readable text, safe to show to a user.
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<FieldErrors>,
}

/// Field errors by location: `json` for the body, `query` for the query string.
/// Each maps a field name (`_schema` for the whole input) to its messages.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FieldErrors {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub json: BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, Vec<String>>,
}

/// `POST /api/users`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about_me: Option<String>,
}

/// `PUT /api/me`: every field optional; `password` needs the correct `old_password`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateMe {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about_me: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_password: Option<String>,
}

/// `POST /api/posts` and `PUT /api/posts/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PostText {
    pub text: String,
}

/// `PUT /api/tokens`. Both fields may be absent or `null`: the refresh cookie alone
/// identifies the session (our extension 1). An `access_token`, when sent, must belong
/// to the same session.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// `POST /api/tokens/reset`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    pub email: String,
}

/// `PUT /api/tokens/reset`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    pub token: String,
    pub new_password: String,
}

/// `GET /api/me/2fa`: whether two-factor authentication is on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TwoFactorStatus {
    pub enabled: bool,
    /// Unused recovery codes; 0 when 2FA is off.
    pub recovery_codes_left: i64,
}

/// `POST /api/me/2fa`: start enrolling, proving the password again.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordConfirmation {
    pub password: String,
}

/// The answer to `POST /api/me/2fa`: the new secret, to be shown once. Render the
/// `otpauth://` URI as a QR code in the browser (never through a third-party service),
/// and show `secret` for manual entry.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TwoFactorSetup {
    /// Base32, 32 characters (160 bits).
    pub secret: String,
    pub otpauth_uri: String,
}

/// `PUT /api/me/2fa`: confirm enrolment with a code from the authenticator app.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TwoFactorCode {
    /// Six digits; spaces and a dash are ignored.
    pub code: String,
}

/// `DELETE /api/me/2fa` and `POST /api/me/2fa/recovery-codes`: the password and a current
/// code, which may be a recovery code.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordAndCode {
    pub password: String,
    /// Six digits from the app, or a recovery code (`xxxx-xxxx-xxxx-xxxx`).
    pub code: String,
}

/// Recovery codes, shown once: each logs in once in place of a code.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// The answer (202) to `POST /api/tokens` for an account with 2FA: no token yet, only a
/// challenge to answer at `POST /api/tokens/2fa` before `expires_at`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TwoFactorChallenge {
    pub challenge: String,
    pub expires_at: Timestamp,
}

/// `POST /api/tokens/2fa`: the challenge and either `code` or `recovery_code`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TwoFactorLogin {
    pub challenge: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_code: Option<String>,
}

/// One of the caller's live sessions (a logged-in device), in `GET /api/me/sessions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SessionInfo {
    pub id: i64,
    /// When the session was started by a login.
    pub created_at: Timestamp,
    /// The last refresh of its tokens.
    pub last_used_at: Timestamp,
    pub client_ip: String,
    pub user_agent: String,
    /// Browser and system read from the user agent, e.g. `Chrome on Linux`.
    pub device: String,
    /// Whether this is the session of the access token making the request.
    pub current: bool,
}

/// The answer to `DELETE /api/me/sessions`: how many other sessions were ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RevokedSessions {
    pub revoked: u64,
}

/// `GET /api/health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Health {
    /// `ok` when the database answers.
    pub status: String,
    pub version: String,
    /// The database this instance uses (absent from servers that do not report it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseHealth>,
}

/// The database part of `GET /api/health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DatabaseHealth {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// Whether it answered `SELECT 1` within the health check's time limit.
    pub answered: bool,
    /// How long it took to answer, in milliseconds (absent when it did not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Connections the pool holds open now, and how many of them are idle.
    pub connections: u32,
    pub idle_connections: u32,
    /// The most the pool opens (`DATABASE_MAX_CONNECTIONS`).
    pub max_connections: u32,
}

/// `POST /api/tokens/oauth2/{provider}`: what the provider sent back to the browser's
/// callback page, as the reference API takes it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OAuth2Code {
    pub code: String,
    pub state: String,
}

/// A provider people can sign in with, in `GET /api/tokens/oauth2`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OAuth2Provider {
    /// In URLs: `/api/tokens/oauth2/{name}`.
    pub name: String,
    /// For people: "Continue with {display_name}".
    pub display_name: String,
}

/// A provider linked to the caller's account (`GET /api/me/oauth2`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LinkedProvider {
    pub provider: String,
    pub display_name: String,
    /// The verified email the provider gave, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub linked_at: Timestamp,
}

/// `POST /api/me/oauth2/{provider}`: start linking a provider. `password` is needed when
/// the account has one; an account without one needs a recent sign-in instead.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// Where to send the browser next (a top-level navigation, never a fetch).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OAuth2Redirect {
    pub url: String,
}

/// Types carrying a secret (password, code, TOTP secret, challenge) print without it.
macro_rules! redacted_debug {
    ($($t:ty),*) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($t), "(<redacted>)"))
            }
        }
    )*};
}
redacted_debug!(
    PasswordConfirmation,
    TwoFactorSetup,
    TwoFactorCode,
    PasswordAndCode,
    RecoveryCodes,
    TwoFactorChallenge,
    TwoFactorLogin,
    OAuth2Code,
    LinkRequest
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_omits_empty_field_errors() {
        let body = ErrorBody {
            code: 404,
            message: "Not Found".into(),
            description: "No such user.".into(),
            errors: None,
        };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": 404, "message": "Not Found", "description": "No such user."})
        );
    }

    #[test]
    fn validation_errors_nest_under_json_and_query() {
        let mut errors = FieldErrors::default();
        errors
            .json
            .insert("username".into(), vec!["Use a different username.".into()]);
        let json = serde_json::to_value(&errors).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"json": {"username": ["Use a different username."]}})
        );
    }

    #[test]
    fn request_bodies_reject_unknown_fields() {
        let err = serde_json::from_str::<PostText>(r#"{"text":"hi","admin":true}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `admin`"), "{err}");
    }

    #[test]
    fn refresh_request_accepts_nulls_and_absence() {
        let empty: RefreshRequest = serde_json::from_str("{}").unwrap();
        let nulls: RefreshRequest =
            serde_json::from_str(r#"{"access_token":null,"refresh_token":null}"#).unwrap();
        assert_eq!(empty, RefreshRequest::default());
        assert_eq!(nulls, RefreshRequest::default());
    }

    #[test]
    fn email_is_absent_from_other_users_records() {
        let user = User {
            id: 6,
            username: "susan".into(),
            email: None,
            about_me: String::new(),
            avatar_url: "/api/avatars/ab?d=identicon".into(),
            first_seen: Timestamp::from_micros(0),
            last_seen: Timestamp::from_micros(0),
            posts_url: "/api/users/6/posts".into(),
            url: "/api/users/6".into(),
            has_password: true,
        };
        let json = serde_json::to_value(&user).unwrap();
        assert!(json.get("email").is_none());
        assert_eq!(json["first_seen"], "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn two_factor_login_takes_a_code_or_a_recovery_code() {
        let login: TwoFactorLogin =
            serde_json::from_str(r#"{"challenge":"c","recovery_code":"abcd-efgh-ijkl-mnop"}"#)
                .unwrap();
        assert_eq!(login.code, None);
        assert_eq!(login.recovery_code.as_deref(), Some("abcd-efgh-ijkl-mnop"));
        assert!(!format!("{login:?}").contains("abcd"));
    }

    #[test]
    fn has_more_compares_offset_and_count_with_total() {
        let page = |offset, count, total| Pagination {
            offset,
            limit: 25,
            count,
            total,
        };
        assert!(page(0, 25, 26).has_more());
        assert!(!page(1, 25, 26).has_more());
        assert!(!page(0, 0, 0).has_more());
    }
}
