//! The SPA on a static host: `cargo xtask dist --api-origin URL` points a built `dist/`
//! at an API on another origin, and the nginx configurations the topology tests use are
//! generated from `cdn/_headers` and `cdn/_redirects`, the files a Netlify or Cloudflare
//! Pages host reads, so what the tests prove is what those files say.

use crate::compress;
use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::path::Path;

/// The `<meta>` the SPA reads its API base from (src/api/config.rs).
const API_META: &str = "microblog-api-base";

/// One block of a `_headers` file: a path pattern and the headers for what it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderRule {
    pub pattern: String,
    pub headers: Vec<(String, String)>,
}

/// Parses a Netlify-style `_headers` file: a pattern at the start of a line, then its
/// headers indented below it as `Name: value`; `#` starts a comment line.
pub fn parse_headers(text: &str) -> Result<Vec<HeaderRule>> {
    let mut rules: Vec<HeaderRule> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if !line.starts_with([' ', '\t']) {
            rules.push(HeaderRule {
                pattern: trimmed.to_owned(),
                headers: Vec::new(),
            });
            continue;
        }
        let Some(rule) = rules.last_mut() else {
            bail!("_headers line {}: a header before any path", n + 1);
        };
        let Some((name, value)) = trimmed.split_once(':') else {
            bail!("_headers line {}: expected `Name: value`", n + 1);
        };
        rule.headers
            .push((name.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(rules)
}

/// One rule of a `_redirects` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub from: String,
    pub to: String,
    pub status: u16,
}

/// Parses a Netlify-style `_redirects` file: `from to [status]` per line.
pub fn parse_redirects(text: &str) -> Result<Vec<Redirect>> {
    let mut rules = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let (from, to, status) = match words.as_slice() {
            [from, to] => (*from, *to, 301),
            [from, to, status] => (
                *from,
                *to,
                status
                    .trim_end_matches('!')
                    .parse()
                    .with_context(|| format!("_redirects line {}: status", n + 1))?,
            ),
            _ => bail!("_redirects line {}: expected `from to [status]`", n + 1),
        };
        rules.push(Redirect {
            from: from.to_owned(),
            to: to.to_owned(),
            status,
        });
    }
    Ok(rules)
}

