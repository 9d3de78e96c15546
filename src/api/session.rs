//! The session: who is logged in, shared by every page through one context value.
//!
//! Start-up restores it with one cookie-only refresh (docs/security.md, "In the browser"):
//! 200 means logged in, 401 means logged out, silently. Until that answer, the state is
//! `Restoring` and guarded pages render nothing, so no login form flashes by. Without the
//! session hint cookie there is nothing to restore: logged out at once, with no request.
//! Logout, or a refresh the server refuses, clears every piece of user state and tells the
//! other tabs (docs/security.md, "In the browser").

use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::{TwoFactorLogin, User};

use super::client::LoginOutcome;
use super::flows;
use super::tabs::{TabChannel, TabEvent};
use super::transport::Fetch;
use super::{ApiError, Client, config};
use crate::flash::Flashes;

/// The `BroadcastChannel` name for session events.
const CHANNEL: &str = "microblog-session";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthState {
    /// The start-up refresh has not answered yet.
    Restoring,
    LoggedIn,
    LoggedOut,
}

/// Cheap to copy: every field is a handle into the reactive arena.
#[derive(Clone, Copy)]
pub struct Session {
    client: StoredValue<Client, LocalStorage>,
    channel: StoredValue<Option<TabChannel>, LocalStorage>,
    state: RwSignal<AuthState>,
    user: RwSignal<Option<User>>,
    flashes: Option<Flashes>,
}

impl Session {
    /// Creates the session for the API named in `index.html` and starts restoring it.
    pub fn start(flashes: Option<Flashes>) -> Self {
        let base = config::load_from_document();
        let restore = super::hint::may_have_session(&base);
        let session = Self::with_client(Client::new(base, Fetch), flashes);
        if restore {
            session.restore();
        } else {
            session.state.set(AuthState::LoggedOut);
        }
        session
    }

    /// A session over `client`, logged out until told otherwise.
    pub fn with_client(client: Client, flashes: Option<Flashes>) -> Self {
        let session = Self {
            client: StoredValue::new_local(client.clone()),
            channel: StoredValue::new_local(None),
            state: RwSignal::new(AuthState::Restoring),
            user: RwSignal::new(None),
            flashes,
        };
        client.on_refresh_rejected(move || session.refresh_rejected());
        let channel = TabChannel::open(CHANNEL, move |event| session.on_tab_event(event));
        session.channel.set_value(channel);
        session
    }

    /// The client, for pages to call the API with.
    pub fn client(&self) -> Client {
        self.client.get_value()
    }

    /// `None` while restoring: what `ProtectedRoute` wants for "not known yet".
    pub fn logged_in(&self) -> Option<bool> {
        match self.state.get() {
            AuthState::Restoring => None,
            AuthState::LoggedIn => Some(true),
            AuthState::LoggedOut => Some(false),
        }
    }

    /// The logged-in user (reactive).
    pub fn user(&self) -> Option<User> {
        self.user.get()
    }

    /// The logged-in user's id (reactive).
    pub fn user_id(&self) -> Option<i64> {
        self.user.with(|u| u.as_ref().map(|u| u.id))
    }

    /// After the user edits their profile.
    pub fn set_user(&self, user: User) {
        self.user.set(Some(user));
    }

    /// One cookie-only refresh, then `GET /api/me`, in the chunk of the flows.
    fn restore(&self) {
        let this = *self;
        spawn_local(async move {
            match flows::load().await {
                Ok(flows) => (flows.restore)(this).await,
                Err(err) => this.restore_failed(err),
            }
        });
    }

    /// [`Session::restore`] itself, in the chunk.
    pub(super) async fn restore_now(self) {
        let client = self.client();
        let result = match client.refresh().await {
            Ok(_) => client.me().await,
            Err(err) => Err(err),
        };
        match result {
            Ok(user) => self.logged_in_as(user),
            Err(err) => self.restore_failed(err),
        }
    }

    fn restore_failed(&self, err: ApiError) {
        self.drop_state();
        // A 401 just means "not logged in": nothing to say about it.
        if !err.is_status(401)
            && let Some(flashes) = self.flashes
        {
            flashes.error(err.to_string());
        }
    }

    fn logged_in_as(&self, user: User) {
        self.user.set(Some(user));
        self.state.set(AuthState::LoggedIn);
    }

