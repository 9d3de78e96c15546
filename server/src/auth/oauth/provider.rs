//! Talking to the providers: the authorization URL (with PKCE S256 and, for OpenID
//! Connect, a nonce), the code exchange, and who the person is.
//!
//! OpenID Connect providers are found through discovery; the ID token is checked in full
//! by `openidconnect` (signature against the provider's key set, `iss`, `aud`, `exp`,
//! `nonce`) and here (`azp`, `iat`), with the algorithms limited to asymmetric ones (never `none`, never
//! HMAC: a key set publishes public keys, and an HMAC "signed" with one proves nothing),
//! and a small leeway for clocks. Discovery is cached for an hour;
//! the key set is fetched again when a token names a key it does not have (at most every
//! ten seconds). GitHub has no OpenID Connect: its REST API gives the user and their
//! verified primary email.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenVerifier, CoreJsonWebKeySet,
    CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthUrl, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, JsonWebKeySetUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, SignatureVerificationError, TokenResponse, TokenUrl,
};
use secrecy::ExposeSecret;
use serde::Deserialize;
use tokio::sync::RwLock;

use crate::auth::oauth::config::{Kind, ProviderConfig};

/// How long discovery is trusted before it is fetched again.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
/// At most one key-set fetch for an unknown `kid` in this time.
const JWKS_REFETCH_MIN: Duration = Duration::from_secs(10);
/// Clock difference tolerated on `exp` and `iat`.
const LEEWAY_SECS: i64 = 60;
/// An ID token issued longer ago than this is refused (it arrives seconds after issue).
const MAX_TOKEN_AGE_SECS: i64 = 600;
/// Asymmetric signatures only.
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 8] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// Why a provider did not tell us who someone is.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider could not be reached or answered nonsense: try again later.
    #[error("provider unreachable: {0}")]
    Unreachable(String),
    /// The code, the token or a claim failed a check: this sign-in is refused.
    #[error("refused: {0}")]
    Refused(String),
    /// The provider gave an email it has not verified.
    #[error("unverified email")]
    UnverifiedEmail,
}

/// Who the provider says the person is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The provider's stable identifier for the account (`sub`, GitHub's numeric id).
    pub subject: String,
    /// A verified email, if the provider shared one.
    pub email: Option<String>,
    /// A name to derive a username from.
    pub username_hint: Option<String>,
}

/// What starting a flow hands back: where to send the browser, and what to keep.
pub struct Authorization {
    pub url: String,
    pub pkce_verifier: String,
}

#[derive(Clone)]
struct Discovered {
    issuer: IssuerUrl,
    auth: AuthUrl,
    token: TokenUrl,
    jwks_uri: JsonWebKeySetUrl,
    jwks: CoreJsonWebKeySet,
    at: Instant,
}

/// One enabled provider, with what was learnt about it.
pub struct Provider {
    pub config: ProviderConfig,
    discovered: RwLock<Option<Discovered>>,
    jwks_fetched: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.config.name)
            .finish_non_exhaustive()
    }
}

/// The enabled providers and the HTTP client that reaches them.
#[derive(Debug)]
pub struct Providers {
    list: Vec<Provider>,
    http: reqwest::Client,
}

