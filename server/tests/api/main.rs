//! Integration tests: the real server on a free port, a fresh database per test, HTTP.
//! One binary, so the server library compiles once for all of them.

mod account;
mod avatars;
mod bad_input;
mod cross_site;
mod email_change;
mod fake_provider;
mod follows;
mod guessing;
mod helpers;
mod jwt;
mod logs;
mod me;
mod meta;
mod oauth;
mod oauth_attacks;
mod origins;
mod pagination;
mod posts;
mod refresh;
mod registration;
mod reset;
mod secrets_at_rest;
mod security;
mod seed;
mod sessions;
mod sqlite_settings;
mod startup;
mod static_files;
mod throttle;
mod tokens;
mod two_factor;
mod two_factor_login;
mod two_instances;
mod users;
