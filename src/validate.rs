//! Checks the browser makes before sending a form, with the same limits the server applies
//! (`wire::limits`), so the user hears about a typo at once. The server still decides.

use wire::limits;

/// Field name to messages, as the server's `errors.json` has it, in the order the checks
/// ran. A form has a handful of fields: a list, not a map, which keeps the map's and the
/// sort's code (about 10 K before compression) out of the login page's first download.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<(&'static str, Vec<String>)>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// One more message for `field`, after any it has.
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        let message = message.into();
        match self.0.iter_mut().find(|(f, _)| *f == field) {
            Some((_, messages)) => messages.push(message),
            None => self.0.push((field, vec![message])),
        }
    }

    /// The messages for `field`, if it has any.
    pub fn get(&self, field: &str) -> Option<&Vec<String>> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m)
    }

    #[cfg(test)]
    fn contains_key(&self, field: &str) -> bool {
        self.get(field).is_some()
    }

    #[cfg(test)]
    fn fields(&self) -> Vec<&'static str> {
        self.0.iter().map(|(field, _)| *field).collect()
    }
}

impl std::ops::Index<&str> for FieldErrors {
    type Output = Vec<String>;

    fn index(&self, field: &str) -> &Vec<String> {
        self.get(field).expect("no errors for this field")
    }
}

fn check_new_password(
    errors: &mut FieldErrors,
    field: &'static str,
    password: &str,
    confirm: &str,
    confirm_field: &'static str,
) {
    let len = password.chars().count();
    if len < limits::PASSWORD_MIN_CHARS {
        errors.add(
            field,
            format!("Use at least {} characters.", limits::PASSWORD_MIN_CHARS),
        );
    } else if len > limits::PASSWORD_MAX_CHARS {
        errors.add(
            field,
            format!("Use at most {} characters.", limits::PASSWORD_MAX_CHARS),
        );
    }
    if password != confirm {
        errors.add(confirm_field, "The passwords do not match.");
    }
}

/// The registration form.
pub fn registration(username: &str, email: &str, password: &str, password2: &str) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if username.trim().is_empty() {
        errors.add("username", "Enter a username.");
    }
    if !email.contains('@') {
        errors.add("email", "Enter a valid email address.");
    }
    check_new_password(&mut errors, "password", password, password2, "password2");
    errors
}

/// The change-password form.
pub fn password_change(old: &str, new: &str, new2: &str) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if old.is_empty() {
        errors.add("old_password", "Enter your current password.");
    }
    check_new_password(&mut errors, "password", new, new2, "password2");
    errors
}

/// The login form.
pub fn login(username: &str, password: &str) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if username.trim().is_empty() {
        errors.add("username", "Enter your username or email address.");
    }
    if password.is_empty() {
        errors.add("password", "Enter your password.");
    }
    errors
}

/// The forgot-password form.
pub fn reset_request(email: &str) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if !email.contains('@') {
        errors.add("email", "Enter a valid email address.");
    }
    errors
}

/// The reset-password form (field names as the server's `PasswordReset`).
pub fn password_reset(new: &str, new2: &str) -> FieldErrors {
    let mut errors = FieldErrors::new();
    check_new_password(&mut errors, "new_password", new, new2, "new_password2");
    errors
}

/// The edit-profile form: a new email address needs the current password, as the server
/// requires (it would let a stolen session take the account over).
pub fn profile_change(email_changed: bool, old_password: &str) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if email_changed && old_password.is_empty() {
        errors.add(
            "old_password",
            "Enter your current password to change your email.",
        );
    }
    errors
}

/// A password typed again to confirm a security change.
pub fn password_again(password: &str) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if password.is_empty() {
        errors.add("password", "Enter your password.");
    }
    errors
}

/// A code from an authenticator app, in `field`: six digits, spaces and dashes ignored
/// (as the server reads it). Returns the six digits when it is one.
pub fn totp_code(errors: &mut FieldErrors, field: &'static str, code: &str) -> Option<String> {
    let digits: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
        Some(digits)
    } else {
        errors.add(field, "Enter the 6-digit code from your authenticator app.");
        None
    }
}

