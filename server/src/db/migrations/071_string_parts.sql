-- Overlapping string parameters (SEARCH; see server/src/fhir/search/string-coverage.ts): a value is
-- indexed once, as a row of the wide parameter (Patient `name`, `address`) tagged with the part it
-- came from (`family`, `city`...), and the narrow parameters (`family`, `address-city`...) read those
-- rows. `part` is in the search index so narrow searches stay index-only.
ALTER TABLE idx_string ADD COLUMN part text;
DROP INDEX IF EXISTS idx_string_search;
CREATE INDEX idx_string_search ON idx_string (res_type, param, value text_pattern_ops) INCLUDE (res_id, part);

-- Rows stored before: each narrow parameter's rows become the wide parameter's rows of its part,
-- and the wide parameter's untagged copies of the same values go. (The R4 overlaps; a test checks
-- this list against the code. Overlaps that profiles/ add are converted by `npm run reindex`.)
CREATE TEMPORARY TABLE string_overlap (res_type text, wide text, narrow text, part text) ON COMMIT DROP;
INSERT INTO string_overlap VALUES
  ('InsurancePlan', 'address', 'address-city', 'city'),
  ('InsurancePlan', 'address', 'address-country', 'country'),
  ('InsurancePlan', 'address', 'address-postalcode', 'postalCode'),
  ('InsurancePlan', 'address', 'address-state', 'state'),
  ('Location', 'address', 'address-city', 'city'),
  ('Location', 'address', 'address-country', 'country'),
  ('Location', 'address', 'address-postalcode', 'postalCode'),
  ('Location', 'address', 'address-state', 'state'),
  ('Organization', 'address', 'address-city', 'city'),
  ('Organization', 'address', 'address-country', 'country'),
  ('Organization', 'address', 'address-postalcode', 'postalCode'),
  ('Organization', 'address', 'address-state', 'state'),
  ('Patient', 'address', 'address-city', 'city'),
  ('Patient', 'address', 'address-country', 'country'),
  ('Patient', 'address', 'address-postalcode', 'postalCode'),
  ('Patient', 'address', 'address-state', 'state'),
  ('Patient', 'name', 'family', 'family'),
  ('Patient', 'name', 'given', 'given'),
  ('Practitioner', 'address', 'address-city', 'city'),
  ('Practitioner', 'address', 'address-country', 'country'),
  ('Practitioner', 'address', 'address-postalcode', 'postalCode'),
  ('Practitioner', 'address', 'address-state', 'state'),
  ('Practitioner', 'name', 'family', 'family'),
  ('Practitioner', 'name', 'given', 'given'),
  ('RelatedPerson', 'address', 'address-city', 'city'),
  ('RelatedPerson', 'address', 'address-country', 'country'),
  ('RelatedPerson', 'address', 'address-postalcode', 'postalCode'),
  ('RelatedPerson', 'address', 'address-state', 'state');

UPDATE idx_string s SET param = o.wide, part = o.part
FROM string_overlap o WHERE s.res_type = o.res_type AND s.param = o.narrow;

DELETE FROM idx_string w
USING (SELECT DISTINCT res_type, wide FROM string_overlap) o
WHERE w.res_type = o.res_type AND w.param = o.wide AND w.part IS NULL
  AND EXISTS (SELECT 1 FROM idx_string t WHERE t.res_type = w.res_type AND t.res_id = w.res_id AND t.param = w.param
    AND t.part IS NOT NULL AND t.value = w.value AND t.exact = w.exact);