impl Providers {
    pub fn new(configs: &[ProviderConfig]) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            // Never follow a redirect from a provider's endpoint (SSRF, leaked codes).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .user_agent("microblog")
            .build()?;
        Ok(Self {
            list: configs
                .iter()
                .map(|c| Provider {
                    config: c.clone(),
                    discovered: RwLock::new(None),
                    jwks_fetched: Mutex::new(None),
                })
                .collect(),
            http,
        })
    }

    pub fn get(&self, name: &str) -> Option<&Provider> {
        self.list.iter().find(|p| p.config.name == name)
    }

    pub fn all(&self) -> impl Iterator<Item = &Provider> {
        self.list.iter()
    }

    /// The URL to send the browser to, with `state`, `nonce` and a new PKCE challenge.
    pub async fn authorize(
        &self,
        provider: &Provider,
        state: &str,
        nonce: &str,
    ) -> Result<Authorization, ProviderError> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let redirect = redirect_url(&provider.config)?;
        let client_id = ClientId::new(provider.config.client_id.clone());
        let url = match &provider.config.kind {
            Kind::Oidc { .. } => {
                let d = provider.discovered(&self.http).await?;
                let client = CoreClient::new(client_id, d.issuer, d.jwks)
                    .set_auth_uri(d.auth)
                    .set_redirect_uri(redirect);
                let state = state.to_owned();
                let nonce = nonce.to_owned();
                client
                    .authorize_url(
                        CoreAuthenticationFlow::AuthorizationCode,
                        move || CsrfToken::new(state),
                        move || Nonce::new(nonce),
                    )
                    .add_scope(Scope::new("email".into()))
                    .add_scope(Scope::new("profile".into()))
                    .set_pkce_challenge(challenge)
                    .url()
                    .0
            }
            Kind::GitHub { web, .. } => {
                let client = oauth2::basic::BasicClient::new(client_id)
                    .set_auth_uri(auth_url(&format!("{web}/login/oauth/authorize"))?)
                    .set_redirect_uri(redirect);
                let state = state.to_owned();
                client
                    .authorize_url(move || CsrfToken::new(state))
                    .add_scope(Scope::new("read:user".into()))
                    .add_scope(Scope::new("user:email".into()))
                    .set_pkce_challenge(challenge)
                    .url()
                    .0
            }
        };
        Ok(Authorization {
            url: url.to_string(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code (with the PKCE verifier) and learns who signed in.
    pub async fn identify(
        &self,
        provider: &Provider,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<Identity, ProviderError> {
        let redirect = redirect_url(&provider.config)?;
        let client_id = ClientId::new(provider.config.client_id.clone());
        let secret = ClientSecret::new(provider.config.client_secret.expose_secret().to_owned());
        let code = AuthorizationCode::new(code.to_owned());
        let verifier = PkceCodeVerifier::new(pkce_verifier.to_owned());
        match &provider.config.kind {
            Kind::Oidc { .. } => {
                let d = provider.discovered(&self.http).await?;
                let client = CoreClient::new(client_id, d.issuer.clone(), d.jwks.clone())
                    .set_client_secret(secret)
                    .set_token_uri(d.token.clone())
                    .set_redirect_uri(redirect);
                let response = client
                    .exchange_code(code)
                    .set_pkce_verifier(verifier)
                    .request_async(&self.http)
                    .await
                    .map_err(token_error)?;
                let id_token = response
                    .id_token()
                    .ok_or_else(|| ProviderError::Refused("no ID token".into()))?;
                provider.verify(&self.http, id_token, nonce, d).await
            }
            Kind::GitHub { web, api } => {
                let client = oauth2::basic::BasicClient::new(client_id)
                    .set_client_secret(secret)
                    .set_auth_type(oauth2::AuthType::RequestBody)
                    .set_token_uri(token_url(&format!("{web}/login/oauth/access_token"))?)
                    .set_redirect_uri(redirect);
                let response = client
                    .exchange_code(code)
                    .set_pkce_verifier(verifier)
                    .request_async(&self.http)
                    .await
                    .map_err(token_error)?;
                github_identity(&self.http, api, response.access_token().secret()).await
            }
        }
    }
}

impl Provider {
    /// The provider's metadata and keys, from the cache while fresh.
    async fn discovered(&self, http: &reqwest::Client) -> Result<Discovered, ProviderError> {
        if let Some(d) = self.discovered.read().await.as_ref()
            && d.at.elapsed() < DISCOVERY_TTL
        {
            return Ok(d.clone());
        }
        let Kind::Oidc { issuer } = &self.config.kind else {
            return Err(ProviderError::Unreachable(
                "not an OpenID Connect provider".into(),
            ));
        };
        let issuer = IssuerUrl::new(issuer.clone())
            .map_err(|e| ProviderError::Unreachable(format!("issuer: {e}")))?;
        // Discovery checks that the document names this very issuer.
        let metadata = CoreProviderMetadata::discover_async(issuer, http)
            .await
            .map_err(|e| ProviderError::Unreachable(format!("discovery: {e}")))?;
        let token = metadata
            .token_endpoint()
            .cloned()
            .ok_or_else(|| ProviderError::Unreachable("no token endpoint".into()))?;
        let d = Discovered {
            issuer: metadata.issuer().clone(),
            auth: metadata.authorization_endpoint().clone(),
            token,
            jwks_uri: metadata.jwks_uri().clone(),
            jwks: metadata.jwks().clone(),
            at: Instant::now(),
        };
        *self.discovered.write().await = Some(d.clone());
        Ok(d)
    }

    /// Checks an ID token; on a key the cached set lacks, fetches the set once more.
    async fn verify(
        &self,
        http: &reqwest::Client,
        id_token: &openidconnect::core::CoreIdToken,
        nonce: &str,
        d: Discovered,
    ) -> Result<Identity, ProviderError> {
        match self.check(id_token, nonce, &d) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) if self.may_refetch_keys() => {
                let jwks = CoreJsonWebKeySet::fetch_async(&d.jwks_uri, http)
                    .await
                    .map_err(|e| ProviderError::Unreachable(format!("key set: {e}")))?;
                let d = Discovered { jwks, ..d };
                *self.discovered.write().await = Some(d.clone());
                self.check(id_token, nonce, &d).map_err(claims_error)
            }
            other => other.map_err(claims_error),
        }
    }

    fn may_refetch_keys(&self) -> bool {
        let mut last = self.jwks_fetched.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| t.elapsed() < JWKS_REFETCH_MIN) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }

    fn check(
        &self,
        id_token: &openidconnect::core::CoreIdToken,
        nonce: &str,
        d: &Discovered,
    ) -> Result<Identity, ClaimsVerificationError> {
        let verifier = CoreIdTokenVerifier::new_public_client(
            ClientId::new(self.config.client_id.clone()),
            d.issuer.clone(),
            d.jwks.clone(),
        )
        .set_allowed_algs(ALLOWED_ALGS)
        // `exp` may be up to the leeway in the past.
        .set_time_fn(|| Utc::now() - chrono::Duration::seconds(LEEWAY_SECS))
        .set_issue_time_verifier_fn(|iat| {
            let now = Utc::now();
            if iat > now + chrono::Duration::seconds(LEEWAY_SECS) {
                Err("issued in the future".into())
            } else if iat < now - chrono::Duration::seconds(MAX_TOKEN_AGE_SECS) {
                Err("issued too long ago".into())
            } else {
                Ok(())
            }
        });
        let claims = id_token.claims(&verifier, &Nonce::new(nonce.to_owned()))?;
        // The library leaves `azp` to us: when present, it must name this client.
        if claims
            .authorized_party()
            .is_some_and(|azp| azp.as_str() != self.config.client_id)
        {
            return Err(ClaimsVerificationError::InvalidAudience(
                "azp is another client".into(),
            ));
        }
        let email = claims.email().map(|e| e.as_str().to_owned());
        let email = match (email, claims.email_verified()) {
            (None, _) => None,
            (Some(email), Some(true)) => Some(email),
            // An email the provider has not verified (or does not say it has) proves
            // nothing about who owns it.
            (Some(_), _) => {
                return Err(ClaimsVerificationError::Other("unverified email".into()));
            }
        };
        let username_hint = claims
            .preferred_username()
            .map(|u| u.as_str().to_owned())
            .or_else(|| {
                claims
                    .name()
                    .and_then(|n| n.get(None))
                    .map(|n| n.as_str().to_owned())
            })
            .or_else(|| {
                email
                    .as_deref()
                    .and_then(|e| e.split('@').next())
                    .map(str::to_owned)
            });
        Ok(Identity {
            subject: claims.subject().as_str().to_owned(),
            email,
            username_hint,
        })
    }
}

