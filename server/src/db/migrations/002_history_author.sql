-- Who wrote each version (the caller's fhirUser, or the client/subject for backend services;
-- null for the platform itself). Authorship rules ("only the author may change a note") and the
-- audit trail read it.
ALTER TABLE resource_history ADD COLUMN author text;
