//! Parsed input: a value of these types has already passed validation.
//! Each `parse` returns the message the client sees beside the field.

use wire::limits;

/// A username: ASCII letters, digits, `_`, `-` and `.`, starting with a letter or digit,
/// and not all digits (`/api/users/{id}` would shadow it). Taken as sent: surrounding
/// spaces are not trimmed away but refused, so the document's pattern says it exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, String> {
        let len = s.chars().count();
        if !(limits::USERNAME_MIN_CHARS..=limits::USERNAME_MAX_CHARS).contains(&len) {
            return Err(format!(
                "Length must be between {} and {}.",
                limits::USERNAME_MIN_CHARS,
                limits::USERNAME_MAX_CHARS
            ));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err("Use only letters, digits, '_', '-' and '.'.".into());
        }
        if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err("Start with a letter or a digit.".into());
        }
        if s.chars().all(|c| c.is_ascii_digit()) {
            return Err("Use at least one letter.".into());
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address: one `@`, something on each side, a dot in the domain, no spaces.
/// Deliverability is proved by the reset email, not by a regex. Taken as sent, like a
/// username.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.chars().count() > limits::EMAIL_MAX_CHARS {
            return Err(format!(
                "Longer than maximum length {}.",
                limits::EMAIL_MAX_CHARS
            ));
        }
        let valid = match s.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    // A colon would split HTTP Basic credentials in the wrong place, and
                    // locked its owner out of logging in by email.
                    && !s.chars().any(|c| c.is_whitespace() || c.is_control() || c == ':')
            }
            None => false,
        };
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err("Not a valid email address.".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password that meets the policy of docs/security.md, "Passwords": 8 or more
/// characters, at most 256, no composition rules, not a commonly used one. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

impl NewPassword {
    pub fn parse(s: &str) -> Result<Self, String> {
        let len = s.chars().count();
        if len < limits::PASSWORD_MIN_CHARS {
            return Err(format!(
                "Use at least {} characters.",
                limits::PASSWORD_MIN_CHARS
            ));
        }
        if len > limits::PASSWORD_MAX_CHARS {
            return Err(format!(
                "Use at most {} characters.",
                limits::PASSWORD_MAX_CHARS
            ));
        }
        let lower = s.to_lowercase();
        if COMMON_PASSWORDS
            .lines()
            .filter(|l| !l.starts_with('#'))
            .any(|common| common == lower)
        {
            return Err("This password is too common; choose another.".into());
        }
        Ok(Self(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The text of a post: at most 280 characters as sent, not all whitespace; stored
/// trimmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostText(String);

impl PostText {
    pub fn parse(s: &str) -> Result<Self, String> {
        let len = s.chars().count();
        let s = s.trim();
        if s.is_empty() {
            return Err("Write something first.".into());
        }
        if len > limits::POST_MAX_CHARS {
            return Err(format!(
                "Length must be between 1 and {}.",
                limits::POST_MAX_CHARS
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The "about me" text: at most 140 characters as sent; stored trimmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AboutMe(String);

impl AboutMe {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.chars().count() > limits::ABOUT_ME_MAX_CHARS {
            return Err(format!(
                "Longer than maximum length {}.",
                limits::ABOUT_ME_MAX_CHARS
            ));
        }
        Ok(Self(s.trim().to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["susan", "Susan_99", "a.b-c", "007bond"] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
        assert!(Username::parse(" susan").is_err());
        for bad in [
            "",
            "ab",
            "has space",
            "émile",
            "_lead",
            "12345",
            &"x".repeat(65),
        ] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert!(Email::parse("susan@example.com").is_ok());
        for bad in [
            "susan",
            "@example.com",
            "susan@localhost",
            "a b@example.com",
            "a@b@c.d",
            "a@.com",
            "a:b@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn password_policy_is_length_and_a_blocklist_only() {
        assert!(NewPassword::parse("correct horse").is_ok());
        assert!(NewPassword::parse("alllowercaseletters").is_ok());
        assert!(NewPassword::parse(&"x".repeat(128)).is_ok());
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse(&"x".repeat(257)).is_err());
        assert!(NewPassword::parse("Password123").is_err());
        // Counted in characters, not bytes.
        assert!(NewPassword::parse("ééééééé").is_err());
    }

    #[test]
    fn passwords_do_not_print() {
        let p = NewPassword::parse("correct horse").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn post_text_is_trimmed_and_bounded_in_characters() {
        assert_eq!(PostText::parse("  hi ").unwrap().as_str(), "hi");
        assert!(PostText::parse("   ").is_err());
        assert!(PostText::parse(&"é".repeat(280)).is_ok());
        assert!(PostText::parse(&"é".repeat(281)).is_err());
    }
}
