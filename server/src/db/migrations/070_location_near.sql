-- `near` on Location (SEARCH): a Location's position is indexed as two idx_number rows,
-- near:latitude and near:longitude (see server/src/fhir/search/special.ts). New writes add them;
-- this indexes the Locations stored before.
INSERT INTO idx_number (res_type, res_id, param, value)
SELECT r.type, r.id, p.param, p.value
FROM resource r,
  LATERAL (SELECT r.content::jsonb -> 'position' AS pos) j,
  LATERAL (VALUES ('near:latitude', (j.pos ->> 'latitude')::numeric), ('near:longitude', (j.pos ->> 'longitude')::numeric)) AS p(param, value)
WHERE r.type = 'Location' AND NOT r.deleted
  AND jsonb_typeof(j.pos -> 'latitude') = 'number' AND jsonb_typeof(j.pos -> 'longitude') = 'number'
  AND NOT EXISTS (SELECT 1 FROM idx_number n WHERE n.res_type = r.type AND n.res_id = r.id AND n.param = p.param);
