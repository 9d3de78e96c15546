//! The typed endpoints of the HTTP API (`docs/api.md`), one method each.

use wire::{
    NewUser, Page, PasswordAndCode, PasswordConfirmation, PasswordReset, Post, PostText,
    RecoveryCodes, ResetRequest, RevokedSessions, SessionInfo, TwoFactorCode, TwoFactorSetup,
    TwoFactorStatus, UpdateMe, User, limits,
};

use super::client::{ApiRequest, parse};
use super::encode::query_value;
use super::{ApiError, Client};

/// Where the next page of a list starts: posts page by timestamp, user lists by username.
fn page_query(after: Option<&str>) -> String {
    match after {
        Some(after) => format!("?limit={}&after={}", limits::PAGE_LIMIT, query_value(after)),
        None => format!("?limit={}", limits::PAGE_LIMIT),
    }
}

/// The cursor to ask for the posts after this one.
pub fn post_cursor(post: &Post) -> String {
    post.timestamp.to_string()
}

/// The cursor to ask for the users after this one.
pub fn user_cursor(user: &User) -> String {
    user.username.clone()
}

impl Client {
    /// The logged-in user, with email.
    pub async fn me(&self) -> Result<User, ApiError> {
        self.get("/api/me").await
    }

    pub async fn update_me(&self, changes: &UpdateMe) -> Result<User, ApiError> {
        parse(
            self.send(ApiRequest::new("PUT", "/api/me").json(changes))
                .await?,
        )
    }

    /// Creates an account; needs no login.
    pub async fn register(&self, user: &NewUser) -> Result<User, ApiError> {
        parse(
            self.send(ApiRequest::new("POST", "/api/users").json(user).anonymous())
                .await?,
        )
    }

    /// Asks for a password-reset email. The server answers the same for any address.
    pub async fn request_reset(&self, email: &str) -> Result<(), ApiError> {
        let body = ResetRequest {
            email: email.to_owned(),
        };
        let request = ApiRequest::new("POST", "/api/tokens/reset")
            .json(&body)
            .anonymous();
        self.send(request).await.map(drop)
    }

    /// Sets a new password with the token from a reset email; every session ends.
    pub async fn reset_password(&self, reset: &PasswordReset) -> Result<(), ApiError> {
        let request = ApiRequest::new("PUT", "/api/tokens/reset")
            .json(reset)
            .anonymous();
        self.send(request).await.map(drop)
    }

    pub async fn two_factor_status(&self) -> Result<TwoFactorStatus, ApiError> {
        self.get("/api/me/2fa").await
    }

    /// Starts enrolling in 2FA: a new secret, pending until confirmed with a code.
    pub async fn start_two_factor(&self, password: &str) -> Result<TwoFactorSetup, ApiError> {
        let body = PasswordConfirmation {
            password: password.to_owned(),
        };
        parse(
            self.send(ApiRequest::new("POST", "/api/me/2fa").json(&body))
                .await?,
        )
    }

    /// Confirms enrolment: 2FA is on, and the recovery codes come back, once.
    pub async fn confirm_two_factor(&self, code: &str) -> Result<RecoveryCodes, ApiError> {
        let body = TwoFactorCode {
            code: code.to_owned(),
        };
        parse(
            self.send(ApiRequest::new("PUT", "/api/me/2fa").json(&body))
                .await?,
        )
    }

    pub async fn disable_two_factor(&self, proof: &PasswordAndCode) -> Result<(), ApiError> {
        self.send(ApiRequest::new("DELETE", "/api/me/2fa").json(proof))
            .await
            .map(drop)
    }

    /// New recovery codes, replacing the old ones.
    pub async fn new_recovery_codes(
        &self,
        proof: &PasswordAndCode,
    ) -> Result<RecoveryCodes, ApiError> {
        parse(
            self.send(ApiRequest::new("POST", "/api/me/2fa/recovery-codes").json(proof))
                .await?,
        )
    }

    /// The logged-in user's live sessions (devices), newest first.
    pub async fn sessions(&self) -> Result<Vec<SessionInfo>, ApiError> {
        self.get("/api/me/sessions").await
    }

    /// Ends one of the user's sessions; its tabs are logged out at their next call.
    pub async fn revoke_session(&self, id: i64) -> Result<(), ApiError> {
        self.send(ApiRequest::new("DELETE", format!("/api/me/sessions/{id}")))
            .await
            .map(drop)
    }

