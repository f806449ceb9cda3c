-- SEARCH (issue 3): composite parameters, :text on tokens, faster chains, resumable reindex.

-- composite: one row per component value; the rows of one element (e.g. one
-- Observation.component) share `grp`, and `comp` numbers the components in the order the
-- SearchParameter lists them. Columns per component type: token system/code/text, quantity
-- value/system/code/unit, number value, date low/high, string str/exact, uri str,
-- reference target_type/target_id/url.
CREATE TABLE idx_composite (
  res_type text NOT NULL, res_id text NOT NULL, param text NOT NULL,
  grp integer NOT NULL, comp integer NOT NULL,
  system text, code text, text text, value numeric, unit text,
  low timestamptz, high timestamptz, str text, exact text,
  target_type text, target_id text, url text
);
CREATE INDEX idx_composite_search ON idx_composite (res_type, param, comp, code, system);
CREATE INDEX idx_composite_res ON idx_composite (res_id, res_type);

-- token :text searches words of display texts anywhere in them.
CREATE INDEX idx_token_text_trgm ON idx_token USING gin (text gin_trgm_ops);

-- Chains and _has walk from a target to the resources referring to it; covering the source
-- columns lets that be an index-only step.
CREATE INDEX idx_reference_target_src ON idx_reference (target_type, target_id, res_type, param, res_id);
DROP INDEX IF EXISTS idx_reference_target;

-- `npm run reindex`: where each run got to, so an interrupted run resumes there.
CREATE TABLE search_reindex (
  run          text PRIMARY KEY,
  last_type    text,
  last_id      text,
  done         bigint      NOT NULL DEFAULT 0,
  total        bigint      NOT NULL DEFAULT 0,
  started_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
