//! Configuration: every setting from the environment, with a default that runs on a
//! developer's machine with nothing set. The README lists the same variables.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use secrecy::SecretString;

use crate::db::DbOptions;
use crate::origin::origin_of;

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

/// A limit: at most `max` events per `window`; past it, refused until the window ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

/// The limits of `throttle.rs` (docs/security.md, "Guessing passwords and codes"). Each
/// variable is `MAX/SECONDS`, e.g. `THROTTLE_LOGIN_PAIR=5/900`.
///
/// Failed logins are counted strictly per (account, address): that is what stops a guesser
/// without touching anyone else. Per address, generously, against one address trying many
/// accounts. Per account, loosely and with a short window, against guessing spread over
/// many addresses; an address the account has logged in from before is exempt from it, so
/// an attacker hammering a victim's name cannot lock the victim out, and a victim on a new
/// address waits at most that short window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttling {
    /// `THROTTLE_LOGIN_PAIR`: failed logins per (account, address). Default `5/900`.
    pub login_pair: Limit,
    /// `THROTTLE_LOGIN_ADDRESS`: failed logins per address, all accounts. Default `50/900`.
    pub login_address: Limit,
    /// `THROTTLE_LOGIN_ACCOUNT`: failed logins per account, from addresses it has not
    /// logged in from. Default `20/60`: a lockout lasts a minute at most.
    pub login_account: Limit,
    /// `THROTTLE_TWO_FACTOR_ACCOUNT`: wrong 2FA codes at login per account, from addresses
    /// it has not completed a login from. Default `10/900`.
    pub two_factor_account: Limit,
    /// `THROTTLE_TWO_FACTOR_ADDRESS`: wrong 2FA codes at login per address. Default `50/900`.
    pub two_factor_address: Limit,
    /// `THROTTLE_TWO_FACTOR_CHALLENGE`: 2FA challenges a correct password can mint per
    /// account, from addresses it has not completed a login from. Default `10/900`.
    pub two_factor_challenge: Limit,
    /// `THROTTLE_REAUTH`: wrong current passwords (changing the email, the password or 2FA)
    /// and wrong codes when changing 2FA, per session. Default `5/900`.
    pub reauth: Limit,
    /// `THROTTLE_REGISTER_ADDRESS`: registration attempts per address. Default `20/3600`.
    pub register_address: Limit,
    /// `THROTTLE_RESET_ADDRESS`: password-reset requests per address. Default `10/900`.
    pub reset_address: Limit,
    /// `THROTTLE_RESET_EMAIL`: password-reset requests per email address, known or not
    /// (so the limit tells nothing about who has an account). Default `3/900`.
    pub reset_email: Limit,
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
    /// `DATABASE_MAX_CONNECTIONS`, `DATABASE_STATEMENT_TIMEOUT_MS`,
    /// `DATABASE_CONNECT_RETRY_SECS` (see [`DbOptions`]).
    pub database: DbOptions,
    /// `STATIC_DIR`: the SPA's built files (Trunk's `dist/`), served with fallback to
    /// `index.html` for client routes. Default `dist`. Nothing is served if it is missing.
    pub static_dir: PathBuf,
    /// `PUBLIC_URL`: where people reach the SPA; links in emails are built from it, never
    /// from a request's `Host`. Default `http://localhost:8080`.
    pub public_url: String,
    /// `API_ORIGIN`: the API's origin when it is not the SPA's own, added to the CSP's
    /// `connect-src` and `img-src` (avatars). Default: none (same origin).
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
    /// `TOTP_ISSUER`: the name authenticator apps show beside the account. Default `Microblog`.
    pub totp_issuer: String,
    /// `TWO_FACTOR_CHALLENGE_TTL_SECS`: how long the challenge that a correct password
    /// yields for a 2FA account stays usable. Default 300, and at most 300
    /// (docs/security.md, "Two-factor authentication").
    pub two_factor_challenge_ttl: Duration,
    /// `TWO_FACTOR_CHALLENGE_MAX_FAILURES`: wrong codes one challenge survives; then the
    /// password must be given again. Default 5.
    pub two_factor_challenge_max_failures: u32,
    /// `TRUST_PROXY`: take the client address from the last `X-Forwarded-For` entry, as
    /// appended by one reverse proxy in front of the server. Default false: the peer
    /// address. Only set it behind such a proxy, or clients choose their own address.
    pub trust_proxy: bool,
    /// Throttling of logins, 2FA codes and reset requests (see [`Throttling`]).
    pub throttle: Throttling,
    /// `LOG_FORMAT`: `pretty` (default) or `json`.
    pub log_json: bool,
    /// `SECRET_KEY`: the key that seals TOTP secrets and signing keys in the database, 32
    /// bytes as base64 or 64 hex digits. Required: `cargo xtask run` makes one in `data/`.
    pub secret_key: SecretString,
    /// `SECRET_KEY_PREVIOUS`: the key before `SECRET_KEY`, during a rotation: values sealed
    /// under it still open, and the server seals them again under the new one.
    pub secret_key_previous: Option<SecretString>,
    /// `ACCESS_TOKEN_AUDIENCE`: the `aud` of access tokens. Default: the API's URL
    /// (`API_ORIGIN`, else `PUBLIC_URL`'s origin, followed by `/api`).
    pub access_token_audience: String,
    /// `SIGNING_KEY_PUBLISH_SECS`: how long a new signing key is published before it signs,
    /// so that verifiers caching the key set (for up to 5 minutes) have it. Default 600,
    /// at least 360.
    pub signing_key_publish: Duration,
    /// `SIGNING_KEY_ROTATION_DAYS`: rotate the signing key on this schedule. Default: off
    /// (`server rotate-signing-key` rotates by hand).
    pub signing_key_rotation: Option<Duration>,
    /// `OAUTH2_<NAME>_CLIENT_ID`, `_CLIENT_SECRET`, `_ISSUER`, `OAUTH2_REDIRECT_URI`: the
    /// providers people can sign in with (see [`crate::auth::oauth::config`]).
    pub oauth: Vec<crate::auth::oauth::config::ProviderConfig>,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_vars(std::env::vars().collect())
    }

    /// Reads the configuration from these variables (tests pass their own).
    pub fn from_vars(vars: std::collections::HashMap<String, String>) -> anyhow::Result<Self> {
        let names: Vec<String> = vars.keys().cloned().collect();
        Self::from_lookup_named(|key| vars.get(key).cloned(), &names)
    }

    /// Reads the configuration through `lookup`, so tests can pass their own values. Only
    /// the preset OAuth providers can be on (generic ones are found by variable name).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        Self::from_lookup_named(lookup, &[])
    }

    /// Reads the configuration through `lookup`; `names` lists the variables that are set.
    pub fn from_lookup_named(
        lookup: impl Fn(&str) -> Option<String>,
        names: &[String],
    ) -> anyhow::Result<Self> {
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

        let parse_limit = |key: &str, max: u32, secs: u64| -> anyhow::Result<Limit> {
            let Some(v) = get(key) else {
                return Ok(Limit {
                    max,
                    window: Duration::from_secs(secs),
                });
            };
            let parsed = v.trim().split_once('/').and_then(|(m, s)| {
                Some((m.trim().parse::<u32>().ok()?, s.trim().parse::<u64>().ok()?))
            });
            match parsed {
                Some((max, secs)) if max > 0 && secs > 0 => Ok(Limit {
                    max,
                    window: Duration::from_secs(secs),
                }),
                _ => bail!("{key} must be MAX/SECONDS with both above 0, like 5/900, not {v:?}"),
            }
        };
        let throttle = Throttling {
            login_pair: parse_limit("THROTTLE_LOGIN_PAIR", 5, 900)?,
            login_address: parse_limit("THROTTLE_LOGIN_ADDRESS", 50, 900)?,
            login_account: parse_limit("THROTTLE_LOGIN_ACCOUNT", 20, 60)?,
            two_factor_account: parse_limit("THROTTLE_TWO_FACTOR_ACCOUNT", 10, 900)?,
            two_factor_address: parse_limit("THROTTLE_TWO_FACTOR_ADDRESS", 50, 900)?,
            two_factor_challenge: parse_limit("THROTTLE_TWO_FACTOR_CHALLENGE", 10, 900)?,
            reauth: parse_limit("THROTTLE_REAUTH", 5, 900)?,
            register_address: parse_limit("THROTTLE_REGISTER_ADDRESS", 20, 3600)?,
            reset_address: parse_limit("THROTTLE_RESET_ADDRESS", 10, 900)?,
            reset_email: parse_limit("THROTTLE_RESET_EMAIL", 3, 900)?,
        };
        let parse_number = |key: &str, min: u64| -> anyhow::Result<Option<u64>> {
            get(key)
                .map(|v| {
                    v.trim()
                        .parse::<u64>()
                        .ok()
                        .filter(|n| *n >= min)
                        .with_context(|| format!("{key} must be a whole number, at least {min}"))
                })
                .transpose()
        };
        let defaults = DbOptions::default();
        let database = DbOptions {
            max_connections: parse_number("DATABASE_MAX_CONNECTIONS", 1)?
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            statement_timeout: parse_number("DATABASE_STATEMENT_TIMEOUT_MS", 1)?
                .map_or(defaults.statement_timeout, Duration::from_millis),
            connect_retry: parse_number("DATABASE_CONNECT_RETRY_SECS", 0)?
                .map_or(defaults.connect_retry, Duration::from_secs),
            sqlite_cache_mib: parse_number("DATABASE_SQLITE_CACHE_MIB", 1)?
                .map_or(defaults.sqlite_cache_mib, |n| {
                    u32::try_from(n).unwrap_or(u32::MAX)
                }),
        };
        let two_factor_challenge_ttl = parse_secs("TWO_FACTOR_CHALLENGE_TTL_SECS", 300)?;
        if two_factor_challenge_ttl > Duration::from_secs(300) {
            bail!("TWO_FACTOR_CHALLENGE_TTL_SECS must be at most 300 (5 minutes)");
        }
        let two_factor_challenge_max_failures = match get("TWO_FACTOR_CHALLENGE_MAX_FAILURES") {
            None => 5,
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .context("TWO_FACTOR_CHALLENGE_MAX_FAILURES must be a number above 0")?,
        };

        let public_url = crate::origin::public_url(
            get("PUBLIC_URL")
                .as_deref()
                .unwrap_or("http://localhost:8080"),
        )?;
        let allowed_origins = match get("ALLOWED_ORIGINS") {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(|o| origin_of(o).context("ALLOWED_ORIGINS lists origins"))
                .collect::<anyhow::Result<_>>()?,
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
                tls: match get("SMTP_TLS").as_deref().map(str::trim) {
                    None | Some("starttls") => "starttls".into(),
                    Some(v @ ("tls" | "none")) => v.into(),
                    Some(other) => bail!("SMTP_TLS must be starttls, tls or none, not {other:?}"),
                },
                username: get("SMTP_USERNAME"),
                password: get("SMTP_PASSWORD").map(SecretString::from),
            }),
        };

        let secret = |key: &str| -> anyhow::Result<Option<SecretString>> {
            get(key)
                .map(|v| {
                    crate::secrets::parse_key(&v).with_context(|| {
                        format!("{key} must be 32 bytes as base64 or 64 hex digits")
                    })?;
                    Ok(SecretString::from(v))
                })
                .transpose()
        };
        let secret_key = secret("SECRET_KEY")?.context(
            "SECRET_KEY is not set: it seals TOTP secrets and signing keys in the database. \
             Make one with `openssl rand -base64 32` (cargo xtask run makes one in data/).",
        )?;
        let secret_key_previous = secret("SECRET_KEY_PREVIOUS")?;
        let api_origin = get("API_ORIGIN")
            .map(|o| origin_of(o.trim()).context("API_ORIGIN is an origin"))
            .transpose()?;
        let access_token_audience = match get("ACCESS_TOKEN_AUDIENCE") {
            Some(aud) => aud.trim().to_owned(),
            None => format!(
                "{}/api",
                api_origin
                    .clone()
                    .map_or_else(|| origin_of(&public_url), Ok)?
            ),
        };
        let signing_key_publish = parse_secs("SIGNING_KEY_PUBLISH_SECS", 600)?;
        if signing_key_publish < Duration::from_secs(360) {
            bail!("SIGNING_KEY_PUBLISH_SECS must be at least 360 (verifiers cache keys for 300)");
        }
        let signing_key_rotation = get("SIGNING_KEY_ROTATION_DAYS")
            .map(|d| match d.trim().parse::<u64>() {
                Ok(days) if days > 0 => Ok(Duration::from_secs(days * 24 * 3600)),
                _ => Err(anyhow::anyhow!(
                    "SIGNING_KEY_ROTATION_DAYS must be a whole number of days above 0"
                )),
            })
            .transpose()?;
        let oauth = crate::auth::oauth::config::parse(names, &get, &public_url)?;

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
            database,
            static_dir: get("STATIC_DIR").unwrap_or_else(|| "dist".into()).into(),
            api_origin,
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
            totp_issuer: get("TOTP_ISSUER").unwrap_or_else(|| "Microblog".into()),
            two_factor_challenge_ttl,
            two_factor_challenge_max_failures,
            trust_proxy: parse_bool("TRUST_PROXY")?,
            throttle,
            log_json: get("LOG_FORMAT").as_deref() == Some("json"),
            secret_key,
            secret_key_previous,
            access_token_audience,
            signing_key_publish,
            signing_key_rotation,
            oauth,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> anyhow::Result<Config> {
        let env: HashMap<String, String> = [("SECRET_KEY".to_owned(), "07".repeat(32))]
            .into_iter()
            .chain(
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
            )
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
        assert!(!c.trust_proxy);
        assert_eq!(c.two_factor_challenge_ttl, Duration::from_secs(300));
        assert_eq!(
            c.throttle.login_account,
            Limit {
                max: 20,
                window: Duration::from_secs(60)
            }
        );
    }

    #[test]
    fn database_pool_and_timeouts() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database, DbOptions::default());
        assert_eq!(c.database.postgres_connections(), 16);
        let c = config(&[
            ("DATABASE_MAX_CONNECTIONS", "40"),
            ("DATABASE_STATEMENT_TIMEOUT_MS", "2500"),
            ("DATABASE_CONNECT_RETRY_SECS", "0"),
            ("DATABASE_SQLITE_CACHE_MIB", "16"),
        ])
        .unwrap();
        assert_eq!(
            c.database,
            DbOptions {
                max_connections: Some(40),
                statement_timeout: Duration::from_millis(2500),
                connect_retry: Duration::ZERO,
                sqlite_cache_mib: 16,
            }
        );
    }

    #[test]
    fn limits_read_as_max_per_seconds() {
        let c = config(&[("THROTTLE_LOGIN_PAIR", " 3/2 ")]).unwrap();
        assert_eq!(
            c.throttle.login_pair,
            Limit {
                max: 3,
                window: Duration::from_secs(2)
            }
        );
    }

    #[test]
    fn allowed_origins_default_to_the_public_urls_origin() {
        let c = config(&[("PUBLIC_URL", "https://blog.example.com/app/")]).unwrap();
        assert_eq!(c.public_url, "https://blog.example.com/app");
        assert_eq!(c.allowed_origins, ["https://blog.example.com"]);
    }

    #[test]
    fn origins_compare_as_the_url_standard_serialises_them() {
        let c = config(&[
            ("PUBLIC_URL", "HTTPS://Blog.Example.com:443/App/"),
            (
                "ALLOWED_ORIGINS",
                "HTTPS://Example.com:443, http://LOCALHOST:80/, http://127.0.0.1:8080, https://bücher.example",
            ),
            ("API_ORIGIN", "HTTPS://API.example.com:443/"),
        ])
        .unwrap();
        assert_eq!(
            c.allowed_origins,
            [
                "https://example.com",
                "http://localhost",
                "http://127.0.0.1:8080",
                "https://xn--bcher-kva.example"
            ]
        );
        // The path is kept as written: it is part of every link.
        assert_eq!(c.public_url, "https://blog.example.com/App");
        assert_eq!(c.api_origin.as_deref(), Some("https://api.example.com"));
        let c = config(&[("PUBLIC_URL", "HTTP://Example.com:8080")]).unwrap();
        assert_eq!(c.allowed_origins, ["http://example.com:8080"]);
    }

    #[test]
    fn only_http_origins_are_allowed() {
        for (key, value) in [
            ("ALLOWED_ORIGINS", "null"),
            ("ALLOWED_ORIGINS", "https://ok.example, example.com"),
            ("ALLOWED_ORIGINS", "file:///etc/passwd"),
            ("PUBLIC_URL", "blog.example.com"),
            ("PUBLIC_URL", "https://blog.example.com/?x=1"),
            ("API_ORIGIN", "data:text/plain,hi"),
        ] {
            let err = config(&[(key, value)]).unwrap_err();
            assert!(format!("{err:#}").contains(key), "{key}: {err:#}");
        }
    }

    #[test]
    fn bad_values_are_refused_with_the_variable_named() {
        for (key, value) in [
            ("PORT", "eighty"),
            ("ACCESS_TOKEN_TTL_SECS", "0"),
            ("REFRESH_COOKIE_SAMESITE", "sometimes"),
            ("REFRESH_TOKEN_IN_BODY", "maybe"),
            ("HOST", "localhost:80"),
            ("THROTTLE_LOGIN_PAIR", "5"),
            ("THROTTLE_RESET_EMAIL", "0/60"),
            ("TWO_FACTOR_CHALLENGE_TTL_SECS", "301"),
            ("TRUST_PROXY", "perhaps"),
            ("DATABASE_MAX_CONNECTIONS", "0"),
            ("DATABASE_STATEMENT_TIMEOUT_MS", "soon"),
            ("DATABASE_CONNECT_RETRY_SECS", "-1"),
        ] {
            let err = config(&[(key, value)]).unwrap_err();
            assert!(format!("{err:#}").contains(key), "{key}: {err:#}");
        }
    }
}