    /// Ends every session but this one; returns how many ended.
    pub async fn revoke_other_sessions(&self) -> Result<u64, ApiError> {
        let revoked: RevokedSessions = parse(
            self.send(ApiRequest::new("DELETE", "/api/me/sessions"))
                .await?,
        )?;
        Ok(revoked.revoked)
    }

    pub async fn user(&self, username: &str) -> Result<User, ApiError> {
        self.get(&format!("/api/users/{}", query_value(username)))
            .await
    }

    /// Own posts and followed users' posts, newest first.
    pub async fn feed(&self, after: Option<String>) -> Result<Page<Post>, ApiError> {
        self.get(&format!("/api/feed{}", page_query(after.as_deref())))
            .await
    }

    /// Everyone's posts, newest first.
    pub async fn posts(&self, after: Option<String>) -> Result<Page<Post>, ApiError> {
        self.get(&format!("/api/posts{}", page_query(after.as_deref())))
            .await
    }

    pub async fn user_posts(&self, id: i64, after: Option<String>) -> Result<Page<Post>, ApiError> {
        self.get(&format!(
            "/api/users/{id}/posts{}",
            page_query(after.as_deref())
        ))
        .await
    }

    pub async fn post(&self, id: i64) -> Result<Post, ApiError> {
        self.get(&format!("/api/posts/{id}")).await
    }

    pub async fn create_post(&self, text: &str) -> Result<Post, ApiError> {
        let body = PostText {
            text: text.to_owned(),
        };
        parse(
            self.send(ApiRequest::new("POST", "/api/posts").json(&body))
                .await?,
        )
    }

    pub async fn update_post(&self, id: i64, text: &str) -> Result<Post, ApiError> {
        let body = PostText {
            text: text.to_owned(),
        };
        parse(
            self.send(ApiRequest::new("PUT", format!("/api/posts/{id}")).json(&body))
                .await?,
        )
    }

    pub async fn delete_post(&self, id: i64) -> Result<(), ApiError> {
        self.send(ApiRequest::new("DELETE", format!("/api/posts/{id}")))
            .await
            .map(drop)
    }

    pub async fn followers(&self, id: i64, after: Option<String>) -> Result<Page<User>, ApiError> {
        self.get(&format!(
            "/api/users/{id}/followers{}",
            page_query(after.as_deref())
        ))
        .await
    }

    pub async fn following(&self, id: i64, after: Option<String>) -> Result<Page<User>, ApiError> {
        self.get(&format!(
            "/api/users/{id}/following{}",
            page_query(after.as_deref())
        ))
        .await
    }

    /// How many users follow `id` and how many `id` follows, from one-item pages.
    pub async fn follow_counts(&self, id: i64) -> Result<(i64, i64), ApiError> {
        let followers: Page<User> = self
            .get(&format!("/api/users/{id}/followers?limit=1"))
            .await?;
        let following: Page<User> = self
            .get(&format!("/api/users/{id}/following?limit=1"))
            .await?;
        Ok((followers.pagination.total, following.pagination.total))
    }

    /// Whether the logged-in user follows `id` (204 yes, 404 no).
    pub async fn is_following(&self, id: i64) -> Result<bool, ApiError> {
        match self
            .send(ApiRequest::new("GET", format!("/api/me/following/{id}")))
            .await
        {
            Ok(_) => Ok(true),
            Err(err) if err.is_status(404) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Follows `id`. Already following (409) counts as done.
    pub async fn follow(&self, id: i64) -> Result<(), ApiError> {
        match self
            .send(ApiRequest::new("POST", format!("/api/me/following/{id}")))
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if err.is_status(409) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Unfollows `id`. Not following (409) counts as done.
    pub async fn unfollow(&self, id: i64) -> Result<(), ApiError> {
        match self
            .send(ApiRequest::new("DELETE", format!("/api/me/following/{id}")))
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if err.is_status(409) => Ok(()),
            Err(err) => Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_ask_for_the_full_limit_and_encode_the_cursor() {
        assert_eq!(page_query(None), "?limit=25");
        assert_eq!(
            page_query(Some("2026-11-29T14:12:51.349565Z")),
            "?limit=25&after=2026-11-29T14%3A12%3A51.349565Z"
        );
    }
}
