//! What surrounds the API: the SPA's static files, security headers, CORS, CSRF checks
//! and request logs.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower::Layer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::error::ApiError;
use crate::extract::{ForwardedFor, forwarded_for, is_json};
use crate::startup::AppState;

/// Serves the SPA's built files; any other path gets `index.html`, so that client routes
/// (`/user/susan`) survive a reload. Missing `STATIC_DIR`: only the API is served.
///
/// `cargo xtask build` writes a `.br` and a `.gz` beside every file: a browser that accepts
/// one gets it, as the file's own type, and caches see `Vary: Accept-Encoding`. The caching
/// policy itself is set in [`security_headers`].
pub fn spa(config: &Config) -> Router<AppState> {
    let dir = &config.static_dir;
    if !dir.join("index.html").is_file() {
        tracing::warn!(dir = %dir.display(), "no index.html in STATIC_DIR: serving the API only");
        return Router::new();
    }
    let index = ServeFile::new(dir.join("index.html"))
        .precompressed_br()
        .precompressed_gzip();
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(index);
    let vary = SetResponseHeaderLayer::appending(
        header::VARY,
        HeaderValue::from_static("accept-encoding"),
    );
    Router::new().fallback_service(vary.layer(files))
}

/// CORS for the API: an allow-list of origins, with credentials; never `*`, never a
/// reflected arbitrary origin (docs/security.md, "Cookies, CSRF and CORS").
pub fn cors(config: &Config) -> CorsLayer {
    let allowed = config.allowed_origins.clone();
    CorsLayer::new()
        // Browsers already send the serialised form; anything else is compared in it too.
        // The answer names the request's own `Origin`, as CORS requires.
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            origin
                .to_str()
                .ok()
                .and_then(normal_origin)
                .is_some_and(|o| allowed.contains(&o))
        }))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([
            header::LOCATION,
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
        ])
        .max_age(Duration::from_secs(600))
}

/// The CSRF defence of cookie-authenticated endpoints (docs/security.md, "Cookies, CSRF and
/// CORS"): the body must be declared JSON, which a cross-site form cannot do without a CORS
/// preflight, and an `Origin`, when present, must be allowed or the server's own.
pub fn check_csrf(headers: &HeaderMap, config: &Config) -> Result<(), ApiError> {
    if !is_json(headers) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let allowed = origin
        .to_str()
        .ok()
        .and_then(normal_origin)
        .is_some_and(|origin| {
            config.allowed_origins.contains(&origin) || same_origin_as_host(&origin, headers)
        });
    if allowed {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Cross-site requests are not allowed here.",
        ))
    }
}

/// An `Origin` header in the form `ALLOWED_ORIGINS` is kept in; `None` for `null` and
/// anything else that is not an http(s) origin.
fn normal_origin(origin: &str) -> Option<String> {
    crate::origin::origin_of(origin).ok()
}

/// Whether `Origin` (normalised) names the host the request was sent to: a same-origin
/// request from the page this server served, whatever name it was reached by. The scheme
/// is the origin's own: behind a TLS proxy, this server sees plain HTTP.
fn same_origin_as_host(origin: &str, headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let Some((scheme, _)) = origin.split_once("://") else {
        return false;
    };
    // A Host header with a path or user info is no host at all.
    if host.contains(['/', '@', '?', '#', '\\']) {
        return false;
    }
    normal_origin(&format!("{scheme}://{host}")).is_some_and(|own| own == origin)
}

/// The Content-Security-Policy of every HTML page (docs/security.md,
/// "Content-Security-Policy and other headers"). The SPA's loader is an external file, so
/// no inline script needs a hash; `'wasm-unsafe-eval'` lets the page compile its
/// WebAssembly, and nothing else.
pub fn content_security_policy(config: &Config) -> String {
    // The API's own origin, when it is not the page's: the SPA calls it and shows its
    // avatars.
    let api = match &config.api_origin {
        Some(api) => format!(" {api}"),
        None => String::new(),
    };
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:{api}; connect-src 'self'{api}; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'; form-action 'self'"
    )
}

