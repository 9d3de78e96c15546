//! Configuration: every setting from the environment, with a default that runs on a
//! developer's machine with nothing set. The README lists the same variables.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use secrecy::SecretString;

/// The `SameSite` attribute of the refresh cookie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    /// The default: the cookie never leaves a same-site request. Right whenever the SPA
    /// and the API share a site, which is what this project deploys.
    Strict,
    /// Only for an SPA on another site than the API; weaker against CSRF.
    Lax,
    /// Only for an SPA on another site than the API; relies wholly on the CSRF checks.
    None,
}

impl SameSite {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "Strict",
            Self::Lax => "Lax",
            Self::None => "None",
        }
    }
}

/// SMTP settings; without them, mail is written to the outbox folder.
#[derive(Clone, Debug)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    /// `starttls` (default), `tls` (implicit TLS) or `none` (local relays only).
    pub tls: String,
    pub username: Option<String>,
    pub password: Option<SecretString>,
}

/// Everything the server needs to start.
#[derive(Clone, Debug)]
pub struct Config {
    /// `HOST`: the address to listen on. Default `127.0.0.1`.
    pub host: IpAddr,
    /// `PORT`: the port to listen on; 0 picks a free one (tests). Default 8080.
    pub port: u16,
    /// `DATABASE_URL`: `sqlite://…` or `postgres://…`. Default `sqlite://data/microblog.db`
    /// (the file and its folder are created).
    pub database_url: String,
    /// `STATIC_DIR`: the SPA's built files (Trunk's `dist/`), served with fallback to
    /// `index.html` for client routes. Default `dist`. Nothing is served if it is missing.
    pub static_dir: PathBuf,
    /// `PUBLIC_URL`: where people reach the SPA; links in emails are built from it, never
    /// from a request's `Host`. Default `http://localhost:8080`.
    pub public_url: String,
    /// `API_ORIGIN`: the API's origin when it is not the SPA's own, added to the CSP's
    /// `connect-src`. Default: none (same origin).
    pub api_origin: Option<String>,
    /// `ALLOWED_ORIGINS`: comma-separated origins allowed by CORS (with credentials) and
    /// by the CSRF check on cookie-authenticated endpoints. Default: `PUBLIC_URL`'s origin.
    pub allowed_origins: Vec<String>,
    /// `ACCESS_TOKEN_TTL_SECS`: access-token lifetime. Default 900 (15 minutes).
    pub access_token_ttl: Duration,
    /// `REFRESH_TOKEN_TTL_SECS`: refresh-token lifetime, absolute from login. Default 604800 (7 days).
    pub refresh_token_ttl: Duration,
    /// `REFRESH_GRACE_SECS`: how long the immediate predecessor of a rotated refresh token
    /// is still honoured, for requests that raced the rotation. Default 10.
    pub refresh_grace: Duration,
    /// `REFRESH_COOKIE_SAMESITE`: `Strict` (default), `Lax` or `None`.
    pub refresh_cookie_same_site: SameSite,
    /// `REFRESH_TOKEN_IN_BODY`: also return the refresh token in the JSON body, as the
    /// reference API can. Default false: JavaScript should never see it.
    pub refresh_token_in_body: bool,
    /// `MAIL_OUTBOX`: folder for `.eml` files when SMTP is not configured. Default `data/outbox`.
    pub mail_outbox: PathBuf,
    /// `MAIL_FROM`: the sender of every email. Default `Microblog <no-reply@localhost>`.
    pub mail_from: String,
    /// `SMTP_HOST`, `SMTP_PORT` (587), `SMTP_TLS` (`starttls`), `SMTP_USERNAME`, `SMTP_PASSWORD`.
    pub smtp: Option<Smtp>,
    /// `RESET_TOKEN_TTL_SECS`: password-reset link lifetime. Default 900 (15 minutes).
    pub reset_token_ttl: Duration,
    /// `LOG_FORMAT`: `pretty` (default) or `json`.
    pub log_json: bool,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads the configuration through `lookup`, so tests can pass their own values.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());
        let parse_secs = |key: &str, default: u64| -> anyhow::Result<Duration> {
            match get(key) {
                None => Ok(Duration::from_secs(default)),
                Some(v) => {
                    let secs: u64 = v
                        .trim()
                        .parse()
                        .with_context(|| format!("{key} must be a whole number of seconds"))?;
                    if secs == 0 {
                        bail!("{key} must be at least 1 second");
                    }
                    Ok(Duration::from_secs(secs))
                }
            }
        };
        let parse_bool = |key: &str| -> anyhow::Result<bool> {
            match get(key).as_deref().map(str::trim) {
                None => Ok(false),
                Some("1" | "true" | "yes") => Ok(true),
                Some("0" | "false" | "no") => Ok(false),
                Some(other) => bail!("{key} must be true or false, not {other:?}"),
            }
        };

        let public_url = get("PUBLIC_URL")
            .unwrap_or_else(|| "http://localhost:8080".into())
            .trim_end_matches('/')
            .to_owned();
        let allowed_origins = match get("ALLOWED_ORIGINS") {
            Some(list) => list
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            None => vec![origin_of(&public_url)?],
        };
        let refresh_cookie_same_site = match get("REFRESH_COOKIE_SAMESITE").as_deref() {
            None | Some("Strict" | "strict") => SameSite::Strict,
            Some("Lax" | "lax") => SameSite::Lax,
            Some("None" | "none") => SameSite::None,
            Some(other) => {
                bail!("REFRESH_COOKIE_SAMESITE must be Strict, Lax or None, not {other:?}")
            }
        };
        let smtp = match get("SMTP_HOST") {
            None => None,
            Some(host) => Some(Smtp {
                host,
                port: get("SMTP_PORT")
                    .map(|p| p.parse().context("SMTP_PORT must be a port number"))
                    .transpose()?
                    .unwrap_or(587),
                tls: get("SMTP_TLS").unwrap_or_else(|| "starttls".into()),
                username: get("SMTP_USERNAME"),
                password: get("SMTP_PASSWORD").map(SecretString::from),
            }),
        };

        Ok(Self {
            host: get("HOST")
                .unwrap_or_else(|| "127.0.0.1".into())
                .parse()
                .context("HOST must be an IP address")?,
            port: get("PORT")
                .map(|p| p.parse().context("PORT must be a port number"))
                .transpose()?
                .unwrap_or(8080),
            database_url: get("DATABASE_URL")
                .unwrap_or_else(|| "sqlite://data/microblog.db".into()),
            static_dir: get("STATIC_DIR").unwrap_or_else(|| "dist".into()).into(),
            api_origin: get("API_ORIGIN").map(|o| o.trim_end_matches('/').to_owned()),
            public_url,
            allowed_origins,
            access_token_ttl: parse_secs("ACCESS_TOKEN_TTL_SECS", 900)?,
            refresh_token_ttl: parse_secs("REFRESH_TOKEN_TTL_SECS", 7 * 24 * 3600)?,
            refresh_grace: parse_secs("REFRESH_GRACE_SECS", 10)?,
            refresh_cookie_same_site,
            refresh_token_in_body: parse_bool("REFRESH_TOKEN_IN_BODY")?,
            mail_outbox: get("MAIL_OUTBOX")
                .unwrap_or_else(|| "data/outbox".into())
                .into(),
            mail_from: get("MAIL_FROM").unwrap_or_else(|| "Microblog <no-reply@localhost>".into()),
            smtp,
            reset_token_ttl: parse_secs("RESET_TOKEN_TTL_SECS", 900)?,
            log_json: get("LOG_FORMAT").as_deref() == Some("json"),
        })
    }
}

