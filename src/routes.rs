//! Every page of the app as a value, so no component writes a URL by hand.
//! The matching patterns live beside the router in `app.rs`; the tests below keep the two
//! in step.

use crate::api::encode::query_value;

/// A page the app can link to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppRoute {
    Feed,
    Explore,
    Login,
    Register,
    /// A user's page, showing their posts.
    User(String),
    /// A user's page, showing who follows them.
    Followers(String),
    /// A user's page, showing whom they follow.
    Following(String),
    EditPost(i64),
    EditProfile,
    ChangePassword,
    /// Ask for a password-reset email.
    ForgotPassword,
    /// Where the reset email's link lands (`?token=` is added by the server).
    ResetPassword,
    /// Two-factor authentication settings.
    Security,
    /// The logged-in devices.
    Sessions,
    /// Linked providers, linking another, a first password.
    SignInMethods,
}

impl AppRoute {
    pub fn path(&self) -> String {
        match self {
            Self::Feed => "/".into(),
            Self::Explore => "/explore".into(),
            Self::Login => "/login".into(),
            Self::Register => "/register".into(),
            Self::User(name) => format!("/user/{}", query_value(name)),
            Self::Followers(name) => format!("/user/{}?list=followers", query_value(name)),
            Self::Following(name) => format!("/user/{}?list=following", query_value(name)),
            Self::EditPost(id) => format!("/posts/{id}/edit"),
            Self::EditProfile => "/settings/profile".into(),
            Self::ChangePassword => "/settings/password".into(),
            Self::ForgotPassword => "/forgot".into(),
            Self::ResetPassword => "/reset".into(),
            Self::Security => "/settings/security".into(),
            Self::Sessions => "/settings/sessions".into(),
            Self::SignInMethods => "/settings/sign-in".into(),
        }
    }

    /// This route with `?next=<back>` (where to return afterwards).
    pub fn with_next(&self, back: &str) -> String {
        let path = self.path();
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{path}{sep}next={}", query_value(back))
    }
}

/// The `next` parameter, if it is a path inside this app; otherwise `fallback`.
/// Refusing anything else (`//evil.example`, `https://...`, `/\evil`) keeps the login page
/// from being an open redirect.
pub fn safe_next(next: Option<&str>, fallback: &AppRoute) -> String {
    match next {
        Some(next)
            if next.starts_with('/')
                && !next.starts_with("//")
                && !next.starts_with("/\\")
                && !next.chars().any(char::is_control) =>
        {
            next.to_owned()
        }
        _ => fallback.path(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_the_router_patterns() {
        assert_eq!(AppRoute::Feed.path(), "/");
        assert_eq!(AppRoute::Explore.path(), "/explore");
        assert_eq!(AppRoute::Login.path(), "/login");
        assert_eq!(AppRoute::Register.path(), "/register");
        assert_eq!(AppRoute::User("susan".into()).path(), "/user/susan");
        assert_eq!(
            AppRoute::Followers("susan".into()).path(),
            "/user/susan?list=followers"
        );
        assert_eq!(
            AppRoute::Following("su.san".into()).path(),
            "/user/su.san?list=following"
        );
        assert_eq!(AppRoute::EditPost(7).path(), "/posts/7/edit");
        assert_eq!(AppRoute::EditProfile.path(), "/settings/profile");
        assert_eq!(AppRoute::ChangePassword.path(), "/settings/password");
        assert_eq!(AppRoute::ForgotPassword.path(), "/forgot");
        assert_eq!(AppRoute::ResetPassword.path(), "/reset");
        assert_eq!(AppRoute::Security.path(), "/settings/security");
        assert_eq!(AppRoute::Sessions.path(), "/settings/sessions");
        assert_eq!(AppRoute::SignInMethods.path(), "/settings/sign-in");
    }

    #[test]
    fn next_is_appended_and_encoded() {
        assert_eq!(
            AppRoute::Login.with_next("/user/susan?list=followers"),
            "/login?next=%2Fuser%2Fsusan%3Flist%3Dfollowers"
        );
        assert_eq!(
            AppRoute::Followers("a".into()).with_next("/"),
            "/user/a?list=followers&next=%2F"
        );
    }

    #[test]
    fn next_only_stays_inside_the_app() {
        let feed = AppRoute::Feed;
        assert_eq!(safe_next(Some("/explore"), &feed), "/explore");
        assert_eq!(safe_next(Some("/user/a?list=x"), &feed), "/user/a?list=x");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "javascript:x",
            "",
            "/\nx",
        ] {
            assert_eq!(safe_next(Some(bad), &feed), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None, &AppRoute::Explore), "/explore");
    }
}
