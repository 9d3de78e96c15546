//! The SPA's static files: precompressed variants chosen by `Accept-Encoding`, and the
//! caching policy (hashed assets for good, `index.html` revalidated).

use std::path::Path;

use crate::helpers::{TestApp, spawn_app_with};

const WASM: &str = "microblog-0123456789abcdef_bg.wasm";
// Trunk drops leading zeros of the hash: 15 digits here.
const CSS: &str = "main-24b0257973e0812.css";

/// Writes `name` and its `.br` and `.gz` variants, each with distinct bytes, so an answer
/// shows which one was sent.
fn write_variants(dir: &Path, name: &str, plain: &[u8]) {
    std::fs::write(dir.join(name), plain).unwrap();
    std::fs::write(dir.join(format!("{name}.br")), [b"br:", plain].concat()).unwrap();
    std::fs::write(dir.join(format!("{name}.gz")), [b"gz:", plain].concat()).unwrap();
}

/// A server on a dist folder with index.html, a hashed wasm, a hashed css file without a
/// brotli variant, and an unhashed file.
async fn app_with_dist() -> (TestApp, tempfile::TempDir) {
    let dist = tempfile::tempdir().unwrap();
    write_variants(
        dist.path(),
        "index.html",
        b"<!doctype html><title>SPA</title>",
    );
    write_variants(dist.path(), WASM, b"\0asm-module");
    std::fs::write(dist.path().join(CSS), b"body{}").unwrap();
    std::fs::write(dist.path().join(format!("{CSS}.gz")), b"gz:body{}").unwrap();
    std::fs::write(dist.path().join("_headers"), b"/*").unwrap();
    let app = spawn_app_with(&[("STATIC_DIR", &dist.path().display().to_string())]).await;
    (app, dist)
}

struct Fetched {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Fetched {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[track_caller]
    fn assert_varies_by_encoding(&self) {
        let vary: Vec<String> = self
            .headers
            .get_all("vary")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_ascii_lowercase())
            .collect();
        assert!(vary.contains(&"accept-encoding".to_owned()), "{vary:?}");
    }
}

async fn fetch(app: &TestApp, path: &str, accept_encoding: Option<&str>) -> Fetched {
    let mut request = app.http.get(format!("{}{path}", app.address));
    if let Some(accept) = accept_encoding {
        request = request.header("Accept-Encoding", accept);
    }
    let response = request.send().await.unwrap();
    Fetched {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await.unwrap().to_vec(),
    }
}

#[tokio::test]
async fn brotli_is_sent_to_a_browser_that_accepts_it_with_the_files_own_type() {
    let (app, _dist) = app_with_dist().await;

    let wasm = fetch(&app, &format!("/{WASM}"), Some("gzip, deflate, br, zstd")).await;

    assert_eq!(wasm.status, 200);
    assert_eq!(wasm.header("content-encoding"), Some("br"));
    assert_eq!(wasm.body, b"br:\0asm-module");
    // instantiateStreaming insists on this type.
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    wasm.assert_varies_by_encoding();
}

#[tokio::test]
async fn gzip_when_brotli_is_not_accepted_or_not_there_and_plain_for_anyone_else() {
    let (app, _dist) = app_with_dist().await;

    let gzip_only = fetch(&app, &format!("/{WASM}"), Some("gzip")).await;
    let refused_br = fetch(&app, &format!("/{WASM}"), Some("br;q=0, gzip")).await;
    let no_br_file = fetch(&app, &format!("/{CSS}"), Some("br, gzip")).await;
    let plain = fetch(&app, &format!("/{WASM}"), None).await;
    let identity = fetch(&app, &format!("/{WASM}"), Some("identity")).await;

    for (what, fetched) in [("gzip only", &gzip_only), ("br;q=0", &refused_br)] {
        assert_eq!(fetched.header("content-encoding"), Some("gzip"), "{what}");
        assert_eq!(fetched.body, b"gz:\0asm-module", "{what}");
        fetched.assert_varies_by_encoding();
    }
    assert_eq!(no_br_file.header("content-encoding"), Some("gzip"));
    assert_eq!(no_br_file.body, b"gz:body{}");
    assert_eq!(no_br_file.header("content-type"), Some("text/css"));
    for (what, fetched) in [("no Accept-Encoding", &plain), ("identity", &identity)] {
        assert_eq!(fetched.status, 200, "{what}");
        assert_eq!(fetched.header("content-encoding"), None, "{what}");
        assert_eq!(fetched.body, b"\0asm-module", "{what}");
        fetched.assert_varies_by_encoding();
    }
}

#[tokio::test]
async fn hashed_assets_are_cached_for_good_and_the_page_is_revalidated() {
    let (app, _dist) = app_with_dist().await;

    for path in [format!("/{WASM}"), format!("/{CSS}")] {
        for accept in [Some("br, gzip"), None] {
            let asset = fetch(&app, &path, accept).await;
            assert_eq!(asset.status, 200, "{path}");
            assert_eq!(
                asset.header("cache-control"),
                Some("public, max-age=31536000, immutable"),
                "{path} {accept:?}"
            );
        }
    }
    // The page, by its name, at the root and as the fallback of a client route: brotli,
    // revalidated on every visit, with the CSP.
    for path in ["/", "/index.html", "/user/susan", "/login?next=%2F"] {
        let page = fetch(&app, path, Some("gzip, deflate, br")).await;
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(page.header("content-encoding"), Some("br"), "{path}");
        assert_eq!(page.body, b"br:<!doctype html><title>SPA</title>", "{path}");
        assert_eq!(page.header("content-type"), Some("text/html"), "{path}");
        assert_eq!(page.header("cache-control"), Some("no-cache"), "{path}");
        assert!(page.header("content-security-policy").is_some(), "{path}");
        page.assert_varies_by_encoding();
    }
    let unhashed = fetch(&app, "/_headers", None).await;
    assert_eq!(unhashed.header("cache-control"), Some("no-cache"));
}