/// A recovery code (or, where both are allowed, a code from the app) in `field`.
pub fn any_code(errors: &mut FieldErrors, field: &'static str, code: &str) -> Option<String> {
    let code = code.trim();
    if code.is_empty() {
        errors.add(field, "Enter a code.");
        None
    } else {
        Some(code.to_owned())
    }
}

/// A post's text, as the server will see it (trimmed).
pub fn post_text(text: &str) -> Result<String, String> {
    let text = text.trim();
    let len = text.chars().count();
    if len == 0 {
        Err("Write something first: a post cannot be empty.".into())
    } else if len > limits::POST_MAX_CHARS {
        Err(format!(
            "A post has at most {} characters; this one has {len}.",
            limits::POST_MAX_CHARS
        ))
    } else {
        Ok(text.to_owned())
    }
}

/// Characters left in a post (negative when over).
pub fn post_chars_left(text: &str) -> i64 {
    limits::POST_MAX_CHARS as i64 - text.trim().chars().count() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_email_needs_the_current_password() {
        assert_eq!(
            profile_change(true, "")["old_password"],
            ["Enter your current password to change your email."]
        );
        assert!(profile_change(true, "hunter22").is_empty());
        assert!(profile_change(false, "").is_empty());
    }

    #[test]
    fn registration_needs_matching_long_enough_passwords() {
        assert!(
            registration("susan", "s@example.com", "correct horse", "correct horse").is_empty()
        );
        let errors = registration("susan", "s@example.com", "short", "shorter");
        assert_eq!(errors["password"], ["Use at least 8 characters."]);
        assert_eq!(errors["password2"], ["The passwords do not match."]);
    }

    #[test]
    fn registration_needs_a_username_and_an_email() {
        let errors = registration(" ", "nope", "long enough", "long enough");
        assert!(errors.contains_key("username"));
        assert!(errors.contains_key("email"));
        assert!(!errors.contains_key("password"));
    }

    #[test]
    fn password_change_needs_the_old_password() {
        let errors = password_change("", "new password", "new password");
        assert_eq!(errors.fields(), ["old_password"]);
        assert!(password_change("old", "new password", "new password").is_empty());
    }

    #[test]
    fn login_needs_both_fields() {
        assert_eq!(login("", "").fields(), ["username", "password"]);
        assert!(login("susan", "x").is_empty());
    }

    #[test]
    fn reset_forms_check_the_address_and_the_new_password() {
        assert!(reset_request("s@example.com").is_empty());
        assert!(reset_request("nope").contains_key("email"));
        assert!(password_reset("long enough", "long enough").is_empty());
        let errors = password_reset("short", "other");
        assert_eq!(errors["new_password"], ["Use at least 8 characters."]);
        assert_eq!(errors["new_password2"], ["The passwords do not match."]);
        assert!(password_again("").contains_key("password"));
    }

    #[test]
    fn totp_codes_are_six_digits_with_spaces_and_dashes_ignored() {
        let mut errors = FieldErrors::new();
        assert_eq!(
            totp_code(&mut errors, "code", " 123 456 "),
            Some("123456".into())
        );
        assert_eq!(
            totp_code(&mut errors, "code", "123-456"),
            Some("123456".into())
        );
        assert!(errors.is_empty());
        for bad in ["", "12345", "1234567", "12345a", "abcd-efgh"] {
            let mut errors = FieldErrors::new();
            assert_eq!(totp_code(&mut errors, "code", bad), None, "{bad:?}");
            assert!(errors.contains_key("code"));
        }
        let mut errors = FieldErrors::new();
        assert_eq!(any_code(&mut errors, "recovery_code", "  "), None);
        assert!(errors.contains_key("recovery_code"));
        assert_eq!(
            any_code(&mut errors, "recovery_code", " abcd-efgh "),
            Some("abcd-efgh".into())
        );
    }

    #[test]
    fn posts_are_trimmed_and_bounded() {
        assert_eq!(post_text("  hello  "), Ok("hello".into()));
        assert!(post_text("   ").unwrap_err().contains("cannot be empty"));
        assert!(post_text(&"é".repeat(280)).is_ok());
        assert!(post_text(&"é".repeat(281)).unwrap_err().contains("281"));
        assert_eq!(post_chars_left("abc"), 277);
        assert_eq!(post_chars_left(&"x".repeat(290)), -10);
    }
}
