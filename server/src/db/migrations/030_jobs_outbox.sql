-- Background jobs. `outbox_event` gets one row per written resource version, inserted by the
-- same statement that writes the version (fhir/repo/write-sql.ts), so an event exists exactly
-- when its change committed. The dispatcher (server/src/jobs/dispatcher.ts) claims rows with
-- FOR UPDATE SKIP LOCKED, hands them on (BullMQ, or in-process handlers without Redis) and
-- deletes them. Without Redis the row is also the retry state (attempts, next_attempt_at).
CREATE TABLE outbox_event (
  seq             bigserial   PRIMARY KEY,
  res_type        text        NOT NULL,
  res_id          text        NOT NULL,
  version         integer     NOT NULL,
  -- The interaction that made the version: POST, PUT, PATCH or DELETE.
  method          text        NOT NULL,
  last_updated    timestamptz NOT NULL,
  attempts        integer     NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text
);
CREATE INDEX outbox_event_due ON outbox_event (next_attempt_at, seq);

-- Wake listening dispatchers once per writing statement (NOTIFY is delivered at commit, and
-- folded to one per transaction); they also poll, so a missed notification only delays.
CREATE FUNCTION outbox_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox_event', '');
  RETURN NULL;
END $$;
CREATE TRIGGER outbox_event_notify AFTER INSERT ON outbox_event
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_event_notify();

-- Idempotency: one row per (event, handler) that has run. A handler's database effects commit
-- in the same transaction as its row, so a retried job never repeats them; external sends
-- (SMS, e-mail, web hooks) record their state here too (see jobs/idempotency.ts).
CREATE TABLE job_delivery (
  event_key    text        NOT NULL,
  handler      text        NOT NULL,
  -- 'done', or 'sending' while an external send is in flight (a crash leaves it so).
  status       text        NOT NULL,
  detail       text,
  delivered_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_key, handler)
);

-- Jobs that failed every attempt: kept for inspection and replay.
CREATE TABLE job_dead_letter (
  id         bigserial   PRIMARY KEY,
  queue      text        NOT NULL,
  job_key    text        NOT NULL,
  data       text        NOT NULL,
  error      text,
  attempts   integer     NOT NULL,
  failed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_dead_letter_key ON job_dead_letter (job_key);
