-- Signing in with an account elsewhere (GitHub, Google, any OpenID Connect provider).
-- The same in migrations/sqlite and migrations/postgres: no identity columns.

-- An account at a provider, keyed by what the provider says never changes: its subject.
-- Never by email: a provider that lets people type any address would hand over accounts.
CREATE TABLE oauth_identities (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The email the provider gave at the last sign-in, shown in the settings only.
    email TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    last_login_at BIGINT,
    PRIMARY KEY (provider, subject)
);
-- One account per provider for each user: "unlink GitHub" names one row.
CREATE UNIQUE INDEX oauth_identities_user_provider ON oauth_identities (user_id, provider);

-- A sign-in (or a link from the settings) on its way through the provider, for at most
-- ten minutes. Keyed by the SHA-256 of its `state`; the browser that started it holds the
-- same hash in an HttpOnly cookie. Deleted when used, whatever the outcome: single use.
CREATE TABLE oauth_flows (
    state_hash TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    -- The PKCE verifier, sealed with SECRET_KEY (see server/src/secrets.rs).
    pkce_verifier TEXT NOT NULL,
    -- The OpenID Connect nonce the ID token must carry.
    nonce TEXT NOT NULL,
    -- Set when a logged-in user links a provider from the settings: the account and the
    -- session that started it. NULL for a sign-in.
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    session_id BIGINT REFERENCES sessions (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX oauth_flows_expires ON oauth_flows (expires_at);
