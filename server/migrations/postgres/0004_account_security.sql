-- Account security: password reset, TOTP two-factor authentication, login challenges.
-- The same in migrations/sqlite: no identity columns here, so one DDL serves both.

-- Password-reset tokens by SHA-256 (auth rule 27): the plaintext exists only in the email.
-- One per user at a time: a newer request deletes the older one, and so does its use.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- SHA-256 of the user's password hash when the token was issued. Any password change,
    -- by any path, gives a new (salted) hash, so the token dies with no code to remember.
    password_fingerprint TEXT NOT NULL
);
CREATE INDEX password_resets_user ON password_resets (user_id);

-- A user's TOTP secret (auth rule 22). enabled_at is NULL while enrolment is pending:
-- 2FA is on only once a code from the authenticator app confirmed it.
CREATE TABLE totp_secrets (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- Base32, stored as is: whoever reads the database can compute codes. Acceptable while
    -- the database is as well guarded as the password hashes beside it; encrypting with a
    -- configured key is the next step (see db::two_factor).
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    enabled_at BIGINT,
    -- The step of the last accepted code: a code of this step or an older one is a replay
    -- (auth rule 23). Updated conditionally, so two requests cannot both use one step.
    last_step BIGINT NOT NULL DEFAULT -1
);

-- Single-use recovery codes by SHA-256 (auth rule 25); using one deletes it.
CREATE TABLE recovery_codes (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

-- What a correct password yields for a 2FA account (auth rule 24): a short-lived,
-- single-use challenge, by SHA-256, to be answered with a code. No session exists yet.
CREATE TABLE login_challenges (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- Wrong codes so far; past the configured number the challenge is deleted.
    failures BIGINT NOT NULL DEFAULT 0,
    -- As in password_resets: a password change ends the challenges the old one opened.
    password_fingerprint TEXT NOT NULL
);
CREATE INDEX login_challenges_user ON login_challenges (user_id);
