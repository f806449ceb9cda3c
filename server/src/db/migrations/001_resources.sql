-- FHIR resources: the current version of each resource, every version in history, and one
-- search-index table per search-parameter type. Index rows are keyed by (res_type, res_id) and
-- rewritten in the same transaction as the resource.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE resource (
  type          text        NOT NULL,
  id            text        NOT NULL,
  version       integer     NOT NULL,
  last_updated  timestamptz NOT NULL,
  deleted       boolean     NOT NULL DEFAULT false,
  -- The JSON of the current version, exactly as served (null once deleted).
  content       text,
  -- Compartments the resource belongs to, e.g. {Patient/123}; used by access rules.
  compartments  text[]      NOT NULL DEFAULT '{}',
  PRIMARY KEY (type, id)
);
CREATE INDEX resource_type_updated ON resource (type, last_updated, id);
CREATE INDEX resource_updated ON resource (last_updated);
CREATE INDEX resource_compartments ON resource USING gin (compartments);

CREATE TABLE resource_history (
  type          text        NOT NULL,
  id            text        NOT NULL,
  version       integer     NOT NULL,
  last_updated  timestamptz NOT NULL,
  deleted       boolean     NOT NULL DEFAULT false,
  -- The interaction that made this version: POST, PUT, PATCH or DELETE.
  method        text        NOT NULL,
  content       text,
  PRIMARY KEY (type, id, version)
);
CREATE INDEX resource_history_updated ON resource_history (last_updated);
CREATE INDEX resource_history_type_updated ON resource_history (type, last_updated);

-- string: `value` is lower-cased and accent-free (for starts-with, :contains, near matches);
-- `exact` keeps the original text for :exact.
CREATE TABLE idx_string (
  res_type text NOT NULL, res_id text NOT NULL, param text NOT NULL,
  value text NOT NULL, exact text NOT NULL
);
CREATE INDEX idx_string_search ON idx_string (res_type, param, value text_pattern_ops);
CREATE INDEX idx_string_trgm ON idx_string USING gin (value gin_trgm_ops);
CREATE INDEX idx_string_res ON idx_string (res_id, res_type);

-- token: system|code, with display/text (normalised) for :text.
CREATE TABLE idx_token (
  res_type text NOT NULL, res_id text NOT NULL, param text NOT NULL,
  system text, code text, text text
);
CREATE INDEX idx_token_search ON idx_token (res_type, param, code, system);
CREATE INDEX idx_token_res ON idx_token (res_id, res_type);

-- reference: local targets as (target_type, target_id); anything else (absolute URLs,
-- canonicals, urn:) in url.
CREATE TABLE idx_reference (
  res_type text NOT NULL, res_id text NOT NULL, param text NOT NULL,
  target_type text, target_id text, url text
);
CREATE INDEX idx_reference_search ON idx_reference (res_type, param, target_id, target_type);
CREATE INDEX idx_reference_target ON idx_reference (target_type, target_id);
CREATE INDEX idx_reference_url ON idx_reference (res_type, param, url);
CREATE INDEX idx_reference_res ON idx_reference (res_id, res_type);

-- date: every date, dateTime, instant, Period and Timing as the range [low, high] it covers.
CREATE TABLE idx_date (
  res_type text NOT NULL, res_id text NOT NULL, param text NOT NULL,
  low timestamptz NOT NULL, high timestamptz NOT NULL
);
CREATE INDEX idx_date_search ON idx_date (res_type, param, low, high);
CREATE INDEX idx_date_res ON idx_date (res_id, res_type);

CREATE TABLE idx_number (
  res_type text NOT NULL, res_id text NOT NULL, param text NOT NULL,
  value numeric NOT NULL
);
CREATE INDEX idx_number_search ON idx_number (res_type, param, value);
CREATE INDEX idx_number_res ON idx_number (res_id, res_type);

CREATE TABLE idx_quantity (
  res_type text NOT NULL, res_id text NOT NULL, param text NOT NULL,
  value numeric NOT NULL, system text, code text, unit text
);
CREATE INDEX idx_quantity_search ON idx_quantity (res_type, param, code, value);
CREATE INDEX idx_quantity_res ON idx_quantity (res_id, res_type);

CREATE TABLE idx_uri (
  res_type text NOT NULL, res_id text NOT NULL, param text NOT NULL,
  value text NOT NULL
);
CREATE INDEX idx_uri_search ON idx_uri (res_type, param, value text_pattern_ops);
CREATE INDEX idx_uri_res ON idx_uri (res_id, res_type);
