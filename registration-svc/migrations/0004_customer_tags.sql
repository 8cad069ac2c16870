-- A serial's customer tags reach whoever registers it. Each line item keeps its serial's tags
-- (a JSON array, NULL for none) as they were when the serial was claimed; the registration's
-- tags are theirs, deduplicated in line item order, and have a row each here, written when the
-- registration completes and rewritten by a swap, so that ListRegistrations can filter on one
-- tag and page through the keyset (create_time, id) by index. create_time is the
-- registration's, which never changes once it is pending.
ALTER TABLE line_items ADD COLUMN customer_tags TEXT;

CREATE TABLE registration_tags (
    org_id          TEXT   NOT NULL,
    tag             TEXT   NOT NULL,
    create_time     BIGINT NOT NULL,
    registration_id TEXT   NOT NULL REFERENCES registrations (id),
    PRIMARY KEY (registration_id, tag)
);

CREATE INDEX registration_tags_by_tag ON registration_tags (org_id, tag, create_time, registration_id);
