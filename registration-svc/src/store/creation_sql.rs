//! The two writes of a creation, each one atomic round ([`shared::atomically!`]): on PostgreSQL
//! one statement of data-modifying CTEs, on SQLite one script under a savepoint in the writer's
//! group commit. Each creation used to run about twenty statements on the single SQLite writer
//! (and as many PostgreSQL round trips), one hand-off each. PostgreSQL completes all the
//! attempts waiting at the moment in one statement ([`super::batched`]).
//!
//! Line items travel as one JSON array parameter, each element an [`ItemJson`] (begin) or a
//! [`Hold`] (complete), so one statement text serves any number of them; PostgreSQL's
//! completions travel the same way, each a [`Completion`].

use serde::Serialize;

use super::rows::intent_columns;
use crate::domain::StoreError;
use crate::domain::{RegisteredLineItem, Registration, Warranty, customer_tags};

/// A line item as the begin statements read it: as the answer shows it, with its serial's key
/// (none without a serial: such an item gets no claim).
#[derive(Serialize)]
struct ItemJson<'a> {
    #[serde(flatten)]
    item: &'a RegisteredLineItem,
    serial_key: Option<String>,
}

/// `items` as the begin statements' `$18`.
pub(super) fn items_json(items: &[RegisteredLineItem]) -> Result<String, StoreError> {
    let items: Vec<ItemJson<'_>> = items
        .iter()
        .map(|item| ItemJson {
            item,
            serial_key: item.serial_number.as_ref().map(|s| s.to_ascii_lowercase()),
        })
        .collect();
    super::rows::to_json(&items)
}

/// A line item as the complete statements read it: its holding, its warranty and its serial's
/// customer tags (JSON text each, `None` for none).
#[derive(Serialize)]
pub(super) struct Hold {
    position: i32,
    serial_number: String,
    serial_key: String,
    warranty: Option<String>,
    customer_tags: Option<String>,
}

/// One completion, as PostgreSQL's batched statement reads it (an element of its `$2`) and
/// SQLite's script binds it.
#[derive(Serialize)]
pub(super) struct Completion {
    pub(super) id: String,
    /// When it completes (microseconds).
    pub(super) now: i64,
    /// The serialized line items, in line item order; the first one's warranty is the
    /// registration's.
    pub(super) holds: Vec<Hold>,
    /// The registration's customer tags (see [`customer_tags`]), for `registration_tags`.
    pub(super) tags: Vec<String>,
}

impl Completion {
    /// The completion of `registration` with `warranties` (one per line item) at `now`.
    pub(super) fn new(
        registration: &Registration,
        warranties: &[Option<Warranty>],
        now: i64,
    ) -> Result<Self, StoreError> {
        let mut holds = Vec::with_capacity(registration.line_items.len());
        for (position, (item, warranty)) in registration.line_items.iter().zip(warranties).enumerate() {
            let Some(serial_number) = &item.serial_number else { continue };
            holds.push(Hold {
                position: i32::try_from(position)
                    .map_err(|_| StoreError::Corrupt(format!("line item {position}")))?,
                serial_number: serial_number.clone(),
                serial_key: serial_number.to_ascii_lowercase(),
                warranty: warranty.as_ref().map(super::rows::to_json).transpose()?,
                customer_tags: Some(&item.customer_tags)
                    .filter(|tags| !tags.is_empty())
                    .map(super::rows::to_json)
                    .transpose()?,
            });
        }
        let tags = customer_tags(&registration.line_items);
        Ok(Self { id: registration.id.as_str().to_owned(), now, holds, tags })
    }

    /// The registration's warranty (JSON text): its first line item's.
    pub(super) fn warranty(&self) -> Option<&str> {
        self.holds.first().and_then(|hold| hold.warranty.as_deref())
    }
}

/// The registration's columns and their parameters, the same on both backends: `$1` org, `$2`
/// id, `$3`-`$15` the fields, `$16` lease until, `$17` now.
macro_rules! insert_registration {
    () => {
        "INSERT INTO registrations (id, org_id, registration_number, status, customer_email, customer_email_key, \
         customer_name, customer_phone, channel_name, form_slug, order_number, purchase_date, referrer, \
         email_marketing_consent, email_marketing_consent_time, custom_fields, proof_urls, lease_until, \
         create_time, update_time) \
         VALUES ($2, $1, NULL, 'claiming', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)"
    };
}

/// The request key `$19` with fingerprint `$20` and answer `$21`, if `$19` is not NULL. Written
/// first, so a key taken already fails the write (a unique violation) before anything else.
macro_rules! insert_request_key {
    () => {
        "INSERT INTO request_keys (org_id, request_id, fingerprint, response, create_time) \
         SELECT $1, $19, $20, $21, $17 WHERE $19 IS NOT NULL"
    };
}

