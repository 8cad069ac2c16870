-- The releases of a failed attempt are intents of the attempt's id, which names no
-- registration: intents refer to a registration or to an attempt. SQLite cannot drop a
-- foreign key in place: the table is rebuilt (no table refers to intents).
CREATE TABLE intents_new (
    id                INTEGER PRIMARY KEY,
    org_id            TEXT    NOT NULL,
    -- the registration, or the creation attempt, the intent belongs to
    registration_id   TEXT    NOT NULL,
    kind              TEXT    NOT NULL CHECK (kind IN ('claim', 'release')),
    serial_number     TEXT    NOT NULL,
    replaces          TEXT,
    replaced_by       TEXT,
    state             TEXT    NOT NULL CHECK (state IN ('pending', 'done')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_time BIGINT  NOT NULL,
    last_error        TEXT,
    failure           TEXT,
    create_time       BIGINT  NOT NULL,
    update_time       BIGINT  NOT NULL
);
INSERT INTO intents_new SELECT id, org_id, registration_id, kind, serial_number, replaces, replaced_by, state,
    attempts, next_attempt_time, last_error, failure, create_time, update_time FROM intents;
DROP TABLE intents;
ALTER TABLE intents_new RENAME TO intents;
CREATE INDEX intents_due ON intents (next_attempt_time, id)
    WHERE state = 'pending' AND (kind = 'release' OR replaces IS NOT NULL);
CREATE INDEX intents_by_registration ON intents (registration_id, id);

-- Attempts begun before this table were registrations in 'claiming' or 'failed'. Each becomes
-- an attempt: an open one is left to the recovery worker (rolled back once its lease passed,
-- as before); a failed one keeps its failure and its releases. Their request keys move along,
-- and so do those of registrations created since the key's retention began, so that a retry
-- still answers the first registration.
INSERT INTO attempts (id, org_id, request_id, fingerprint, request, serials, state, failure, lease_until,
                      create_time, update_time)
SELECT r.id, r.org_id, k.request_id, k.fingerprint, 'null',
       (SELECT json_group_array(serial_number) FROM (SELECT i.serial_number FROM line_items i
                 WHERE i.registration_id = r.id AND i.serial_number IS NOT NULL ORDER BY i.position)),
       CASE r.status WHEN 'claiming' THEN 'open' WHEN 'failed' THEN 'failed' ELSE 'completed' END,
       r.failure_reason, CASE WHEN r.status = 'claiming' THEN COALESCE(r.lease_until, 0) END,
       r.create_time, r.update_time
FROM registrations r
LEFT JOIN request_keys k ON k.org_id = r.org_id AND k.response = '"' || r.id || '"'
    AND k.create_time = (SELECT min(create_time) FROM request_keys
                         WHERE org_id = r.org_id AND response = '"' || r.id || '"')
WHERE r.status IN ('claiming', 'failed') OR k.request_id IS NOT NULL;

UPDATE intents SET state = 'done' WHERE kind = 'claim' AND replaces IS NULL AND state = 'pending';
DELETE FROM registration_tags WHERE registration_id IN
    (SELECT id FROM registrations WHERE status IN ('claiming', 'failed'));
DELETE FROM line_items WHERE registration_id IN
    (SELECT id FROM registrations WHERE status IN ('claiming', 'failed'));
DELETE FROM registrations WHERE status IN ('claiming', 'failed');
DROP INDEX registrations_claiming;
