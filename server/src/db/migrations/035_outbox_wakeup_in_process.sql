-- The outbox NOTIFY trigger (030) serialised every writing transaction on PostgreSQL's global
-- notification lock at commit. Writers now wake their own process's dispatcher directly
-- (server/src/db/commit-signal.ts); other processes' events are found by the dispatcher's poll.
DROP TRIGGER IF EXISTS outbox_event_notify ON outbox_event;
DROP FUNCTION IF EXISTS outbox_event_notify();
