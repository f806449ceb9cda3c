-- The SMART authorization server's state. Secrets (codes, refresh tokens, login cookies) are
-- stored only as SHA-256 hashes; signing keys are private JWKs (the database is the key store).

-- Signing keys for access and id tokens. The newest is used for signing; older ones stay in the
-- JWKS until tokens they signed have expired (rotation without downtime).
CREATE TABLE oauth_key (
  kid          text        PRIMARY KEY,
  alg          text        NOT NULL,
  private_jwk  jsonb       NOT NULL,
  public_jwk   jsonb       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- Registered clients. kind 'public' (authorization code + PKCE, no secret) or 'backend'
-- (client_credentials with private_key_jwt). redirect_uris may start with the placeholder
-- $BASE_URL, replaced by the configured base URL when read.
CREATE TABLE oauth_client (
  client_id      text        PRIMARY KEY,
  name           text        NOT NULL,
  kind           text        NOT NULL CHECK (kind IN ('public', 'backend')),
  redirect_uris  text[]      NOT NULL DEFAULT '{}',
  -- Space-separated scopes the client may be granted; null means any supported scope.
  scope          text,
  jwks           jsonb,
  jwks_uri       text,
  -- First-party apps are pre-approved: no consent screen.
  first_party    boolean     NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now()
);

INSERT INTO oauth_client (client_id, name, kind, redirect_uris, first_party) VALUES
  ('booking-app', 'Booking', 'public', ARRAY['$BASE_URL/apps/booking/'], true),
  ('charting-app', 'Charting', 'public', ARRAY['$BASE_URL/apps/charting/'], true),
  ('analytics-app', 'Analytics', 'public', ARRAY['$BASE_URL/apps/analytics/'], true);

-- One browser's pass through authorize → login → second factor → consent → picker.
CREATE TABLE oauth_login (
  id             text        PRIMARY KEY,
  cookie_hash    text        NOT NULL,
  csrf           text        NOT NULL,
  -- The validated authorization request (client_id, redirect_uri, scope, state, PKCE, launch).
  request        jsonb       NOT NULL,
  account_id     text        REFERENCES account (id) ON DELETE CASCADE,
  -- 'login' → 'code' (second factor) → 'consent' → 'patient' (picker) → done.
  stage          text        NOT NULL DEFAULT 'login',
  code_hash      text,
  code_expires   timestamptz,
  code_attempts  integer     NOT NULL DEFAULT 0,
  patient        text,
  encounter      text,
  expires_at     timestamptz NOT NULL
);

-- Authorization codes (single use, short-lived).
CREATE TABLE oauth_code (
  code_hash       text        PRIMARY KEY,
  client_id       text        NOT NULL,
  account_id      text        NOT NULL REFERENCES account (id) ON DELETE CASCADE,
  scope           text        NOT NULL,
  redirect_uri    text        NOT NULL,
  code_challenge  text        NOT NULL,
  patient         text,
  encounter       text,
  -- Tokens issued for this code share this family id, so a replayed code revokes them.
  family_id       text        NOT NULL,
  expires_at      timestamptz NOT NULL,
  used_at         timestamptz
);

-- Refresh tokens. Each use rotates to a new token of the same family; using a rotated token
-- again (reuse) revokes the whole family.
CREATE TABLE oauth_refresh (
  token_hash   text        PRIMARY KEY,
  family_id    text        NOT NULL,
  client_id    text        NOT NULL,
  account_id   text        NOT NULL REFERENCES account (id) ON DELETE CASCADE,
  scope        text        NOT NULL,
  patient      text,
  encounter    text,
  expires_at   timestamptz NOT NULL,
  used_at      timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oauth_refresh_family ON oauth_refresh (family_id);

-- Revoked access-token ids and token families, kept until the tokens would have expired.
CREATE TABLE oauth_revocation (
  id          text        PRIMARY KEY,
  expires_at  timestamptz NOT NULL
);

-- Client-assertion jti values already seen (replay protection), until the assertion expires.
CREATE TABLE oauth_assertion_jti (
  client_id   text        NOT NULL,
  jti         text        NOT NULL,
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (client_id, jti)
);

-- EHR launch contexts handed out to the charting app (`launch` parameter).
CREATE TABLE oauth_launch (
  id          text        PRIMARY KEY,
  account_id  text        NOT NULL REFERENCES account (id) ON DELETE CASCADE,
  patient     text,
  encounter   text,
  expires_at  timestamptz NOT NULL
);

-- Scopes a user approved for a third-party client on the consent screen.
CREATE TABLE oauth_consent (
  account_id  text        NOT NULL REFERENCES account (id) ON DELETE CASCADE,
  client_id   text        NOT NULL REFERENCES oauth_client (client_id) ON DELETE CASCADE,
  scope       text        NOT NULL,
  PRIMARY KEY (account_id, client_id)
);
