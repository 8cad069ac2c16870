-- Times are microseconds since the Unix epoch (UTC) in both backends, so the same queries and
-- row types serve PostgreSQL and SQLite. JSON values are stored as TEXT for the same reason.

CREATE TABLE registrations (
    id                           TEXT    PRIMARY KEY,
    org_id                       TEXT    NOT NULL,
    -- assigned when the registration becomes pending: failed attempts burn no number
    registration_number          TEXT,
    -- claiming | pending | approved | denied | expired | canceled | failed
    status                       TEXT    NOT NULL,
    customer_email               TEXT    NOT NULL,
    -- lowercase customer_email: the filter is case-insensitive
    customer_email_key           TEXT    NOT NULL,
    customer_name                TEXT,
    customer_phone               TEXT,
    channel_name                 TEXT,
    form_slug                    TEXT    NOT NULL,
    order_number                 TEXT,
    purchase_date                BIGINT,
    referrer                     TEXT,
    email_marketing_consent      BOOLEAN NOT NULL,
    email_marketing_consent_time BIGINT,
    -- JSON object of strings
    custom_fields                TEXT    NOT NULL DEFAULT '{}',
    -- JSON array of strings
    proof_urls                   TEXT    NOT NULL DEFAULT '[]',
    -- JSON warranty of the first line item
    warranty                     TEXT,
    denial_reason                TEXT,
    -- JSON AttemptFailure of a failed attempt
    failure_reason               TEXT,
    -- while claiming: not to be re-driven by the recovery worker before this
    lease_until                  BIGINT,
    -- the attempt's start; once pending, when it became pending
    create_time                  BIGINT  NOT NULL,
    update_time                  BIGINT  NOT NULL,
    review_time                  BIGINT,
    cancel_time                  BIGINT,
    CONSTRAINT registrations_org_number UNIQUE (org_id, registration_number),
    CONSTRAINT registrations_status_known CHECK (
        status IN ('claiming', 'pending', 'approved', 'denied', 'expired', 'canceled', 'failed')),
    CONSTRAINT registrations_number_once_visible CHECK (
        (status IN ('claiming', 'failed')) = (registration_number IS NULL))
);

-- keyset paging, unfiltered and per filter
CREATE INDEX registrations_by_time ON registrations (org_id, create_time, id);
CREATE INDEX registrations_by_email ON registrations (org_id, customer_email_key, create_time, id);
CREATE INDEX registrations_by_channel ON registrations (org_id, channel_name, create_time, id);
CREATE INDEX registrations_by_form ON registrations (org_id, form_slug, create_time, id);
CREATE INDEX registrations_by_status ON registrations (org_id, status, create_time, id);
-- the expiry sweep and the recovery worker
CREATE INDEX registrations_pending ON registrations (create_time, id) WHERE status = 'pending';
CREATE INDEX registrations_claiming ON registrations (create_time, id) WHERE status = 'claiming';

CREATE TABLE line_items (
    registration_id     TEXT    NOT NULL REFERENCES registrations (id),
    position            INTEGER NOT NULL,
    org_id              TEXT    NOT NULL,
    sku                 TEXT,
    name                TEXT,
    quantity            INTEGER NOT NULL,
    product_id          TEXT,
    variant_id          TEXT,
    source_line_item_id TEXT,
    image_url           TEXT,
    serial_number       TEXT    NOT NULL,
    -- lowercase serial_number
    serial_key          TEXT    NOT NULL,
    -- JSON warranty of the serial, once pending
    warranty            TEXT,
    PRIMARY KEY (registration_id, position),
    CONSTRAINT line_items_serial_once UNIQUE (registration_id, serial_key)
);

-- Which registration holds each serial now: rows exist exactly while the registration is
-- pending or approved, written in the transactions that change its status or swap a serial.
CREATE TABLE holdings (
    org_id          TEXT NOT NULL,
    serial_key      TEXT NOT NULL,
    registration_id TEXT NOT NULL REFERENCES registrations (id),
    serial_number   TEXT NOT NULL,
    PRIMARY KEY (org_id, serial_key)
);

CREATE INDEX holdings_by_registration ON holdings (registration_id);

-- The saga's steps: calls owed to serial-svc, written with the change that owes them.
CREATE TABLE intents (
    id                {{BIGSERIAL|INTEGER  }} PRIMARY KEY,
    org_id            TEXT    NOT NULL,
    registration_id   TEXT    NOT NULL REFERENCES registrations (id),
    kind              TEXT    NOT NULL CHECK (kind IN ('claim', 'release')),
    serial_number     TEXT    NOT NULL,
    -- a swap's claim: the serial the new one replaces
    replaces          TEXT,
    -- a swap's release: the serial that replaced this one
    replaced_by       TEXT,
    state             TEXT    NOT NULL CHECK (state IN ('pending', 'done')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_time BIGINT  NOT NULL,
    last_error        TEXT,
    -- JSON AttemptFailure of an aborted swap
    failure           TEXT,
    create_time       BIGINT  NOT NULL,
    update_time       BIGINT  NOT NULL
);

CREATE INDEX intents_due ON intents (state, next_attempt_time);
CREATE INDEX intents_by_registration ON intents (registration_id, id);

-- Sequential registration numbers, per org.
CREATE TABLE org_counters (
    org_id      TEXT   PRIMARY KEY,
    last_number BIGINT NOT NULL
);

-- request_id replay: the first answer of every mutation, kept at least 24 hours
CREATE TABLE request_keys (
    org_id      TEXT   NOT NULL,
    request_id  TEXT   NOT NULL,
    fingerprint {{BYTEA|BLOB }}  NOT NULL,
    response    TEXT,
    create_time BIGINT NOT NULL,
    PRIMARY KEY (org_id, request_id)
);

CREATE INDEX request_keys_by_time ON request_keys (create_time);