/// Applies the layers every response passes through.
pub fn with_layers(router: Router, config: &Config) -> Router {
    let csp =
        HeaderValue::from_str(&content_security_policy(config)).expect("the CSP is plain ASCII");
    // `PUBLIC_URL` is stored normalised, so its scheme is lowercase.
    let hsts = config.public_url.starts_with("https://");
    let trust_proxy = config.trust_proxy;
    router
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            let csp = csp.clone();
            async move { security_headers(req, next, csp, hsts).await }
        }))
        .layer(middleware::from_fn(move |mut req: Request, next: Next| {
            // TRUST_PROXY: the client address is what our proxy says, not its own.
            if trust_proxy && let Some(ip) = forwarded_for(req.headers()) {
                req.extensions_mut().insert(ForwardedFor(ip));
            }
            next.run(req)
        }))
        .layer(
            // One line per request: method, path (never the query, which may carry a
            // reset token), status and latency.
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<Body>| {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                })
                .on_request(())
                .on_response(
                    |res: &Response, latency: Duration, _span: &tracing::Span| {
                        tracing::info!(status = res.status().as_u16(), micros = latency.as_micros() as u64, "response");
                    },
                )
                .on_failure(()),
        )
}

/// `Cache-Control` of a file whose name carries its content hash.
const CACHE_FOR_GOOD: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of every other static file, above all `index.html`.
const REVALIDATE: &str = "no-cache";

/// Whether a file name carries a content hash, as Trunk writes them: `name-<hash>.ext`,
/// the hash a 64-bit number in hex without leading zeros (so 16 digits, or fewer one time
/// in sixteen: `main-24b0257973e0812.css`).
fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    name.split(['-', '.', '_'])
        .skip(1)
        .any(|part| (12..=16).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_hexdigit()))
}

