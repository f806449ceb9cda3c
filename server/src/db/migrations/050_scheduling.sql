-- Scheduling bookkeeping (server/src/scheduling), written by the write hooks in the same
-- transaction as the FHIR resources they mirror. The FHIR resources stay the record; these
-- tables let the database itself enforce the booking invariants.

-- Every Slot, by schedule and time (kept by the Slot hook; read by $find and $bulk-publish).
CREATE TABLE sched_slot (
  slot_id      text        PRIMARY KEY,
  schedule_id  text,
  starts       timestamptz NOT NULL,
  ends         timestamptz NOT NULL,
  status       text        NOT NULL
);
CREATE INDEX sched_slot_schedule ON sched_slot (schedule_id, starts);
CREATE INDEX sched_slot_free ON sched_slot (starts) WHERE status = 'free';

-- One booking per slot: the primary key is the rule. A $hold claims with an expiry; an expired
-- hold may be taken over by the next booking.
CREATE TABLE sched_claim (
  slot_id         text        PRIMARY KEY,
  appointment_id  text        NOT NULL,
  expires_at      timestamptz
);
CREATE INDEX sched_claim_appointment ON sched_claim (appointment_id);

-- Appointments that occupy time (proposed, pending, booked, arrived, checked-in, fulfilled):
-- overlap checks per patient (under a per-patient advisory lock), referral use, the queue.
CREATE TABLE sched_appointment (
  appointment_id  text        PRIMARY KEY,
  patient_id      text,
  role_id         text,
  practitioner_id text,
  organization_id text,
  starts          timestamptz NOT NULL,
  ends            timestamptz NOT NULL,
  status          text        NOT NULL,
  -- The referral (ServiceRequest id) the booking used: a referral books one appointment.
  referral_id     text,
  -- Check-in time (status arrived), which orders the provider's queue.
  arrived_at      timestamptz,
  -- A $hold's expiry: after it the hold no longer occupies the patient's time.
  expires_at      timestamptz
);
CREATE INDEX sched_appointment_patient ON sched_appointment (patient_id, starts);
CREATE INDEX sched_appointment_practitioner ON sched_appointment (practitioner_id, starts);
CREATE INDEX sched_appointment_organization ON sched_appointment (organization_id, patient_id);
CREATE INDEX sched_appointment_queue ON sched_appointment (practitioner_id, arrived_at) WHERE arrived_at IS NOT NULL;
CREATE UNIQUE INDEX sched_appointment_referral ON sched_appointment (referral_id) WHERE referral_id IS NOT NULL;

-- Ratings: one row per rater and rated resource, holding the rater's latest score only.
CREATE TABLE sched_rating (
  rater       text        NOT NULL,
  target      text        NOT NULL,
  score       integer     NOT NULL CHECK (score BETWEEN 1 AND 5),
  rating_id   text        NOT NULL,
  rated_at    timestamptz NOT NULL,
  PRIMARY KEY (target, rater)
);
