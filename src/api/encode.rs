//! Small encoders the client needs, kept in Rust so they are tested natively and work for
//! any Unicode input (the browser's `btoa` throws on characters outside Latin-1).

/// Standard base64 with padding, as HTTP Basic wants it.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The `Authorization` value for HTTP Basic: UTF-8 `user:password`, base64-encoded.
pub fn basic_auth(user: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
}

/// Percent-encodes a query-string value (everything but RFC 3986's unreserved characters).
pub fn query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected, "{input:?}");
        }
    }

    #[test]
    fn basic_auth_encodes_utf8_passwords() {
        assert_eq!(basic_auth("susan", "dog"), "Basic c3VzYW46ZG9n");
        assert_eq!(basic_auth("zoë", "pässwörd"), "Basic em/Dqzpww6Rzc3fDtnJk");
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            query_value("2026-11-29T14:12:51.349565Z"),
            "2026-11-29T14%3A12%3A51.349565Z"
        );
        assert_eq!(query_value("a b&c=d"), "a%20b%26c%3Dd");
        assert_eq!(query_value("é"), "%C3%A9");
    }
}
