//! The links in a post's text, found by a small scanner (a regex crate would weigh more in
//! the first download than this whole module). The result is a list of pieces that
//! `components::PostText` turns into DOM nodes: text stays text, whatever it holds, so no
//! post can inject markup (see `docs/security.md`, "Text that users write").
//!
//! What becomes a link:
//! - an address that starts with `http://` or `https://` (any case), written in printable
//!   ASCII, whose host is a plain name or IPv4 address (letters, digits, `-` and `.`), with
//!   no user name before the host (`https://bank.example@evil.example` is not a link). A
//!   run of text that holds any other character (a look-alike letter from another script, a
//!   direction override) is left as text, whole: the link a reader sees is always exactly
//!   where it goes. Closing punctuation after an address (`.`, `,`, `)` without its `(`…)
//!   stays outside it;
//! - `@name`, where `name` is a possible username, not preceded by a letter or digit (so
//!   email addresses stay text): a link to that user's page.

/// One piece of a post's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    /// An `http(s)` address, exactly as written: the link's target and its text.
    Url(&'a str),
    /// `@name`: the name, without the `@`.
    Mention(&'a str),
}

/// Splits `text` into text, addresses and mentions, in order; joined, they give `text` back.
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut plain = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Both markers are ASCII, so `i` is a char boundary whenever one matches.
        let found = match bytes[i] {
            b'h' | b'H' if !word_before(bytes, i) => match url_at(text, i) {
                Scan::Found(end) => Some((Piece::Url(&text[i..end]), end)),
                Scan::Skip(end) => {
                    i = end;
                    continue;
                }
                Scan::No => None,
            },
            b'@' if !name_before(bytes, i) => {
                mention_at(text, i + 1).map(|end| (Piece::Mention(&text[i + 1..end]), end))
            }
            _ => None,
        };
        match found {
            Some((piece, end)) => {
                if plain < i {
                    out.push(Piece::Text(&text[plain..i]));
                }
                out.push(piece);
                plain = end;
                i = end;
            }
            None => i += 1,
        }
    }
    if plain < text.len() {
        out.push(Piece::Text(&text[plain..]));
    }
    out
}

enum Scan {
    /// An address ending at this byte.
    Found(usize),
    /// Looked like an address but is not one: leave the whole run, to this byte, as text.
    Skip(usize),
    /// Not the start of an address.
    No,
}

fn word_before(bytes: &[u8], i: usize) -> bool {
    i > 0 && bytes[i - 1].is_ascii_alphanumeric()
}

fn name_before(bytes: &[u8], i: usize) -> bool {
    i > 0
        && (bytes[i - 1].is_ascii_alphanumeric()
            || matches!(bytes[i - 1], b'_' | b'.' | b'-' | b'@'))
}

