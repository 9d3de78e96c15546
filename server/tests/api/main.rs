//! Integration tests: the real server on a free port, a fresh database per test, HTTP.
//! One binary, so the server library compiles once for all of them.

mod account;
mod helpers;
mod meta;
mod reset;
mod sessions;
mod throttle;
mod two_factor;
mod users;