/// `scheme://host[:port]` of a URL, as browsers send it in `Origin`.
fn origin_of(url: &str) -> anyhow::Result<String> {
    let (scheme, rest) = url
        .split_once("://")
        .with_context(|| format!("PUBLIC_URL must be an absolute URL, not {url:?}"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        bail!("PUBLIC_URL has no host: {url:?}");
    }
    Ok(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> anyhow::Result<Config> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|key| env.get(key).cloned())
    }

    #[test]
    fn defaults_run_locally_with_sqlite() {
        let c = config(&[]).unwrap();
        assert_eq!(c.port, 8080);
        assert_eq!(c.database_url, "sqlite://data/microblog.db");
        assert_eq!(c.access_token_ttl, Duration::from_secs(900));
        assert_eq!(c.refresh_token_ttl, Duration::from_secs(604_800));
        assert_eq!(c.allowed_origins, ["http://localhost:8080"]);
        assert_eq!(c.refresh_cookie_same_site, SameSite::Strict);
        assert!(!c.refresh_token_in_body);
    }

    #[test]
    fn allowed_origins_default_to_the_public_urls_origin() {
        let c = config(&[("PUBLIC_URL", "https://blog.example.com/app/")]).unwrap();
        assert_eq!(c.public_url, "https://blog.example.com/app");
        assert_eq!(c.allowed_origins, ["https://blog.example.com"]);
    }

    #[test]
    fn bad_values_are_refused_with_the_variable_named() {
        for (key, value) in [
            ("PORT", "eighty"),
            ("ACCESS_TOKEN_TTL_SECS", "0"),
            ("REFRESH_COOKIE_SAMESITE", "sometimes"),
            ("REFRESH_TOKEN_IN_BODY", "maybe"),
            ("HOST", "localhost:80"),
        ] {
            let err = config(&[(key, value)]).unwrap_err();
            assert!(format!("{err:#}").contains(key), "{key}: {err:#}");
        }
    }
}
