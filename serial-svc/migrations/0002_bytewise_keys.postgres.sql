-- Batch inserts were bound by the database: every row updates four indexes keyed on org_id, and
-- the database's default collation (C.UTF-8 here, often en_US) compares text through strcoll.
-- Keys are identifiers matched for equality and ordered only for keyset paging, so byte order
-- ("C") is all they need: the same order SQLite's BINARY collation gives.
ALTER TABLE serials
    ALTER COLUMN org_id TYPE TEXT COLLATE "C",
    ALTER COLUMN serial_key TYPE TEXT COLLATE "C",
    ALTER COLUMN product_sku TYPE TEXT COLLATE "C";

-- Serials are never deleted, and an event is only ever written in the transaction that writes
-- or changes its serial, so the foreign key checked nothing the code does not already
-- guarantee, at about a quarter of a batch's time.
ALTER TABLE serial_events DROP CONSTRAINT serial_events_serial_id_fkey;
