-- A line item without a serial is a non-serialized product: it claims nothing, so it has no
-- serial number, no serial key and no holding. SQLite cannot drop a NOT NULL in place: the
-- table is rebuilt (no table refers to line_items, so foreign keys stay satisfied).
CREATE TABLE line_items_new (
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
    -- NULL for a non-serialized product
    serial_number       TEXT,
    -- lowercase serial_number
    serial_key          TEXT,
    -- JSON warranty of the serial, once pending
    warranty            TEXT,
    PRIMARY KEY (registration_id, position),
    CONSTRAINT line_items_serial_once UNIQUE (registration_id, serial_key)
);
INSERT INTO line_items_new SELECT registration_id, position, org_id, sku, name, quantity, product_id,
    variant_id, source_line_item_id, image_url, serial_number, serial_key, warranty FROM line_items;
DROP TABLE line_items;
ALTER TABLE line_items_new RENAME TO line_items;
