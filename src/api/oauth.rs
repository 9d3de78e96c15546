//! Signing in with a provider, and the providers linked to the account.
//!
//! The provider's page is reached by a top-level navigation (never a fetch: the CSP's
//! `connect-src` stays as it is), to an address the API gives: its
//! `/api/tokens/oauth2/{provider}` for a sign-in, or the URL of a link flow.

use wire::{
    LinkRequest, LinkedProvider, OAuth2Code, OAuth2Provider, OAuth2Redirect, TwoFactorChallenge,
};

use super::client::{ApiRequest, parse};
use super::encode::query_value;
use super::transport::HttpResponse;
use super::{ApiError, Client};

/// Where the API lists its providers.
const PROVIDERS: &str = "/api/tokens/oauth2";

/// The answer to `GET /api/tokens/oauth2`, before parsing.
#[derive(Clone, Debug)]
pub struct ProviderList(HttpResponse);

impl ProviderList {
    /// The providers, or none if the answer does not parse.
    pub fn parse(&self) -> Vec<OAuth2Provider> {
        parse(self.0.clone()).unwrap_or_default()
    }
}

/// How the callback's code ended.
pub enum OAuthOutcome {
    LoggedIn,
    /// The account has 2FA: a code must follow, with this challenge.
    TwoFactor(TwoFactorChallenge),
    /// The provider was linked to the logged-in account (a flow from the settings).
    Linked(LinkedProvider),
}

impl Client {
    /// The providers the server offers (anonymous).
    pub async fn oauth_providers(&self) -> Result<Vec<OAuth2Provider>, ApiError> {
        parse(
            self.send(ApiRequest::new("GET", PROVIDERS).anonymous())
                .await?,
        )
    }

    /// The same list unparsed: the login page fetches it with its first download, and the
    /// chunk that shows the links parses it. Straight through the transport: an anonymous
    /// call has nothing to refresh, and a refusal needs no parsing (the page then shows no
    /// links), so none of the client's JSON code is in the first download.
    pub async fn oauth_provider_list(&self) -> Result<ProviderList, ApiError> {
        let request = ApiRequest::new("GET", PROVIDERS).anonymous();
        let response = self.exchange(&request).await?;
        if response.is_success() {
            Ok(ProviderList(response))
        } else {
            Err(ApiError::Status {
                status: response.status,
                body: None,
            })
        }
    }

    /// Where the browser goes to sign in with `provider`.
    pub fn oauth_sign_in_url(&self, provider: &str) -> String {
        self.url(&format!("/api/tokens/oauth2/{}", query_value(provider)))
    }

    /// Finishes a flow with what the provider sent back to the callback page.
    pub async fn finish_oauth(
        &self,
        provider: &str,
        code: &OAuth2Code,
    ) -> Result<OAuthOutcome, ApiError> {
        let request = ApiRequest::new(
            "POST",
            format!("/api/tokens/oauth2/{}", query_value(provider)),
        )
        .json(code)
        .anonymous();
        let response = self.send(request).await?;
        match response.status {
            201 => parse(response).map(OAuthOutcome::Linked),
            202 => parse(response).map(OAuthOutcome::TwoFactor),
            _ => {
                self.accept_token(response)?;
                Ok(OAuthOutcome::LoggedIn)
            }
        }
    }

    /// The providers linked to the logged-in account.
    pub async fn linked_providers(&self) -> Result<Vec<LinkedProvider>, ApiError> {
        self.get("/api/me/oauth2").await
    }

    /// Starts linking `provider`: the URL to navigate to.
    pub async fn start_link(
        &self,
        provider: &str,
        password: Option<String>,
    ) -> Result<OAuth2Redirect, ApiError> {
        let path = format!("/api/tokens/oauth2/{}/link", query_value(provider));
        parse(
            self.send(ApiRequest::new("POST", path).json(&LinkRequest { password }))
                .await?,
        )
    }

    /// Unlinks `provider`; refused for the account's last way to sign in.
    pub async fn unlink_provider(&self, provider: &str) -> Result<(), ApiError> {
        let path = format!("/api/me/oauth2/{}", query_value(provider));
        self.send(ApiRequest::new("DELETE", path)).await.map(drop)
    }
}