fn claims_error(e: ClaimsVerificationError) -> ProviderError {
    match e {
        ClaimsVerificationError::Other(m) if m == "unverified email" => {
            ProviderError::UnverifiedEmail
        }
        e => ProviderError::Refused(format!("ID token: {e}")),
    }
}

fn token_error<RE, TE>(e: oauth2::RequestTokenError<RE, TE>) -> ProviderError
where
    RE: std::error::Error + 'static,
    TE: oauth2::ErrorResponse + 'static,
{
    match e {
        oauth2::RequestTokenError::ServerResponse(r) => {
            ProviderError::Refused(format!("token endpoint: {r}"))
        }
        // A token response that does not parse (an ID token without `sub`, say) is refused.
        oauth2::RequestTokenError::Parse(e, _) => {
            ProviderError::Refused(format!("token response: {e}"))
        }
        other => ProviderError::Unreachable(format!("token endpoint: {other}")),
    }
}

fn redirect_url(c: &ProviderConfig) -> Result<RedirectUrl, ProviderError> {
    RedirectUrl::new(c.redirect_uri.clone())
        .map_err(|e| ProviderError::Unreachable(format!("redirect URI: {e}")))
}

fn auth_url(u: &str) -> Result<AuthUrl, ProviderError> {
    AuthUrl::new(u.to_owned()).map_err(|e| ProviderError::Unreachable(format!("{u}: {e}")))
}

fn token_url(u: &str) -> Result<TokenUrl, ProviderError> {
    TokenUrl::new(u.to_owned()).map_err(|e| ProviderError::Unreachable(format!("{u}: {e}")))
}

#[derive(Deserialize)]
struct GitHubUser {
    id: i64,
    login: String,
}

#[derive(Deserialize)]
struct GitHubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

/// The GitHub user behind an access token, and their primary email if GitHub verified it.
async fn github_identity(
    http: &reqwest::Client,
    api: &str,
    access_token: &str,
) -> Result<Identity, ProviderError> {
    let get = |path: &str| {
        http.get(format!("{api}{path}"))
            .bearer_auth(access_token)
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
            .send()
    };
    let unreachable = |e: reqwest::Error| ProviderError::Unreachable(format!("GitHub API: {e}"));
    let user: GitHubUser = get("/user")
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(unreachable)?
        .json()
        .await
        .map_err(|e| ProviderError::Refused(format!("GitHub user: {e}")))?;
    let emails: Vec<GitHubEmail> = get("/user/emails")
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(unreachable)?
        .json()
        .await
        .map_err(|e| ProviderError::Refused(format!("GitHub emails: {e}")))?;
    let email = match emails.iter().find(|e| e.primary) {
        None => None,
        Some(e) if e.verified => Some(e.email.clone()),
        Some(_) => return Err(ProviderError::UnverifiedEmail),
    };
    Ok(Identity {
        subject: user.id.to_string(),
        email,
        username_hint: Some(user.login),
    })
}
