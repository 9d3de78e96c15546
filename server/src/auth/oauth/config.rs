//! Which providers are on, from the environment: `OAUTH2_<NAME>_CLIENT_ID` turns one on.
//!
//! `GITHUB` and `GOOGLE` are presets; any other name is a generic OpenID Connect provider
//! and needs `OAUTH2_<NAME>_ISSUER`. The provider's name in URLs is `<NAME>` in lower case.

use anyhow::{Context, bail};
use secrecy::SecretString;
use url::Url;

/// How a provider proves who someone is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// OpenID Connect through discovery at `issuer`: an ID token, checked in full.
    Oidc { issuer: String },
    /// GitHub's OAuth 2 (no OpenID Connect): the user and their verified primary email
    /// from its REST API. `web` serves the authorization and token endpoints, `api` the
    /// REST API (GitHub Enterprise Server, or a stand-in in tests).
    GitHub { web: String, api: String },
}

/// One enabled provider.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    /// In URLs: `/api/tokens/oauth2/{name}`, `/oauth2/{name}/callback`.
    pub name: String,
    /// On buttons: "Continue with {display_name}".
    pub display_name: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub kind: Kind,
    /// The exact redirect URI registered at the provider.
    pub redirect_uri: String,
}

const PREFIX: &str = "OAUTH2_";
const SUFFIX: &str = "_CLIENT_ID";

/// The enabled providers, in a stable order (presets first, then by name).
///
/// `names` are the variable names present (the lookup alone cannot list them);
/// `public_url` is `PUBLIC_URL`, the base of the default redirect URI.
pub fn parse(
    names: &[String],
    get: &dyn Fn(&str) -> Option<String>,
    public_url: &str,
) -> anyhow::Result<Vec<ProviderConfig>> {
    let mut keys: Vec<String> = names
        .iter()
        .filter_map(|n| n.strip_prefix(PREFIX)?.strip_suffix(SUFFIX))
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect();
    for preset in ["GITHUB", "GOOGLE"] {
        if !keys.iter().any(|k| k == preset) {
            keys.push(preset.to_owned());
        }
    }
    keys.sort_by_key(|k| (!matches!(k.as_str(), "GITHUB" | "GOOGLE"), k.clone()));
    keys.dedup();
    let redirect_template = get("OAUTH2_REDIRECT_URI")
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| {
            format!(
                "{}/oauth2/{{provider}}/callback",
                public_url.trim_end_matches('/')
            )
        });
    let mut providers = Vec::new();
    for key in keys {
        let var = |what: &str| format!("{PREFIX}{key}_{what}");
        let Some(client_id) = get(&var("CLIENT_ID")).map(|v| v.trim().to_owned()) else {
            continue;
        };
        if !key
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            bail!(
                "{} names a provider with letters, digits and _ only",
                var("CLIENT_ID")
            );
        }
        let client_secret = get(&var("CLIENT_SECRET"))
            .map(SecretString::from)
            .with_context(|| {
                format!(
                    "{} is set, so {} must be too",
                    var("CLIENT_ID"),
                    var("CLIENT_SECRET")
                )
            })?;
        let name = key.to_ascii_lowercase();
        let kind = match key.as_str() {
            "GITHUB" => Kind::GitHub {
                web: endpoint(get, &var("URL"), "https://github.com")?,
                api: endpoint(get, &var("API_URL"), "https://api.github.com")?,
            },
            "GOOGLE" => Kind::Oidc {
                issuer: endpoint(get, &var("ISSUER"), "https://accounts.google.com")?,
            },
            _ => {
                let issuer = get(&var("ISSUER")).with_context(|| {
                    format!(
                        "{} is set, so {} must be too (an OpenID Connect issuer)",
                        var("CLIENT_ID"),
                        var("ISSUER")
                    )
                })?;
                Kind::Oidc {
                    issuer: endpoint(get, &var("ISSUER"), &issuer)?,
                }
            }
        };
        let display_name = get(&var("DISPLAY_NAME"))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| default_display_name(&key));
        let redirect_uri = redirect_template.replace("{provider}", &name);
        let parsed =
            Url::parse(&redirect_uri).context("OAUTH2_REDIRECT_URI must be an absolute URL")?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.fragment().is_some() {
            bail!("OAUTH2_REDIRECT_URI must be an http(s) URL without a fragment");
        }
        providers.push(ProviderConfig {
            name,
            display_name,
            client_id,
            client_secret,
            kind,
            redirect_uri,
        });
    }
    Ok(providers)
}

