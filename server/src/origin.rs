//! Origins (`scheme://host[:port]`) compared as the URL standard serialises them, which is
//! what browsers send in `Origin`: `HTTPS://Example.com:443` and `https://example.com` are
//! one origin. `PUBLIC_URL`, `ALLOWED_ORIGINS`, `API_ORIGIN` and every `Origin` header go
//! through here before they are compared.

use anyhow::{Context, bail};

/// An origin as the URL standard serialises it, which is what browsers send in `Origin`:
/// lowercase scheme and host, punycode, no default port, no path. `HTTPS://Example.com:443/`
/// is `https://example.com`. Only `http` and `https` URLs have an origin worth comparing.
pub fn origin_of(url: &str) -> anyhow::Result<String> {
    let parsed = url::Url::parse(url.trim())
        .with_context(|| format!("{url:?} is not an absolute http(s) URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || !parsed.has_host() {
        bail!("{url:?} is not an absolute http(s) URL");
    }
    Ok(parsed.origin().ascii_serialization())
}

/// `PUBLIC_URL` in its normal form: the origin as [`origin_of`] writes it, then the path
/// without its trailing slash (links are built by appending `/reset?...`).
pub fn public_url(raw: &str) -> anyhow::Result<String> {
    let origin = origin_of(raw).context("PUBLIC_URL must be an absolute http(s) URL")?;
    let parsed = url::Url::parse(raw.trim()).context("PUBLIC_URL")?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        bail!("PUBLIC_URL must not have a query or a fragment, not {raw:?}");
    }
    Ok(format!("{origin}{}", parsed.path().trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_lowercase_punycode_without_default_ports_or_paths() {
        for (raw, origin) in [
            ("HTTPS://Example.com:443", "https://example.com"),
            ("https://example.com/", "https://example.com"),
            ("http://LOCALHOST:80/app?x#y", "http://localhost"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("https://bücher.example", "https://xn--bcher-kva.example"),
            ("http://[::1]:8080", "http://[::1]:8080"),
            (" https://example.com:8443 ", "https://example.com:8443"),
        ] {
            assert_eq!(origin_of(raw).unwrap(), origin, "{raw}");
        }
    }

    #[test]
    fn only_http_urls_with_a_host_have_an_origin() {
        for raw in [
            "null",
            "example.com",
            "file:///etc/passwd",
            "data:text/plain,x",
            "https://",
            "",
        ] {
            assert!(origin_of(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn the_public_url_keeps_its_path_without_the_trailing_slash() {
        assert_eq!(
            public_url("HTTPS://Blog.Example.com:443/App/").unwrap(),
            "https://blog.example.com/App"
        );
        assert_eq!(
            public_url("http://localhost:8080").unwrap(),
            "http://localhost:8080"
        );
        assert!(public_url("https://blog.example.com/?next=x").is_err());
    }
}