/// `csp` with `origin` added to `connect-src` and `img-src` (once).
pub fn csp_with_api(csp: &str, origin: &str) -> String {
    csp.split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|directive| {
            let mut words: Vec<&str> = directive.split_whitespace().collect();
            if matches!(words.first(), Some(&("connect-src" | "img-src")))
                && !words.contains(&origin)
            {
                words.push(origin);
            }
            words.join(" ")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `_headers` with the API's origin in every CSP it sets.
pub fn headers_with_api(text: &str, origin: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.lines() {
        match line.split_once("Content-Security-Policy:") {
            Some((indent, csp)) if line.starts_with([' ', '\t']) => {
                let _ = writeln!(
                    out,
                    "{indent}Content-Security-Policy: {}",
                    csp_with_api(csp, origin)
                );
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// `index.html` with the API base `<meta>` set to `origin`.
pub fn index_with_api(html: &str, origin: &str) -> Result<String> {
    let start = html
        .find(&format!("<meta name=\"{API_META}\""))
        .with_context(|| format!("index.html has no <meta name=\"{API_META}\">"))?;
    let end = start
        + html[start..]
            .find('>')
            .context("index.html: the API <meta> is not closed")?
        + 1;
    Ok(format!(
        "{}<meta name=\"{API_META}\" content=\"{}\">{}",
        &html[..start],
        escape_attr(origin),
        &html[end..]
    ))
}

fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

/// An http(s) origin, as browsers serialise it: lowercase scheme and host, no path.
pub fn origin(url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/');
    let (scheme, rest) = url
        .split_once("://")
        .with_context(|| format!("{url:?} is not an http(s) origin"))?;
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https")
        || rest.is_empty()
        || rest.contains(['/', '?', '#', '@', ' '])
    {
        bail!("{url:?} is not an http(s) origin (scheme://host[:port], no path)");
    }
    Ok(format!("{scheme}://{}", rest.to_ascii_lowercase()))
}

/// Points the built SPA in `dir` at the API on `api_origin`: the `<meta>` in
/// `index.html` and the CSP in `_headers`, and their precompressed copies. Only these two
/// files change: no file named with an integrity hash is touched, and the wasm is not
/// rebuilt. Running it again with another origin replaces the meta; the CSP keeps every
/// origin it was given.
pub fn point_at_api(dir: &Path, api_origin: &str) -> Result<()> {
    let api_origin = origin(api_origin)?;
    let index = dir.join("index.html");
    let html = std::fs::read_to_string(&index)
        .with_context(|| format!("reading {} (build the SPA first)", index.display()))?;
    write_with_variants(&index, &index_with_api(&html, &api_origin)?)?;
    let headers = dir.join("_headers");
    let text = std::fs::read_to_string(&headers)
        .with_context(|| format!("reading {}", headers.display()))?;
    write_with_variants(&headers, &headers_with_api(&text, &api_origin))?;
    Ok(())
}

/// Writes `path` and replaces its `.br` and `.gz` beside it (or removes stale ones).
fn write_with_variants(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    for (suffix, encoded) in [
        (".br", compress::brotli(text.as_bytes())?),
        (".gz", compress::gzip(text.as_bytes())?),
    ] {
        let variant = format!("{}{suffix}", path.display());
        if Path::new(&variant).exists() || encoded.len() < text.len() {
            std::fs::write(&variant, encoded).with_context(|| format!("writing {variant}"))?;
        }
    }
    Ok(())
}

/// Copies the build in `from` to `to` (a fresh folder), so a test can point its own copy
/// at its own API without touching `dist/`.
pub fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Where nginx keeps its files for one run: the pid file, logs and temporary folders.
pub struct NginxRun<'a> {
    pub prefix: &'a Path,
    pub port: u16,
}

impl NginxRun<'_> {
    fn head(&self) -> String {
        let p = self.prefix.display();
        // As root, the workers would otherwise switch to `nobody`, who cannot read a
        // private temporary folder.
        let user = if crate::proc::is_root() {
            "user root;\n"
        } else {
            ""
        };
        format!(
            "# Generated by cargo xtask (xtask/src/cdn.rs); do not edit.\n\
             {user}worker_processes 1;\n\
             daemon off;\n\
             pid {p}/nginx.pid;\n\
             error_log {p}/error.log warn;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n\
             \x20 include /etc/nginx/mime.types;\n\
             \x20 default_type application/octet-stream;\n\
             \x20 access_log off;\n\
             \x20 client_body_temp_path {p}/body;\n\
             \x20 proxy_temp_path {p}/proxy;\n\
             \x20 fastcgi_temp_path {p}/fastcgi;\n\
             \x20 uwsgi_temp_path {p}/uwsgi;\n\
             \x20 scgi_temp_path {p}/scgi;\n\
             \x20 server_tokens off;\n"
        )
    }
}

/// nginx serving the SPA in `root` as a static host would by `_headers` and
/// `_redirects`: every rule's headers on what its pattern matches (all matching rules
/// apply, as on Netlify), an existing file before any redirect rule, and the
/// precompressed `.gz` beside a file when the browser accepts gzip.
pub fn nginx_static(
    run: &NginxRun<'_>,
    root: &Path,
    headers: &[HeaderRule],
    redirects: &[Redirect],
) -> Result<String> {
    let mut conf = run.head();
    let _ = write!(
        conf,
        "  server {{\n    listen 127.0.0.1:{};\n    root {};\n    gzip_static on;\n    gzip_vary on;\n",
        run.port,
        root.display()
    );
    let fallback = fallback(redirects)?;
    // Every pattern gets a location holding its headers and those of `/*`; nginx applies
    // one location's `add_header` set, so shared headers are repeated in each.
    let global: Vec<&(String, String)> = headers
        .iter()
        .filter(|r| r.pattern == "/*")
        .flat_map(|r| &r.headers)
        .collect();
    for rule in headers.iter().filter(|r| r.pattern != "/*") {
        let location = location(&rule.pattern)?;
        let _ = writeln!(conf, "    location {location} {{");
        for (name, value) in global.iter().copied().chain(&rule.headers) {
            let _ = writeln!(conf, "      add_header {name} {} always;", quote(value));
        }
        let _ = writeln!(conf, "      try_files $uri {fallback};\n    }}");
    }
    // Everything else: the global headers only.
    conf.push_str("    location / {\n");
    for (name, value) in &global {
        let _ = writeln!(conf, "      add_header {name} {} always;", quote(value));
    }
    let _ = writeln!(conf, "      try_files $uri {fallback};\n    }}");
    conf.push_str("  }\n}\n");
    Ok(conf)
}

/// What a missing file becomes: the target of a `/* … 200` rewrite, or a 404.
fn fallback(redirects: &[Redirect]) -> Result<String> {
    match redirects {
        [] => Ok("=404".to_owned()),
        [r] if r.from == "/*" && r.status == 200 && r.to.starts_with('/') => Ok(r.to.clone()),
        _ => bail!(
            "the nginx generator knows one _redirects rule, `/* /index.html 200` (the SPA \
             fallback); extend xtask/src/cdn.rs for more"
        ),
    }
}

/// The nginx location for a `_headers` pattern: exact paths, `/dir/*` prefixes and
/// `/*.ext` suffixes.
fn location(pattern: &str) -> Result<String> {
    if let Some(ext) = pattern.strip_prefix("/*.") {
        if ext.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Ok(format!("~* \\.{ext}$"));
        }
    } else if let Some(dir) = pattern.strip_suffix('*') {
        if dir.ends_with('/') && !dir.contains('*') {
            return Ok(format!("^~ {dir}"));
        }
    } else if !pattern.contains('*') && pattern.starts_with('/') {
        return Ok(if pattern == "/" {
            "= /".to_owned()
        } else {
            format!("= {pattern}")
        });
    }
    bail!("the nginx generator does not know the _headers pattern {pattern:?}")
}

fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// nginx as the reverse proxy in front of API instances: round-robin over `upstreams`,
/// the client's address appended to `X-Forwarded-For` (what `TRUST_PROXY` reads), and the
/// instance that answered in `X-Upstream` (for the tests, to see both take turns).
pub fn nginx_proxy(run: &NginxRun<'_>, upstreams: &[String]) -> String {
    let mut conf = run.head();
    conf.push_str("  upstream api {\n");
    for u in upstreams {
        let _ = writeln!(conf, "    server {u};");
    }
    conf.push_str("    keepalive 16;\n  }\n");
    let _ = write!(
        conf,
        "  server {{\n    listen 127.0.0.1:{};\n    location / {{\n      proxy_pass http://api;\n      \
         proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n      \
         proxy_set_header Host $http_host;\n      \
         proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n      \
         proxy_set_header X-Forwarded-Proto $scheme;\n      \
         proxy_next_upstream off;\n      \
         add_header X-Upstream $upstream_addr always;\n    }}\n  }}\n}}\n",
        run.port
    );
    conf
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADERS: &str = "# comment\n/*\n  X-A: 1\n  Content-Security-Policy: default-src 'self'; img-src 'self' data:; connect-src 'self'\n\
                           /*.wasm\n  Cache-Control: immutable\n/\n  Cache-Control: no-cache\n/user/*\n  Cache-Control: no-cache\n";

    #[test]
    fn the_repository_files_parse_and_generate() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("cdn");
        let headers =
            parse_headers(&std::fs::read_to_string(root.join("_headers")).unwrap()).unwrap();
        let redirects =
            parse_redirects(&std::fs::read_to_string(root.join("_redirects")).unwrap()).unwrap();
        assert_eq!(
            redirects,
            [Redirect {
                from: "/*".into(),
                to: "/index.html".into(),
                status: 200
            }]
        );
        let run = NginxRun {
            prefix: Path::new("/tmp/x"),
            port: 9,
        };
        let conf = nginx_static(&run, Path::new("/srv/dist"), &headers, &redirects).unwrap();
        assert!(conf.contains("location ~* \\.wasm$ {"), "{conf}");
        assert!(conf.contains("try_files $uri /index.html;"));
    }

    #[test]
    fn headers_parse_into_rules() {
        let rules = parse_headers(HEADERS).unwrap();
        assert_eq!(rules.len(), 4);
        assert_eq!(rules[0].pattern, "/*");
        assert_eq!(rules[0].headers[0], ("X-A".into(), "1".into()));
        assert!(parse_headers("  X-A: 1\n").is_err());
    }

    #[test]
    fn every_location_carries_the_global_headers_and_its_own() {
        let rules = parse_headers(HEADERS).unwrap();
        let run = NginxRun {
            prefix: Path::new("/tmp/x"),
            port: 9,
        };
        let conf = nginx_static(&run, Path::new("/srv"), &rules, &[]).unwrap();
        let wasm = conf.split("location ~* \\.wasm$ {").nth(1).unwrap();
        let wasm = &wasm[..wasm.find('}').unwrap()];
        assert!(wasm.contains("add_header X-A \"1\" always;"));
        assert!(wasm.contains("add_header Cache-Control \"immutable\" always;"));
        assert!(wasm.contains("try_files $uri =404;"));
        assert!(conf.contains("location = / {"));
        assert!(conf.contains("location ^~ /user/ {"));
    }

    #[test]
    fn the_api_origin_joins_connect_and_img_src_once() {
        let once = headers_with_api(HEADERS, "http://127.0.0.1:9000");
        assert!(once.contains(
            "Content-Security-Policy: default-src 'self'; img-src 'self' data: http://127.0.0.1:9000; connect-src 'self' http://127.0.0.1:9000\n"
        ));
        assert_eq!(headers_with_api(&once, "http://127.0.0.1:9000"), once);
    }

    #[test]
    fn the_meta_is_replaced_whatever_it_held() {
        let html =
            "<head><meta name=\"microblog-api-base\" content=\"\">\n<meta name=\"x\"></head>";
        let once = index_with_api(html, "https://api.example.com").unwrap();
        assert_eq!(
            once,
            "<head><meta name=\"microblog-api-base\" content=\"https://api.example.com\">\n<meta name=\"x\"></head>"
        );
        let twice = index_with_api(&once, "http://127.0.0.1:1").unwrap();
        assert!(twice.contains("content=\"http://127.0.0.1:1\">"));
        assert!(index_with_api("<head></head>", "http://a").is_err());
    }

    #[test]
    fn origins_are_checked() {
        assert_eq!(
            origin("HTTPS://API.Example.com/").unwrap(),
            "https://api.example.com"
        );
        assert_eq!(
            origin("http://127.0.0.1:8081").unwrap(),
            "http://127.0.0.1:8081"
        );
        for bad in ["api.example.com", "ftp://x", "https://x/api", "https://"] {
            assert!(origin(bad).is_err(), "{bad}");
        }
    }
}