/// An endpoint's base URL: HTTPS, or plain HTTP on a loopback host only (a provider
/// started beside the server in development and tests). No trailing slash.
fn endpoint(
    get: &dyn Fn(&str) -> Option<String>,
    key: &str,
    default: &str,
) -> anyhow::Result<String> {
    let value = get(key).unwrap_or_else(|| default.to_owned());
    let value = value.trim().trim_end_matches('/').to_owned();
    let url = Url::parse(&value).with_context(|| format!("{key} must be a URL"))?;
    let loopback = matches!(url.host(), Some(url::Host::Domain("localhost")))
        || matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => bail!("{key} must be an https URL (plain http only on a loopback address)"),
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!("{key} must be a URL without a query or fragment");
    }
    Ok(value)
}

fn default_display_name(key: &str) -> String {
    match key {
        "GITHUB" => "GitHub".into(),
        "GOOGLE" => "Google".into(),
        _ => key
            .split('_')
            .filter(|w| !w.is_empty())
            .map(|w| {
                let lower = w.to_ascii_lowercase();
                let mut chars = lower.chars();
                chars
                    .next()
                    .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" "),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn parse_env(pairs: &[(&str, &str)]) -> anyhow::Result<Vec<ProviderConfig>> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let names: Vec<String> = env.keys().cloned().collect();
        parse(&names, &|k| env.get(k).cloned(), "http://localhost:8080")
    }

    #[test]
    fn a_generic_provider_is_derived_from_its_variable_names() {
        let p = parse_env(&[
            ("OAUTH2_MOCK_CLIENT_ID", "id"),
            ("OAUTH2_MOCK_CLIENT_SECRET", "secret"),
            ("OAUTH2_MOCK_ISSUER", "http://127.0.0.1:9999/"),
        ])
        .unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].name, "mock");
        assert_eq!(p[0].display_name, "Mock");
        assert_eq!(
            p[0].redirect_uri,
            "http://localhost:8080/oauth2/mock/callback"
        );
        assert_eq!(
            p[0].kind,
            Kind::Oidc {
                issuer: "http://127.0.0.1:9999".into()
            }
        );
    }

    #[test]
    fn presets_need_only_their_credentials() {
        let p = parse_env(&[
            ("OAUTH2_GITHUB_CLIENT_ID", "a"),
            ("OAUTH2_GITHUB_CLIENT_SECRET", "b"),
            ("OAUTH2_GOOGLE_CLIENT_ID", "c"),
            ("OAUTH2_GOOGLE_CLIENT_SECRET", "d"),
            ("OAUTH2_MY_IDP_CLIENT_ID", "e"),
            ("OAUTH2_MY_IDP_CLIENT_SECRET", "f"),
            ("OAUTH2_MY_IDP_ISSUER", "https://idp.example"),
            ("OAUTH2_REDIRECT_URI", "https://blog.example/cb/{provider}"),
        ])
        .unwrap();
        let names: Vec<_> = p
            .iter()
            .map(|p| (p.name.as_str(), p.display_name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("github", "GitHub"),
                ("google", "Google"),
                ("my_idp", "My Idp")
            ]
        );
        assert_eq!(p[2].redirect_uri, "https://blog.example/cb/my_idp");
        assert!(matches!(&p[0].kind, Kind::GitHub { api, .. } if api == "https://api.github.com"));
    }

    #[test]
    fn nothing_is_on_without_a_client_id() {
        assert!(
            parse_env(&[("OAUTH2_GITHUB_CLIENT_SECRET", "x")])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn incomplete_or_insecure_settings_are_refused() {
        for pairs in [
            &[
                ("OAUTH2_MOCK_CLIENT_ID", "a"),
                ("OAUTH2_MOCK_CLIENT_SECRET", "b"),
            ][..],
            &[("OAUTH2_GITHUB_CLIENT_ID", "a")][..],
            &[
                ("OAUTH2_MOCK_CLIENT_ID", "a"),
                ("OAUTH2_MOCK_CLIENT_SECRET", "b"),
                ("OAUTH2_MOCK_ISSUER", "http://idp.example"),
            ][..],
        ] {
            assert!(parse_env(pairs).is_err(), "{pairs:?}");
        }
    }
}