macro_rules! line_item_columns {
    () => {
        "INSERT INTO line_items (registration_id, position, org_id, sku, name, quantity, product_id, \
         variant_id, source_line_item_id, image_url, serial_number, serial_key) "
    };
}

macro_rules! claim_columns {
    () => {
        "INSERT INTO intents (org_id, registration_id, kind, serial_number, state, attempts, \
         next_attempt_time, create_time, update_time) "
    };
}

/// Begins an attempt: the request key, the registration in CLAIMING, its line items (`$18`) and
/// a pending claim per serial (line items without one claim nothing), due at `$16`; returns the
/// claims in line item order.
pub(super) const BEGIN_POSTGRES: &str = concat!(
    "WITH request_key AS (",
    insert_request_key!(),
    "), registration AS (",
    insert_registration!(),
    "), items AS (SELECT (ordinality - 1)::int AS position, value AS item \
     FROM jsonb_array_elements($18::jsonb) WITH ORDINALITY), line_item AS (",
    line_item_columns!(),
    "SELECT $2, position, $1, item ->> 'sku', item ->> 'name', (item ->> 'quantity')::int, \
     item ->> 'product_id', item ->> 'variant_id', item ->> 'source_line_item_id', item ->> 'image_url', \
     item ->> 'serial_number', item ->> 'serial_key' FROM items) ",
    claim_columns!(),
    "SELECT $1, $2, 'claim', item ->> 'serial_number', 'pending', 0, $16, $17, $17 FROM items \
     WHERE item ->> 'serial_number' IS NOT NULL ORDER BY position RETURNING ",
    intent_columns!()
);
pub(super) const BEGIN_SQLITE: &str = shared::sqlite_savepoint!(
    insert_request_key!(),
    "; ",
    insert_registration!(),
    "; ",
    line_item_columns!(),
    "SELECT $2, CAST(key AS INTEGER), $1, value ->> 'sku', value ->> 'name', value ->> 'quantity', \
     value ->> 'product_id', value ->> 'variant_id', value ->> 'source_line_item_id', value ->> 'image_url', \
     value ->> 'serial_number', value ->> 'serial_key' FROM json_each($18); ",
    claim_columns!(),
    "SELECT $1, $2, 'claim', value ->> 'serial_number', 'pending', 0, $16, $17, $17 FROM json_each($18) \
     WHERE value ->> 'serial_number' IS NOT NULL ORDER BY CAST(key AS INTEGER) RETURNING ",
    intent_columns!()
);

/// Completes the attempts `$2` (a JSON array of [`Completion`]s) of org `$1` that are still
/// CLAIMING, in one statement: a holding per serialized line item (a serial held by another
/// registration fails the whole statement with a unique violation), each item's warranty and
/// customer tags, the registration's tags (`registration_tags`), the claims closed,
/// the org's next numbers in the array's order (`$3` is the org's prefix), and PENDING with the
/// first item's warranty, created and updated at the completion's `now`. Returns `(id, number)`
/// of each attempt it completed. One statement for many: the org's counter row is locked until
/// the commit, so completions one at a time would queue behind each other's commits. The
/// attempts are locked by primary key and their status checked after (`locked` is materialized
/// so that the check stays there): a status in the lookup would let the plan read them through
/// `registrations_claiming`, every CLAIMING row of it (see `plans.rs`).
pub(super) const COMPLETE_POSTGRES: &str = "WITH jobs AS (SELECT n, job ->> 'id' AS id, \
     (job ->> 'now')::bigint AS now, job -> 'holds' -> 0 ->> 'warranty' AS warranty, job -> 'holds' AS holds, \
     job -> 'tags' AS tags \
     FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS j(job, n)), \
     locked AS MATERIALIZED (SELECT id, status FROM registrations WHERE org_id = $1 \
     AND id IN (SELECT id FROM jobs) ORDER BY id FOR UPDATE), \
     numbered AS (SELECT jobs.*, row_number() OVER (ORDER BY jobs.n) AS k, count(*) OVER () AS total \
     FROM jobs JOIN locked USING (id) WHERE locked.status = 'claiming'), \
     items AS (SELECT numbered.id, numbered.now, x.* FROM numbered, jsonb_to_recordset(numbered.holds) \
     AS x(position int, serial_number text, serial_key text, warranty text, customer_tags text)), \
     held AS (INSERT INTO holdings (org_id, serial_key, registration_id, serial_number) \
     SELECT $1, serial_key, id, serial_number FROM items), \
     warranted AS (UPDATE line_items SET warranty = items.warranty, customer_tags = items.customer_tags \
     FROM items WHERE line_items.registration_id = items.id AND line_items.position = items.position \
     AND (items.warranty IS NOT NULL OR items.customer_tags IS NOT NULL)), \
     tagged AS (INSERT INTO registration_tags (org_id, tag, create_time, registration_id) \
     SELECT $1, tag, numbered.now, numbered.id FROM numbered, jsonb_array_elements_text(numbered.tags) AS tag), \
     closed AS (UPDATE intents SET state = 'done', update_time = numbered.now FROM numbered \
     WHERE intents.org_id = $1 AND intents.registration_id = numbered.id AND intents.kind = 'claim' \
     AND intents.replaces IS NULL AND intents.state = 'pending'), \
     counter AS (INSERT INTO org_counters (org_id, last_number) SELECT $1, count(*) FROM numbered \
     HAVING count(*) > 0 ON CONFLICT (org_id) \
     DO UPDATE SET last_number = org_counters.last_number + excluded.last_number RETURNING last_number), \
     assigned AS (SELECT numbered.*, counter.last_number - numbered.total + numbered.k AS number \
     FROM numbered, counter) \
     UPDATE registrations SET status = 'pending', registration_number = $3 || '-REG-' || \
     CASE WHEN assigned.number < 100000 THEN lpad(assigned.number::text, 5, '0') \
     ELSE assigned.number::text END, \
     warranty = assigned.warranty, create_time = assigned.now, update_time = assigned.now, lease_until = NULL \
     FROM assigned WHERE registrations.org_id = $1 AND registrations.id = assigned.id \
     RETURNING registrations.id, registrations.registration_number";
