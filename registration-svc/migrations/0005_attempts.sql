-- A creation attempt is a row of its own, written once when the request arrives and closed
-- once: the registration is inserted only when it is complete (PENDING, its id the attempt's),
-- so no registration is ever written twice. The attempt is the creation's idempotency record:
-- `request_id` with the body's `fingerprint`, the request itself (the registration as asked,
-- JSON) and the serials to claim (a JSON array, in line item order).
CREATE TABLE attempts (
    id          TEXT   PRIMARY KEY,
    org_id      TEXT   NOT NULL,
    request_id  TEXT,
    fingerprint {{BYTEA|BLOB}},
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
