//! Integration tests: the real server on a free port, a fresh database per test, HTTP.
//! One binary, so the server library compiles once for all of them.

mod account;
mod follows;
mod helpers;
mod meta;
mod pagination;
mod posts;
mod reset;
mod security;
mod seed;
mod sessions;
mod static_files;
mod throttle;
mod tokens;
mod two_factor;
mod users;
