//! Time-based one-time passwords (RFC 6238 over RFC 4226) and recovery codes.
//!
//! As docs/security.md, "Two-factor authentication", has it: HMAC-SHA-1, 6 digits,
//! 30-second steps, a 160-bit secret from the OS CSPRNG, shown base32 (RFC 4648, unpadded)
//! as authenticator apps expect. Codes of steps T-1..T+1 are accepted; refusing a step not
//! newer than the last accepted one (replay) is the caller's part, since it needs the
//! stored step.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;

/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Seconds per step.
pub const STEP_SECS: u64 = 30;
/// Secret length: 160 bits, the HMAC-SHA-1 output size (RFC 4226 §4).
pub const SECRET_BYTES: usize = 20;
/// Steps accepted either side of the current one, for clock drift and typing time.
pub const WINDOW: i64 = 1;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new secret, base32 (32 characters).
pub fn generate_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base32_encode(&bytes)
}

/// The step a Unix time falls in.
pub fn step_at(unix_secs: u64) -> i64 {
    i64::try_from(unix_secs / STEP_SECS).unwrap_or(i64::MAX)
}

/// The current step.
pub fn current_step() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    step_at(now.as_secs())
}

/// HOTP (RFC 4226 §5.3): HMAC-SHA-1 of the counter, dynamically truncated, modulo 10^digits.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    binary % 10u32.pow(digits)
}

/// The 6-digit code of `step`, zero-padded.
pub fn code_at(secret: &[u8], step: i64) -> String {
    let code = hotp(secret, u64::try_from(step).unwrap_or(0), DIGITS);
    format!("{code:0width$}", width = DIGITS as usize)
}

/// The step within `now_step ± WINDOW` whose code is `code`, if any. Every candidate is
/// compared in constant time, and all of them are, so timing says nothing about which.
pub fn matching_step(secret_base32: &str, code: &str, now_step: i64) -> Option<i64> {
    let secret = base32_decode(secret_base32)?;
    let code = normalize_code(code)?;
    let mut found = None;
    for step in (now_step - WINDOW..=now_step + WINDOW).rev() {
        if step >= 0 && constant_time_eq(code_at(&secret, step).as_bytes(), code.as_bytes()) {
            found = found.or(Some(step));
        }
    }
    found
}

/// A code as typed: digits, perhaps with spaces or a dash in the middle. `None` unless
/// it is exactly six digits.
pub fn normalize_code(code: &str) -> Option<String> {
    let digits: String = code.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    (digits.len() == DIGITS as usize && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(digits)
}

/// The `otpauth://` URI that authenticator apps read from a QR code (the Key Uri Format
/// of Google Authenticator, which every app follows).
pub fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> String {
    let label = format!("{}:{}", percent_encode(issuer), percent_encode(account));
    format!(
        "otpauth://totp/{label}?secret={secret_base32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        percent_encode(issuer)
    )
}

/// Recovery codes: 80 random bits each, as 16 lowercase base32 characters in groups of
/// four (`abcd-efgh-ijkl-mnop`). That much entropy makes their SHA-256, which is what is
/// stored, as safe as a slow hash would make a shorter code.
pub fn generate_recovery_code() -> String {
    let mut bytes = [0u8; 10];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let chars = base32_encode(&bytes).to_lowercase();
    chars
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// A recovery code as typed, in the form it is hashed in: lowercase, without dashes or
/// spaces. `None` if it cannot be one.
pub fn normalize_recovery_code(code: &str) -> Option<String> {
    let chars: String = code
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (chars.len() == 16
        && chars
            .bytes()
            .all(|b| BASE32.contains(&b.to_ascii_uppercase())))
    .then_some(chars)
}

/// RFC 4648 base32, without padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// RFC 4648 base32, case-insensitive, padding and spaces ignored.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text.bytes().filter(|c| !matches!(c, b'=' | b' ')) {
        let value = BASE32.iter().position(|&a| a == c.to_ascii_uppercase())?;
        buffer = (buffer << 5) | value as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, the SHA-1 rows: the 20-byte ASCII secret, 8 digits.
    #[test]
    fn rfc6238_appendix_b_sha1_vectors() {
        let secret = b"12345678901234567890";
        for (time, expected) in [
            (59u64, 94_287_082u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            let step = u64::try_from(step_at(time)).unwrap();
            assert_eq!(hotp(secret, step, 8), expected, "T = {time}");
        }
    }

    /// RFC 4226 Appendix D: the same secret, counters 0..9, 6 digits.
    #[test]
    fn rfc4226_appendix_d_hotp_vectors() {
        let expected = [
            755_224, 287_082, 359_152, 969_429, 338_314, 254_676, 287_922, 162_583, 399_871,
            520_489,
        ];
        for (counter, code) in expected.into_iter().enumerate() {
            assert_eq!(hotp(b"12345678901234567890", counter as u64, 6), code);
        }
    }

    #[test]
    fn secrets_are_160_bits_of_base32() {
        let a = generate_secret();
        assert_eq!(a.len(), 32);
        assert_eq!(base32_decode(&a).unwrap().len(), SECRET_BYTES);
        assert_ne!(a, generate_secret());
    }

    #[test]
    fn base32_round_trips_and_matches_rfc4648() {
        // RFC 4648 §10, unpadded.
        for (plain, encoded) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32_encode(plain.as_bytes()), encoded);
            assert_eq!(base32_decode(encoded).unwrap(), plain.as_bytes());
        }
        assert_eq!(base32_decode("mzxw6ytboi======").unwrap(), b"foobar");
        assert_eq!(base32_decode("MZ1"), None);
    }

    #[test]
    fn accepts_the_previous_current_and_next_step_only() {
        let secret = generate_secret();
        let raw = base32_decode(&secret).unwrap();
        let now = 1_000_000;
        for offset in -1..=1 {
            let code = code_at(&raw, now + offset);
            assert_eq!(matching_step(&secret, &code, now), Some(now + offset));
        }
        for offset in [-3, -2, 2, 3] {
            let code = code_at(&raw, now + offset);
            // A far step's code may collide with a near one's (1 in 10^6): skip those.
            if (-1..=1).all(|o| code_at(&raw, now + o) != code) {
                assert_eq!(matching_step(&secret, &code, now), None, "{offset}");
            }
        }
    }

    #[test]
    fn codes_are_normalized_or_refused() {
        assert_eq!(normalize_code("123 456").as_deref(), Some("123456"));
        assert_eq!(normalize_code("123-456").as_deref(), Some("123456"));
        for bad in ["12345", "1234567", "12345a", "", "１２３４５６"] {
            assert_eq!(normalize_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn recovery_codes_have_80_bits_and_normalize() {
        let code = generate_recovery_code();
        assert_eq!(code.len(), 19);
        assert_eq!(code.matches('-').count(), 3);
        let normal = normalize_recovery_code(&code.to_uppercase()).unwrap();
        assert_eq!(normal, code.replace('-', ""));
        assert_eq!(normalize_recovery_code("abcd-efgh"), None);
        assert_eq!(normalize_recovery_code("abcd-efgh-ijkl-mno1"), None);
    }

    #[test]
    fn otpauth_uri_names_issuer_account_and_parameters() {
        let uri = otpauth_uri("Micro Blog", "susan", "JBSWY3DPEHPK3PXP");
        assert_eq!(
            uri,
            "otpauth://totp/Micro%20Blog:susan?secret=JBSWY3DPEHPK3PXP&issuer=Micro%20Blog&algorithm=SHA1&digits=6&period=30"
        );
    }
}
