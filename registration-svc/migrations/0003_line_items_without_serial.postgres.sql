-- A line item without a serial is a non-serialized product: it claims nothing, so it has no
-- serial number, no serial key and no holding.
ALTER TABLE line_items ALTER COLUMN serial_number DROP NOT NULL;
ALTER TABLE line_items ALTER COLUMN serial_key DROP NOT NULL;
