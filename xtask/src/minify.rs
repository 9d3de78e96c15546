//! Smaller text files for the release build: what a first visit fetches besides the wasm.

use crate::proc::{self, Ctx};
use anyhow::{Result, bail};
use std::path::Path;

/// `terser` (from e2e/node_modules, like wasm-opt): compressed and mangled, strings kept;
/// for an ES module (`module`), its exported names too, and its top level is its own.
pub fn terser(ctx: &Ctx, input: &Path, output: &Path, module: bool) -> Result<()> {
    let mut cmd = ctx.cmd("terser");
    cmd.arg(input);
    if module {
        cmd.arg("--module");
    }
    proc::run(cmd.args(["--compress", "--mangle", "--output"]).arg(output))
}

/// `html` without its `<!-- -->` comments.
pub fn strip_html_comments(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        match rest[start..].find("-->") {
            Some(end) => rest = &rest[start + end + "-->".len()..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// CSS without its comments, indentation and blank lines; nothing else changes (a space
/// in a selector means something). Strings are read as strings, so a `/*` inside one stays.
pub fn compact_css(css: &str) -> Result<String> {
    let mut out = String::with_capacity(css.len());
    let mut chars = css.chars().peekable();
    let mut quote = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == '\\' {
                    out.extend(chars.next());
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '/' && chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                loop {
                    match chars.next() {
                        Some('/') if last == '*' => break,
                        Some(c) => last = c,
                        None => bail!("an unclosed comment in the stylesheet"),
                    }
                }
            }
            None => {
                if c == '"' || c == '\'' {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    Ok(out
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n"))
}

#[cfg(test)]
mod tests {
    use super::{compact_css, strip_html_comments};

    #[test]
    fn html_comments_go_and_the_markup_stays() {
        let html = "<head>\n  <!-- a note\n  over lines -->\n  <meta a=\"b\">\n</head><!---->x";
        assert_eq!(
            strip_html_comments(html),
            "<head>\n  \n  <meta a=\"b\">\n</head>x"
        );
        assert_eq!(strip_html_comments("a <!-- open"), "a ");
    }

    #[test]
    fn css_keeps_every_rule_and_loses_comments_and_indentation() {
        let css = "/* colours */\n:root {\n  --a: #fff; /* white */\n}\n\nnav a + a::before {\n  content: \": \";\n}\n";
        assert_eq!(
            compact_css(css).unwrap(),
            ":root {\n--a: #fff;\n}\nnav a + a::before {\ncontent: \": \";\n}"
        );
    }

    #[test]
    fn css_strings_are_kept_whole() {
        let css = "/* it's a note */\na { content: \"/* kept */\"; }\nb { content: 'it\\'s'; }";
        assert_eq!(
            compact_css(css).unwrap(),
            "a { content: \"/* kept */\"; }\nb { content: 'it\\'s'; }"
        );
        assert!(compact_css("a {} /* open").is_err());
    }
}
