-- Times are microseconds since the Unix epoch (UTC) in both backends, so the same queries and
-- row types serve PostgreSQL and SQLite.

CREATE TABLE warranty_plans (
    org_id          TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    duration_months INTEGER NOT NULL,
    create_time     BIGINT  NOT NULL,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE products (
    org_id           TEXT   NOT NULL,
    sku              TEXT   NOT NULL,
    name             TEXT   NOT NULL,
    parent_sku       TEXT,
    warranty_plan_id TEXT,
    create_time      BIGINT NOT NULL,
    PRIMARY KEY (org_id, sku),
    CONSTRAINT products_parent_fk FOREIGN KEY (org_id, parent_sku) REFERENCES products (org_id, sku),
    CONSTRAINT products_plan_fk FOREIGN KEY (org_id, warranty_plan_id) REFERENCES warranty_plans (org_id, id)
);

CREATE INDEX products_by_parent ON products (org_id, parent_sku, sku);

CREATE TABLE serials (
    id               {{BIGSERIAL|INTEGER}} PRIMARY KEY,
    org_id           TEXT   NOT NULL,
    serial_number    TEXT   NOT NULL,
    -- lowercase serial_number: uniqueness and lookups are case-insensitive
    serial_key       TEXT   NOT NULL,
    product_sku      TEXT,
    warranty_plan_id TEXT,
    valid_from       BIGINT,
    valid_until      BIGINT,
    register_until   BIGINT,
    customer_tags    TEXT   NOT NULL DEFAULT '[]',
    claimant         TEXT,
    claim_time       BIGINT,
    allocate_time    BIGINT,
    revoke_time      BIGINT,
    revoke_reason    TEXT,
    create_time      BIGINT NOT NULL,
    update_time      BIGINT NOT NULL,
    CONSTRAINT serials_org_key UNIQUE (org_id, serial_key)
);

CREATE INDEX serials_by_org ON serials (org_id, id);
CREATE INDEX serials_by_sku ON serials (org_id, product_sku, id);
-- AllocateSerial scans only what was never handed out
CREATE INDEX serials_unallocated ON serials (org_id, id)
    WHERE claimant IS NULL AND revoke_time IS NULL AND allocate_time IS NULL;

CREATE TABLE serial_events (
    id         {{BIGSERIAL|INTEGER}} PRIMARY KEY,
    org_id     TEXT   NOT NULL,
    serial_id  BIGINT NOT NULL REFERENCES serials (id),
    kind       TEXT   NOT NULL,
    claimant   TEXT,
    actor      TEXT   NOT NULL,
    detail     TEXT,
    event_time BIGINT NOT NULL
);

CREATE INDEX serial_events_by_serial ON serial_events (serial_id, id);

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
