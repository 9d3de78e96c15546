-- The microblog schema (PostgreSQL flavour; migrations/sqlite holds the same for SQLite).
-- Times are integers: microseconds since the Unix epoch, UTC. One representation on both
-- databases, compared and ordered as plain integers, formatted by the wire crate.

CREATE TABLE users (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username TEXT NOT NULL,
    email TEXT NOT NULL,
    -- NULL for accounts created by OAuth login only (has_password = false).
    password_hash TEXT,
    about_me TEXT NOT NULL DEFAULT '',
    first_seen BIGINT NOT NULL,
    -- Updated at most once a minute per user, so reads do not become writes.
    last_seen BIGINT NOT NULL
);
-- Case-insensitive uniqueness: "Susan" and "susan" are the same person to a reader.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE follows (
    follower_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    followed_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (follower_id, followed_id),
    CHECK (follower_id <> followed_id)
);
-- The primary key serves "whom does X follow"; this serves "who follows X".
CREATE INDEX follows_followed ON follows (followed_id, follower_id);

CREATE TABLE posts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    timestamp BIGINT NOT NULL
);
-- Explore and `after=` pagination walk posts newest first.
CREATE INDEX posts_timestamp ON posts (timestamp DESC, id DESC);
-- A user's page and the feed walk one author's posts newest first.
CREATE INDEX posts_author_timestamp ON posts (author_id, timestamp DESC, id DESC);

-- A session is one login: the family of every refresh token rotated from it.
-- Revoking the session kills all its tokens at once (logout, reuse detection).
CREATE TABLE sessions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    -- Absolute: refresh tokens live this long from login, never extended by rotation.
    expires_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    -- The generation of the current refresh token; each rotation adds one.
    generation BIGINT NOT NULL DEFAULT 0,
    rotated_at BIGINT,
    -- The current refresh token, sealed with a key derived from its predecessor, so that
    -- a request racing the rotation with the predecessor (within the grace) can be given
    -- the same current token instead of forking the lineage. Ignored once the grace is over.
    sealed_current TEXT,
    revoked_at BIGINT,
    user_agent TEXT NOT NULL DEFAULT '',
    client_ip TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Every refresh token ever issued to a live session, by SHA-256, so that presenting an
-- old one is recognised as reuse (and revokes the family) rather than as "unknown".
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    generation BIGINT NOT NULL
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Access tokens by SHA-256. Kept past expiry for the session's life: the reference
-- client sends its expired access token along with the refresh, and it must match.
CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX access_tokens_session ON access_tokens (session_id);
