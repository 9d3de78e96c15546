//! Integration tests: the real server on a free port, a fresh database per test, HTTP.
//! One binary, so the server library compiles once for all of them.

mod helpers;
mod meta;
mod users;
