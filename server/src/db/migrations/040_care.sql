-- Care relationships: which practitioner may see which patient's history. Each row mirrors one
-- Consent resource (patient, a practitioner actor, permit, period); the Consent is the record of
-- truth and this table is its index, rewritten by the Consent write hook in the same
-- transaction. Access predicates read it inside every query (see server/src/care/policy.ts).
CREATE TABLE care_grant (
  consent_id      text        NOT NULL,
  patient_id      text        NOT NULL,
  practitioner_id text        NOT NULL,
  -- 'appointment' (made when the patient books) or 'break-glass' (emergency, 24 hours).
  kind            text        NOT NULL,
  starts          timestamptz NOT NULL DEFAULT '-infinity',
  ends            timestamptz NOT NULL DEFAULT 'infinity',
  active          boolean     NOT NULL,
  PRIMARY KEY (consent_id, practitioner_id)
);
CREATE INDEX care_grant_practitioner ON care_grant (practitioner_id, patient_id) WHERE active;
CREATE INDEX care_grant_patient ON care_grant (patient_id);