/// SQLite's guard on each statement of the completion: attempt `$2` is still CLAIMING. (The
/// script runs alone on the one writer, so no statement of it can change that but the last.)
macro_rules! still_claiming {
    () => {
        "EXISTS (SELECT 1 FROM registrations WHERE org_id = $1 AND id = $2 AND status = 'claiming')"
    };
}
/// SQLite's completion of attempt `$2` of org `$1` if it is still CLAIMING, one at a time (the
/// writer's group commit shares the commit): at `$3`, with prefix `$4`, the first item's
/// warranty `$5`, the holdings `$6` and the tags `$7` (a [`Completion`]'s); returns the number,
/// or no row.
pub(super) const COMPLETE_SQLITE: &str = shared::sqlite_savepoint!(
    "INSERT INTO holdings (org_id, serial_key, registration_id, serial_number) \
     SELECT $1, value ->> 'serial_key', $2, value ->> 'serial_number' FROM json_each($6) WHERE ",
    still_claiming!(),
    "; UPDATE line_items SET warranty = (SELECT value ->> 'warranty' FROM json_each($6) \
     WHERE value ->> 'position' = line_items.position), customer_tags = (SELECT value ->> 'customer_tags' \
     FROM json_each($6) WHERE value ->> 'position' = line_items.position) WHERE registration_id = $2 AND ",
    still_claiming!(),
    "; INSERT INTO registration_tags (org_id, tag, create_time, registration_id) \
     SELECT $1, value, $3, $2 FROM json_each($7) WHERE ",
    still_claiming!(),
    "; UPDATE intents SET state = 'done', update_time = $3 WHERE org_id = $1 AND registration_id = $2 \
     AND kind = 'claim' AND replaces IS NULL AND state = 'pending' AND ",
    still_claiming!(),
    "; INSERT INTO org_counters (org_id, last_number) SELECT $1, 1 WHERE ",
    still_claiming!(),
    " ON CONFLICT (org_id) DO UPDATE SET last_number = org_counters.last_number + 1; \
     UPDATE registrations SET status = 'pending', registration_number = printf('%s-REG-%05d', $4, \
     (SELECT last_number FROM org_counters WHERE org_id = $1)), \
     warranty = $5, create_time = $3, update_time = $3, lease_until = NULL \
     WHERE org_id = $1 AND id = $2 AND status = 'claiming' RETURNING registration_number"
);

/// Which of `$2` (serial keys) org `$1` holds for a registration other than `$3` (its key):
/// after a completion failed on a holding.
pub(super) const HELD_ELSEWHERE: [&str; 2] = [
    "SELECT serial_key FROM holdings WHERE org_id = $1 AND registration_id <> $3 \
     AND serial_key IN (SELECT value FROM jsonb_array_elements_text($2::jsonb)) ORDER BY serial_key LIMIT 1",
    "SELECT serial_key FROM holdings WHERE org_id = $1 AND registration_id <> $3 \
     AND serial_key IN (SELECT value FROM json_each($2)) ORDER BY serial_key LIMIT 1",
];
