-- A creation attempt is a row of its own, written once when the request arrives and closed
-- once: the registration is inserted only when it is complete (PENDING, its id the attempt's),
-- so no registration is ever written twice. The attempt is the creation's idempotency record:
-- `request_id` with the body's `fingerprint`, the request itself (the registration as asked,
-- JSON) and the serials to claim (a JSON array, in line item order).
CREATE TABLE attempts (
    id          TEXT   PRIMARY KEY,
    org_id      TEXT   NOT NULL,
    request_id  TEXT,
    fingerprint BYTEA,
    request     TEXT   NOT NULL,
    serials     TEXT   NOT NULL,
    -- open (claiming) | completed (the registration exists) | failed (refused, or rolled back)
    state       TEXT   NOT NULL CHECK (state IN ('open', 'completed', 'failed')),
    -- JSON AttemptFailure of a failed attempt
    failure     TEXT,
    -- while open: not to be rolled back by the recovery worker before this
    lease_until BIGINT,
    create_time BIGINT NOT NULL,
    update_time BIGINT NOT NULL
);

CREATE UNIQUE INDEX attempts_by_request ON attempts (org_id, request_id);
-- the recovery worker's pick of open attempts whose lease has passed, and the backlog gauge
CREATE INDEX attempts_open ON attempts (lease_until, id) WHERE state = 'open';
-- forgetting closed attempts once their request_id has been kept long enough
CREATE INDEX attempts_by_time ON attempts (create_time);

-- The releases of a failed attempt are intents of the attempt's id, which names no
-- registration: intents refer to a registration or to an attempt.
ALTER TABLE intents DROP CONSTRAINT intents_registration_id_fkey;

-- Attempts begun before this table were registrations in 'claiming' or 'failed'. Each becomes
-- an attempt: an open one is left to the recovery worker (rolled back once its lease passed,
-- as before); a failed one keeps its failure and its releases. Their request keys move along,
-- and so do those of registrations created since the key's retention began, so that a retry
-- still answers the first registration.
INSERT INTO attempts (id, org_id, request_id, fingerprint, request, serials, state, failure, lease_until,
                      create_time, update_time)
SELECT r.id, r.org_id, k.request_id, k.fingerprint, 'null',
       COALESCE((SELECT json_agg(i.serial_number ORDER BY i.position) FROM line_items i
                 WHERE i.registration_id = r.id AND i.serial_number IS NOT NULL)::text, '[]'),
       CASE r.status WHEN 'claiming' THEN 'open' WHEN 'failed' THEN 'failed' ELSE 'completed' END,
       r.failure_reason, CASE WHEN r.status = 'claiming' THEN COALESCE(r.lease_until, 0) END,
       r.create_time, r.update_time
FROM registrations r
LEFT JOIN LATERAL (SELECT request_id, fingerprint FROM request_keys
                   WHERE org_id = r.org_id AND response = '"' || r.id || '"'
                   ORDER BY create_time LIMIT 1) k ON TRUE
WHERE r.status IN ('claiming', 'failed') OR k.request_id IS NOT NULL;

UPDATE intents SET state = 'done' WHERE kind = 'claim' AND replaces IS NULL AND state = 'pending';
DELETE FROM registration_tags WHERE registration_id IN
    (SELECT id FROM registrations WHERE status IN ('claiming', 'failed'));
DELETE FROM line_items WHERE registration_id IN
    (SELECT id FROM registrations WHERE status IN ('claiming', 'failed'));
DELETE FROM registrations WHERE status IN ('claiming', 'failed');
DROP INDEX registrations_claiming;