/// Where an address starting at `start` ends, if it is one.
fn url_at(text: &str, start: usize) -> Scan {
    let rest = &text[start..];
    let scheme = if starts_with_ignore_case(rest, "https://") {
        8
    } else if starts_with_ignore_case(rest, "http://") {
        7
    } else {
        return Scan::No;
    };
    // The run: up to white space or a character that never belongs in an address.
    let run = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`'))
        .unwrap_or(rest.len());
    let skip = Scan::Skip(start + run);
    let candidate = &rest[..run];
    if !candidate.bytes().all(|b| b.is_ascii_graphic()) {
        return skip;
    }
    let url = trim_closing(candidate);
    let after_scheme = &url[scheme..];
    let authority = after_scheme
        .find(['/', '?', '#'])
        .map_or(after_scheme, |end| &after_scheme[..end]);
    if valid_authority(authority) {
        Scan::Found(start + url.len())
    } else {
        skip
    }
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// The address without the punctuation that closes the sentence or bracket around it.
fn trim_closing(mut url: &str) -> &str {
    loop {
        let Some(last) = url.chars().last() else {
            return url;
        };
        let unbalanced = |open: char| url.matches(open).count() < url.matches(last).count();
        let trim = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*' => true,
            ')' => unbalanced('('),
            ']' => unbalanced('['),
            '}' => unbalanced('{'),
            _ => false,
        };
        if !trim {
            return url;
        }
        url = &url[..url.len() - 1];
    }
}

/// `host` or `host:port`, the host made of dot-separated labels of letters, digits and `-`.
fn valid_authority(authority: &str) -> bool {
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let port_ok =
        port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    port_ok && host.len() <= 253 && host.split('.').all(label_ok)
}

/// Where a username starting at `start` (just after the `@`) ends, if it is one.
fn mention_at(text: &str, start: usize) -> Option<usize> {
    let rest = &text[start..];
    let run = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .unwrap_or(rest.len());
    // A full stop after a name ends the sentence.
    let name = rest[..run].trim_end_matches('.');
    let possible = (wire::limits::USERNAME_MIN_CHARS..=wire::limits::USERNAME_MAX_CHARS)
        .contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && !name.bytes().all(|b| b.is_ascii_digit());
    possible.then_some(start + name.len())
}

#[cfg(test)]
mod tests {
    use super::Piece::{Mention, Text, Url};
    use super::*;

    #[test]
    fn plain_text_is_one_piece() {
        assert_eq!(pieces("hello world"), vec![Text("hello world")]);
        assert_eq!(pieces(""), vec![]);
    }

    #[test]
    fn addresses_become_links_without_closing_punctuation() {
        assert_eq!(
            pieces("see https://example.com/a?b=1#c, then"),
            vec![
                Text("see "),
                Url("https://example.com/a?b=1#c"),
                Text(", then")
            ]
        );
        assert_eq!(
            pieces("(http://example.com/wiki/Rust_(language)) ok."),
            vec![
                Text("("),
                Url("http://example.com/wiki/Rust_(language)"),
                Text(") ok.")
            ]
        );
        assert_eq!(
            pieces("HTTPS://EXAMPLE.COM:8443."),
            vec![Url("HTTPS://EXAMPLE.COM:8443"), Text(".")]
        );
        assert_eq!(
            pieces("<https://a.example>"),
            vec![Text("<"), Url("https://a.example"), Text(">")]
        );
    }

    #[test]
    fn other_schemes_and_odd_hosts_stay_text() {
        for text in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(document.cookie)",
            "data:text/html,<script>alert(1)</script>",
            "https://javascript:alert(1)",
            "https://bank.example@evil.example/",
            "https://bank.example\\@evil.example/",
            "https://",
            "https:///path",
            "https://exa%6Dple.com",
            "https://[::1]/",
            "https://-bad-.example",
            "https://a..example",
            "xhttps://example.com",
            "ftp://example.com",
        ] {
            assert!(
                pieces(text).iter().all(|p| matches!(p, Text(_))),
                "{text:?} gave {:?}",
                pieces(text)
            );
        }
    }

    #[test]
    fn look_alike_and_invisible_characters_keep_the_whole_run_text() {
        // Cyrillic 'а' in the host, a right-to-left override, a zero-width space, a
        // full-width solidus: none of them is ever part of a link, nor is what follows.
        for text in [
            "https://exаmple.com/",
            "https://example.com/\u{202e}gpj.exe",
            "https://exam\u{200b}ple.com",
            "https://example.com／evil",
            "https://example.com/https://other.example",
        ] {
            let got = pieces(text);
            if text.ends_with("other.example") {
                // Printable ASCII throughout: one address, the inner one part of its path.
                assert_eq!(got, vec![Url(text)]);
            } else {
                assert_eq!(got, vec![Text(text)], "{text:?}");
            }
        }
        assert_eq!(
            pieces("go https://exаmple.com now https://example.com"),
            vec![
                Text("go https://exаmple.com now "),
                Url("https://example.com")
            ]
        );
    }

    #[test]
    fn mentions_link_possible_usernames() {
        assert_eq!(
            pieces("hi @susan, and @john.doe."),
            vec![
                Text("hi "),
                Mention("susan"),
                Text(", and "),
                Mention("john.doe"),
                Text(".")
            ]
        );
        assert_eq!(pieces("@ab @123 @_x"), vec![Text("@ab @123 @_x")]);
        assert_eq!(
            pieces("mail me: susan@example.com"),
            vec![Text("mail me: susan@example.com")]
        );
        assert_eq!(pieces("@@susan"), vec![Text("@@susan")]);
        let long = format!("@{}", "a".repeat(65));
        assert_eq!(pieces(&long), vec![Text(&long)]);
        assert_eq!(
            pieces("(@susan)"),
            vec![Text("("), Mention("susan"), Text(")")]
        );
    }

    #[test]
    fn markup_is_just_text() {
        let text = "<img src=x onerror=alert(1)> <a href=\"javascript:alert(1)\">x</a>";
        assert_eq!(pieces(text), vec![Text(text)]);
    }

    #[test]
    fn the_pieces_give_the_text_back() {
        for text in [
            "a https://x.example/(y) @bob. é https://exаmple.com @",
            "héllo @wörld https://x.example",
            "@susan@example.com http://a.b:99999",
            "…https://x.example…",
        ] {
            let joined: String = pieces(text)
                .iter()
                .map(|p| match p {
                    Text(t) | Url(t) => t.to_string(),
                    Mention(name) => format!("@{name}"),
                })
                .collect();
            assert_eq!(joined, text);
        }
    }
}
