//! The microblog API server: axum over sqlx, SQLite or PostgreSQL.
//!
//! A request travels: [`web`] (security headers, CORS, logs) → [`routes`] (one module per
//! resource) → [`domain`] (parsed input) → [`db`] (queries), with [`auth`] naming the caller.

pub mod auth;
pub mod catch_panic;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod extract;
pub mod mail;
pub mod origin;
#[cfg(test)]
mod prop_tests;
pub mod routes;
pub mod secrets;
pub mod serve;
pub mod startup;
pub mod telemetry;
pub mod throttle;
pub mod web;
