-- Throttle counters move from each process's memory into the database (the same in
-- migrations/sqlite and migrations/postgres), so every instance of the API counts the
-- same attempts, and a restart forgets none (server/src/throttle.rs).
--
-- One row per limit and key: `bucket` is `limit/key` (e.g. `login_pair/user:7|10.0.0.1`).
-- The first attempt opens a window at `window_start` that ends at `ends_at` (microseconds
-- since the epoch), and `count` is the attempts counted in it. An account's known
-- addresses are rows of the pseudo-limit `known`, live until their `ends_at`.
-- Only the login, two-factor, re-authentication, registration and reset flows touch this
-- table; reads (feed, users, posts) never do. Ended rows are purged hourly.
CREATE TABLE throttle (
    bucket TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    count BIGINT NOT NULL
);
CREATE INDEX throttle_ends_at ON throttle (ends_at);
