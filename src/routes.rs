//! Every page of the app as a value, so no component writes a URL by hand, and the route
//! table that finds the page for an address ([`Page::of`], which `app.rs` renders); the
//! tests below keep the two in step.

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

/// What the app shows for an address: the route table. Our own match on the path, not the
/// router's `<Routes>`: those are generic over every route's type, and their nested-route
/// machinery (outlets, route data, matching by types) was 8% of the first download.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Feed,
    Explore,
    /// `/user/<name>`, with `?list=` for its tabs.
    User,
    /// `/posts/<id>/edit`.
    EditPost,
    EditProfile,
    ChangePassword,
    Security,
    Sessions,
    SignInMethods,
    Login,
    Register,
    ForgotPassword,
    ResetPassword,
    /// `/oauth2/<provider>/callback`, where a provider sends the browser back.
    OAuthCallback,
    NotFound,
}

impl Page {
    /// The page at `path` (`location.pathname`, without the query). One trailing slash is
    /// allowed, as the router allowed it; a parameter is one non-empty segment.
    pub fn of(path: &str) -> Self {
        let Some(path) = path.strip_prefix('/') else {
            return Self::NotFound;
        };
        let path = path.strip_suffix('/').unwrap_or(path);
        let segments: Vec<&str> = path.split('/').collect();
        match segments.as_slice() {
            [""] => Self::Feed,
            ["explore"] => Self::Explore,
            ["user", name] if !name.is_empty() => Self::User,
            ["posts", id, "edit"] if !id.is_empty() => Self::EditPost,
            ["settings", "profile"] => Self::EditProfile,
            ["settings", "password"] => Self::ChangePassword,
            ["settings", "security"] => Self::Security,
            ["settings", "sessions"] => Self::Sessions,
            ["settings", "sign-in"] => Self::SignInMethods,
            ["login"] => Self::Login,
            ["register"] => Self::Register,
            ["forgot"] => Self::ForgotPassword,
            ["reset"] => Self::ResetPassword,
            ["oauth2", provider, "callback"] if !provider.is_empty() => Self::OAuthCallback,
            _ => Self::NotFound,
        }
    }
}

/// The parameter of `page` in `path`, still percent-encoded: the name of `/user/<name>`,
/// the id of `/posts/<id>/edit`, the provider of `/oauth2/<provider>/callback`. `None` when
/// `path` is not that page (a page being left reads the address of the next one).
pub fn param(page: Page, path: &str) -> Option<&str> {
    let has_param = matches!(page, Page::User | Page::EditPost | Page::OAuthCallback);
    if !has_param || Page::of(path) != page {
        return None;
    }
    // "/user/<name>": the empty segment before the first slash, then the page's name.
    path.split('/').nth(2)
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
    fn every_route_leads_to_its_page() {
        for (route, page) in [
            (AppRoute::Feed, Page::Feed),
            (AppRoute::Explore, Page::Explore),
            (AppRoute::Login, Page::Login),
            (AppRoute::Register, Page::Register),
            (AppRoute::User("su san".into()), Page::User),
            (AppRoute::Followers("susan".into()), Page::User),
            (AppRoute::Following("susan".into()), Page::User),
            (AppRoute::EditPost(7), Page::EditPost),
            (AppRoute::EditProfile, Page::EditProfile),
            (AppRoute::ChangePassword, Page::ChangePassword),
            (AppRoute::ForgotPassword, Page::ForgotPassword),
            (AppRoute::ResetPassword, Page::ResetPassword),
            (AppRoute::Security, Page::Security),
            (AppRoute::Sessions, Page::Sessions),
            (AppRoute::SignInMethods, Page::SignInMethods),
        ] {
            let path = route.path();
            let path = path.split('?').next().unwrap();
            assert_eq!(Page::of(path), page, "{path}");
        }
        assert_eq!(Page::of("/oauth2/mock/callback"), Page::OAuthCallback);
    }

    #[test]
    fn the_route_table_matches_whole_segments() {
        assert_eq!(Page::of("/explore/"), Page::Explore);
        assert_eq!(Page::of("/user/susan/"), Page::User);
        for unknown in [
            "",
            "explore",
            "/explorer",
            "/explore/x",
            "/user",
            "/user/",
            "/user//",
            "/user/a/b",
            "/posts//edit",
            "/posts/7",
            "/settings",
            "/settings/other",
            "/oauth2//callback",
            "/oauth2/mock",
            "/login//",
        ] {
            assert_eq!(Page::of(unknown), Page::NotFound, "{unknown:?}");
        }
    }

    #[test]
    fn params_come_from_their_page_only() {
        assert_eq!(param(Page::User, "/user/su%20san"), Some("su%20san"));
        assert_eq!(param(Page::User, "/user/susan/"), Some("susan"));
        assert_eq!(param(Page::EditPost, "/posts/7/edit"), Some("7"));
        assert_eq!(
            param(Page::OAuthCallback, "/oauth2/mock/callback"),
            Some("mock")
        );
        assert_eq!(param(Page::User, "/explore"), None);
        assert_eq!(param(Page::EditPost, "/user/7"), None);
        assert_eq!(param(Page::Feed, "/"), None);
    }

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
