//! The one way the SPA talks to the API: a typed client over `fetch`, and the session
//! (who is logged in) built on it. Pages call these; components never do.

pub mod client;
pub mod config;
pub mod encode;
mod endpoints;
pub mod error;
pub mod flows;
mod hint;
mod oauth;
pub mod session;
pub mod tabs;
pub mod transport;

#[cfg(all(test, target_arch = "wasm32"))]
mod client_tests;

pub use client::{Client, LoginOutcome};
pub use endpoints::{post_cursor, user_cursor};
pub use error::ApiError;
pub use oauth::{OAuthOutcome, ProviderList};
pub use session::{Session, use_session};
