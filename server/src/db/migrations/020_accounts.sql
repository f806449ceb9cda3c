-- User accounts live outside the FHIR API: nothing here is ever served as a FHIR resource.
-- Each account links to the user's Patient or Practitioner (`fhir_user`).
CREATE TABLE account (
  id               text        PRIMARY KEY,
  -- Stored as given; uniqueness and lookups are case-insensitive through lower(email).
  email            text        NOT NULL,
  password_hash    text        NOT NULL,
  role             text        NOT NULL,
  full_name        text        NOT NULL DEFAULT '',
  phone            text        NOT NULL DEFAULT '',
  -- "Patient/<id>" or "Practitioner/<id>".
  fhir_user        text,
  -- 'email' when the login asks for an e-mailed code; null when it does not.
  second_factor    text        CHECK (second_factor IN ('email')),
  email_verified   boolean     NOT NULL DEFAULT true,
  failed_attempts  integer     NOT NULL DEFAULT 0,
  locked_until     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX account_email ON account (lower(email));
CREATE INDEX account_fhir_user ON account (fhir_user);

-- One-time e-mail verification tokens for self-registered patients (stored hashed).
CREATE TABLE account_verification (
  token_hash  text        PRIMARY KEY,
  account_id  text        NOT NULL REFERENCES account (id) ON DELETE CASCADE,
  expires_at  timestamptz NOT NULL
);