async fn security_headers(req: Request, next: Next, csp: HeaderValue, hsts: bool) -> Response {
    let path = req.uri().path().to_owned();
    let mut res = next.run(req).await;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Reset links carry a token in the URL: never let it leave in a Referer.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    if is_html {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if !path.starts_with("/api") && !headers.contains_key(header::CACHE_CONTROL) {
        // Trunk puts a content hash in every asset's name: cache those for good, and make
        // browsers revalidate everything else, above all the page that names them.
        let value = if !is_html && is_hashed_asset(&path) {
            CACHE_FOR_GOOD
        } else {
            REVALIDATE
        };
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    } else if path.starts_with("/api") && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        Config::from_lookup(|key| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v).to_owned())
                .or_else(|| (key == "SECRET_KEY").then(|| "07".repeat(32)))
        })
        .unwrap()
    }

    #[test]
    fn the_cdn_headers_file_carries_the_servers_csp() {
        let headers = include_str!("../../cdn/_headers");
        let expected = format!(
            "Content-Security-Policy: {}",
            content_security_policy(&config(&[]))
        );
        assert!(
            headers.lines().any(|l| l.trim() == expected),
            "cdn/_headers must say:\n  {expected}"
        );
        assert!(headers.contains("Referrer-Policy: no-referrer"));
        assert!(headers.contains("X-Content-Type-Options: nosniff"));
    }

    /// The `Cache-Control` values `cdn/_headers` gives `path`, with `*` matching anything.
    fn cdn_cache_control(headers: &str, path: &str) -> Vec<String> {
        fn matches(pattern: &str, path: &str) -> bool {
            match pattern.split_once('*') {
                None => pattern == path,
                Some((head, tail)) => {
                    path.len() >= head.len() + tail.len()
                        && path.starts_with(head)
                        && path.ends_with(tail)
                }
            }
        }
        let mut values = Vec::new();
        let mut applies = false;
        for line in headers.lines() {
            if line.starts_with('/') {
                applies = matches(line.trim(), path);
            } else if let Some(value) = line.trim().strip_prefix("Cache-Control:")
                && applies
            {
                values.push(value.trim().to_owned());
            }
        }
        values
    }

    #[test]
    fn the_cdn_headers_file_carries_the_servers_cache_policy() {
        let headers = include_str!("../../cdn/_headers");
        for asset in [
            "/microblog-3f2a9c0d1e4b5a67_bg.wasm",
            "/microblog-3f2a9c0d1e4b5a67.js",
            "/main-0123456789abcdef.css",
        ] {
            assert!(is_hashed_asset(asset));
            assert_eq!(
                cdn_cache_control(headers, asset),
                [CACHE_FOR_GOOD],
                "{asset}"
            );
        }
        for page in [
            "/",
            "/index.html",
            "/login",
            "/register",
            "/forgot",
            "/reset",
            "/explore",
            "/user/susan",
            "/posts/7/edit",
            "/settings/profile",
        ] {
            assert_eq!(cdn_cache_control(headers, page), [REVALIDATE], "{page}");
        }
    }

    #[test]
    fn a_separate_api_origin_may_be_called_and_show_images() {
        let csp = content_security_policy(&config(&[("API_ORIGIN", "https://api.example.com")]));
        assert!(
            csp.contains("connect-src 'self' https://api.example.com;"),
            "{csp}"
        );
        assert!(
            csp.contains("img-src 'self' data: https://api.example.com;"),
            "{csp}"
        );
        assert!(
            !csp.contains("'unsafe-inline'") && !csp.contains("'unsafe-eval'"),
            "{csp}"
        );
    }

    fn request_headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (k, v) in pairs {
            h.insert(k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn csrf_compares_origins_in_their_serialised_form() {
        let c = config(&[("ALLOWED_ORIGINS", "HTTPS://Example.com:443")]);
        for allowed in [
            "https://example.com",
            "https://EXAMPLE.com:443",
            "https://example.com/",
        ] {
            let h = request_headers(&[(header::ORIGIN, allowed)]);
            assert!(check_csrf(&h, &c).is_ok(), "{allowed}");
        }
        for refused in [
            "http://example.com",
            "https://example.com:8443",
            "https://example.com.evil.example",
            "https://example.com@evil.example",
            "null",
            "example.com",
        ] {
            let h = request_headers(&[(header::ORIGIN, refused)]);
            assert!(
                matches!(check_csrf(&h, &c), Err(ApiError::Forbidden(_))),
                "{refused}"
            );
        }
    }

    #[test]
    fn csrf_accepts_the_host_the_request_was_sent_to() {
        let c = config(&[("ALLOWED_ORIGINS", "https://example.com")]);
        let ok = request_headers(&[
            (header::ORIGIN, "http://localhost:8080"),
            (header::HOST, "LocalHost:8080"),
        ]);
        assert!(check_csrf(&ok, &c).is_ok());
        let ok = request_headers(&[
            (header::ORIGIN, "https://blog.example"),
            (header::HOST, "blog.example:443"),
        ]);
        assert!(check_csrf(&ok, &c).is_ok());
        for host in [
            "localhost:8081",
            "evil.example@localhost:8080",
            "localhost:8080/x",
        ] {
            let h = request_headers(&[
                (header::ORIGIN, "http://localhost:8080"),
                (header::HOST, host),
            ]);
            assert!(check_csrf(&h, &c).is_err(), "{host}");
        }
    }

    #[tokio::test]
    async fn cors_answers_an_allowed_origin_whatever_its_configured_spelling() {
        use tower::ServiceExt;
        let c = config(&[("ALLOWED_ORIGINS", "HTTPS://Example.com:443")]);
        let app = Router::new()
            .route("/", axum::routing::get(|| async { "ok" }))
            .layer(cors(&c));
        let preflight = |origin: &'static str| {
            axum::http::Request::builder()
                .method(Method::OPTIONS)
                .uri("/")
                .header(header::ORIGIN, origin)
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "PUT")
                .body(Body::empty())
                .unwrap()
        };
        let res = app
            .clone()
            .oneshot(preflight("https://example.com"))
            .await
            .unwrap();
        assert_eq!(
            res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://example.com"
        );
        assert_eq!(
            res.headers()[header::ACCESS_CONTROL_ALLOW_CREDENTIALS],
            "true"
        );
        let res = app
            .oneshot(preflight("https://evil.example"))
            .await
            .unwrap();
        assert!(
            !res.headers()
                .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        );
    }

    #[test]
    fn only_content_hashed_files_are_immutable() {
        assert!(is_hashed_asset("/microblog-3f2a9c0d1e4b5a67_bg.wasm"));
        assert!(is_hashed_asset("/main-0123456789abcdef.css"));
        assert!(is_hashed_asset("/main-24b0257973e0812.css"));
        assert!(is_hashed_asset("/favicon-43baf4bb069ab9a.svg"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/_headers"));
        assert!(!is_hashed_asset("/favicon.ico"));
        assert!(!is_hashed_asset("/user/susan"));
    }
}
