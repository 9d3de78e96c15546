//! Integration tests: the real server on a free port, a fresh database per test, HTTP.
//! One binary, so the server library compiles once for all of them.

mod follows;
mod helpers;
mod meta;
mod pagination;
mod posts;
mod security;
mod seed;
mod tokens;
mod users;