    /// Logs in and loads the user. On success the other tabs are told to restore too.
    /// For an account with 2FA, nothing is logged in yet: the challenge comes back, for
    /// [`Session::login_two_factor`].
    pub async fn login(&self, username: &str, password: &str) -> Result<LoginOutcome, ApiError> {
        let flows = flows::load().await?;
        (flows.login)(*self, username.to_owned(), password.to_owned()).await
    }

    /// [`Session::login`] itself, in the chunk.
    pub(super) async fn login_now(
        self,
        username: &str,
        password: &str,
    ) -> Result<LoginOutcome, ApiError> {
        let outcome = self.client().login(username, password).await?;
        if let LoginOutcome::LoggedIn = outcome {
            self.load_user().await?;
        }
        Ok(outcome)
    }

    /// Finishes a 2FA login with the challenge and a code or a recovery code.
    pub async fn login_two_factor(&self, login: &TwoFactorLogin) -> Result<(), ApiError> {
        self.client().login_two_factor(login).await?;
        self.load_user().await
    }

    /// Finishes a provider's flow; a sign-in loads the user as a login does.
    pub async fn finish_oauth(
        &self,
        provider: &str,
        code: &wire::OAuth2Code,
    ) -> Result<super::OAuthOutcome, ApiError> {
        let outcome = self.client().finish_oauth(provider, code).await?;
        if let super::OAuthOutcome::LoggedIn = outcome {
            self.load_user().await?;
        }
        Ok(outcome)
    }

    /// After a login: loads the user, then tells the other tabs.
    async fn load_user(&self) -> Result<(), ApiError> {
        let client = self.client();
        match client.me().await {
            Ok(user) => {
                self.logged_in_as(user);
                self.broadcast(TabEvent::LoggedIn);
                Ok(())
            }
            Err(err) => {
                client.clear_token();
                Err(err)
            }
        }
    }

    /// Every session of the account was ended on the server (a password reset): forget
    /// this one too, here and in the other tabs.
    pub fn ended_by_server(&self) {
        if self.state.get_untracked() != AuthState::LoggedOut {
            self.drop_state();
            self.broadcast(TabEvent::LoggedOut);
        }
    }

    /// Revokes the session on the server, then forgets everything and tells the other tabs.
    pub async fn logout(&self) -> Result<(), ApiError> {
        (flows::load().await?.logout)(*self).await
    }

    /// [`Session::logout`] itself, in the chunk.
    pub(super) async fn logout_now(self) -> Result<(), ApiError> {
        self.client().logout().await?;
        self.drop_state();
        self.broadcast(TabEvent::LoggedOut);
        Ok(())
    }

    /// Forgets the token and every piece of user state held in memory, and the unsent post
    /// of a session that ends.
    fn drop_state(&self) {
        if self.state.get_untracked() == AuthState::LoggedIn {
            crate::storage::forget_draft();
        }
        self.client().clear_token();
        self.user.set(None);
        self.state.set(AuthState::LoggedOut);
    }

    /// The server refused a refresh: the session is over, in every tab.
    fn refresh_rejected(&self) {
        // At start-up a refused refresh only means "not logged in".
        if self.state.get_untracked() == AuthState::LoggedIn {
            self.drop_state();
            self.broadcast(TabEvent::LoggedOut);
            if let Some(flashes) = self.flashes {
                flashes.info("Your session has ended. Please log in again.");
            }
        }
    }

    fn on_tab_event(&self, event: TabEvent) {
        match event {
            TabEvent::LoggedOut => {
                if self.state.get_untracked() != AuthState::LoggedOut {
                    self.drop_state();
                    if let Some(flashes) = self.flashes {
                        flashes.info("You have been logged out.");
                    }
                }
            }
            // Another tab logged in: pick up the session from the cookie it received.
            TabEvent::LoggedIn => {
                if self.state.get_untracked() == AuthState::LoggedOut {
                    self.restore();
                }
            }
        }
    }

    fn broadcast(&self, event: TabEvent) {
        self.channel.with_value(|channel| {
            if let Some(channel) = channel {
                channel.send(event);
            }
        });
    }
}

/// The app's session.
pub fn use_session() -> Session {
    expect_context()
}
