//! The parsed input of `domain/`: usernames, emails, passwords, post texts, "about me".

use proptest::prelude::*;

use super::{config, text};
use crate::domain::{AboutMe, Email, NewPassword, PostText, Username};

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_parses_or_is_refused_with_a_message(s in text()) {
        // Whatever parses parses again to itself; whatever is refused says why.
        match Username::parse(&s) {
            Ok(name) => prop_assert_eq!(Username::parse(name.as_str()), Ok(name.clone())),
            Err(message) => prop_assert!(!message.is_empty()),
        }
        match Email::parse(&s) {
            Ok(email) => prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone())),
            Err(message) => prop_assert!(!message.is_empty()),
        }
        match PostText::parse(&s) {
            Ok(text) => prop_assert_eq!(PostText::parse(text.as_str()), Ok(text.clone())),
            Err(message) => prop_assert!(!message.is_empty()),
        }
        match AboutMe::parse(&s) {
            Ok(about) => prop_assert_eq!(AboutMe::parse(about.as_str()), Ok(about.clone())),
            Err(message) => prop_assert!(!message.is_empty()),
        }
        if let Err(message) = NewPassword::parse(&s) {
            prop_assert!(!message.is_empty());
        }
    }

    #[test]
    fn emails_shaped_like_addresses_parse_or_are_refused(s in "\\PC{0,12}@\\PC{0,12}(\\.\\PC{0,6})?") {
        let _ = Email::parse(&s);
    }

    #[test]
    fn valid_usernames_parse_to_themselves(s in "[a-zA-Z0-9][a-zA-Z0-9_.-]{2,63}") {
        match Username::parse(&s) {
            Ok(name) => prop_assert_eq!(name.as_str(), s.as_str()),
            // Only an all-digit name is refused (it would shadow `/api/users/{id}`).
            Err(_) => prop_assert!(s.bytes().all(|b| b.is_ascii_digit())),
        }
    }
}
