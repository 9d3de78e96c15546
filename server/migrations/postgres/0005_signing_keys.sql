-- Access tokens become JWTs signed with Ed25519 (the same in migrations/sqlite and
-- migrations/postgres: no identity columns). Their keys live here, so every instance of
-- the API signs and verifies with one set.
CREATE TABLE signing_keys (
    -- The JWK `kid`: random, never reused.
    kid TEXT PRIMARY KEY,
    -- The public key, base64url (the JWK's `x`): published at /.well-known/jwks.json.
    public_key TEXT NOT NULL,
    -- The private key (PKCS#8), sealed with SECRET_KEY (see server/src/secrets.rs): a copy of
    -- the database alone cannot sign.
    private_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- Published at once, used to sign only from then: verifiers that cache the key set see
    -- the key before any token it signed reaches them. The newest key whose time has come
    -- signs; the one before it stays published until its last token has expired.
    signs_from BIGINT NOT NULL
);
CREATE INDEX signing_keys_signs_from ON signing_keys (signs_from);

-- Access tokens are no longer stored: a JWT proves itself, and its `sid` names the
-- session, which is what logout and revocation end.
DROP TABLE access_tokens;

-- TOTP secrets are sealed with SECRET_KEY from now on; the server seals the plaintext
-- ones left by earlier versions at its next start (secrets::reseal_all).
