//! The completion of a creation, one atomic round: on PostgreSQL one statement of
//! data-modifying CTEs, on SQLite one script under a savepoint (in the writer's group commit). It inserts the registration and everything of it, and
//! closes the attempt, only if the attempt is still open: exactly one completion of an attempt
//! writes anything.
//!
//! A completion travels as one JSON parameter, a [`Completion`]: the registration's columns,
//! its line items and its tags, so that one statement text serves any number of line items.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{Registration, StoreError, Warranty, customer_tags};
use crate::store::rows::{LineItemRow, RegistrationColumns, micros, to_json};

/// A line item as the completion writes it: its position and serial key, and the columns a read
/// renders (JSON text for its warranty and customer tags, `None` for none).
#[derive(Serialize)]
struct Item {
    position: i32,
    serial_key: Option<String>,
    #[serde(flatten)]
    columns: LineItemRow<String, String>,
}

/// One completion, as both backends' statements read it (their `$5`).
#[derive(Serialize)]
pub(in crate::store) struct Completion {
    /// The attempt's id, bound on its own (`$2`), not in the JSON.
    #[serde(skip)]
    pub(in crate::store) id: String,
    /// When it completes (microseconds): the registration's `create_time`, bound on its own
    /// (`$3`), not in the JSON.
    #[serde(skip)]
    pub(in crate::store) now: i64,
    customer_email: String,
    customer_email_key: String,
    /// The registration's columns; its warranty is its first serialized line item's.
    #[serde(flatten)]
    columns: RegistrationColumns,
    items: Vec<Item>,
    /// The registration's customer tags (see [`customer_tags`]), for `registration_tags`.
    tags: Vec<String>,
}

impl Completion {
    /// The completion of `registration` with `warranties` (one per line item) at `now`.
    pub(in crate::store) fn new(
        registration: &Registration,
        warranties: &[Option<Warranty>],
        now: DateTime<Utc>,
    ) -> Result<Self, StoreError> {
        let mut items = Vec::with_capacity(registration.line_items.len());
        let mut warranty = None;
        let mut serialized = false;
        for (position, (item, item_warranty)) in registration.line_items.iter().zip(warranties).enumerate() {
            let item_warranty = item_warranty.as_ref().map(to_json).transpose()?;
            if item.serial_number.is_some() && !serialized {
                serialized = true;
                warranty = item_warranty.clone();
            }
            items.push(Item {
                position: i32::try_from(position)
                    .map_err(|_| StoreError::Corrupt(format!("line item {position}")))?,
                serial_key: item.serial_number.as_ref().map(|s| s.to_ascii_lowercase()),
                columns: LineItemRow::written(item, item_warranty)?,
            });
        }
        Ok(Self {
            id: registration.id.as_str().to_owned(),
            now: micros(now),
            customer_email: registration.customer_email.clone(),
            customer_email_key: registration.customer_email.to_lowercase(),
            columns: RegistrationColumns::written(registration, warranty)?,
            items,
            tags: customer_tags(&registration.line_items),
        })
    }
}

/// The registration's columns, the same on both backends.
macro_rules! insert_registration {
    () => {
        "INSERT INTO registrations (id, org_id, registration_number, status, customer_email, customer_email_key, \
         customer_name, customer_phone, channel_name, form_slug, order_number, purchase_date, referrer, \
         email_marketing_consent, email_marketing_consent_time, custom_fields, proof_urls, warranty, \
         create_time, update_time) "
    };
}
macro_rules! insert_line_items {
    () => {
        "INSERT INTO line_items (registration_id, position, org_id, sku, name, quantity, product_id, \
         variant_id, source_line_item_id, image_url, serial_number, serial_key, warranty, customer_tags) "
    };
}

/// Completes attempt `$2` of org `$1` if it is still open, in one statement: at `$3`, with
/// prefix `$4`, the [`Completion`] `$5` (the same parameters as [`COMPLETE_SQLITE`]). The
/// attempt is closed, the org's counter takes the next number, the registration is inserted
/// PENDING with its line items, a holding per serialized line item (a serial held by another
/// registration fails the whole statement with a unique violation) and its tags. Returns the
/// number, or no row if the attempt was not open. The attempt is found by its id alone, locked,
/// and its org and state checked after (`locked` is materialized so that the checks stay
/// there): with the state in the lookup the plan could read it through `attempts_open`, with the
/// org through `attempts_by_request`, which reads every attempt of the org (`index_plans.rs`
/// holds the plan to the primary key).
pub(in crate::store) const COMPLETE_POSTGRES: &str = concat!(
    "WITH job AS (SELECT $5::jsonb AS job), \
     locked AS MATERIALIZED (SELECT org_id, state FROM attempts WHERE id = $2 FOR UPDATE), \
     closed AS (UPDATE attempts SET state = 'completed', lease_until = NULL, update_time = $3 \
     FROM locked WHERE attempts.id = $2 AND locked.org_id = $1 AND locked.state = 'open' \
     RETURNING attempts.id), \
     counter AS (INSERT INTO org_counters (org_id, last_number) SELECT $1, 1 FROM closed \
     ON CONFLICT (org_id) DO UPDATE SET last_number = org_counters.last_number + 1 RETURNING last_number), \
     registration AS (",
    insert_registration!(),
    "SELECT $2, $1, $4 || '-REG-' || CASE WHEN last_number < 100000 THEN lpad(last_number::text, 5, '0') \
     ELSE last_number::text END, 'pending', job ->> 'customer_email', job ->> 'customer_email_key', \
     job ->> 'customer_name', job ->> 'customer_phone', job ->> 'channel_name', job ->> 'form_slug', \
     job ->> 'order_number', (job ->> 'purchase_date')::bigint, job ->> 'referrer', \
     (job ->> 'email_marketing_consent')::boolean, (job ->> 'email_marketing_consent_time')::bigint, \
     job ->> 'custom_fields', job ->> 'proof_urls', job ->> 'warranty', $3, $3 FROM job, counter \
     RETURNING registration_number), \
     items AS (SELECT x.* FROM job, counter, jsonb_to_recordset(job -> 'items') \
     AS x(position int, sku text, name text, quantity int, product_id text, variant_id text, \
     source_line_item_id text, image_url text, serial_number text, serial_key text, warranty text, \
     customer_tags text)), \
     line_item AS (",
    insert_line_items!(),
    "SELECT $2, position, $1, sku, name, quantity, product_id, variant_id, source_line_item_id, image_url, \
     serial_number, serial_key, warranty, customer_tags FROM items), \
     held AS (INSERT INTO holdings (org_id, serial_key, registration_id, serial_number) \
     SELECT $1, serial_key, $2, serial_number FROM items WHERE serial_key IS NOT NULL), \
     tagged AS (INSERT INTO registration_tags (org_id, tag, create_time, registration_id) \
     SELECT $1, tag, $3, $2 FROM job, counter, jsonb_array_elements_text(job -> 'tags') AS tag) \
     SELECT registration_number FROM registration"
);

/// SQLite's guard on each statement of the completion: attempt `$2` is still open. (The
/// script runs alone on the one writer, so no statement of it can change that but the last.)
macro_rules! still_open {
    () => {
        "EXISTS (SELECT 1 FROM attempts WHERE org_id = $1 AND id = $2 AND state = 'open')"
    };
}
/// SQLite's completion of attempt `$2` of org `$1` if it is still open: at `$3`, with prefix
/// `$4`, the [`Completion`] `$5`; returns the number, or no row.
pub(in crate::store) const COMPLETE_SQLITE: &str = shared::sqlite_savepoint!(
    "INSERT INTO org_counters (org_id, last_number) SELECT $1, 1 WHERE ",
    still_open!(),
    " ON CONFLICT (org_id) DO UPDATE SET last_number = org_counters.last_number + 1; ",
    insert_registration!(),
    "SELECT $2, $1, printf('%s-REG-%05d', $4, (SELECT last_number FROM org_counters WHERE org_id = $1)), \
     'pending', $5 ->> 'customer_email', $5 ->> 'customer_email_key', $5 ->> 'customer_name', \
     $5 ->> 'customer_phone', $5 ->> 'channel_name', $5 ->> 'form_slug', $5 ->> 'order_number', \
     $5 ->> 'purchase_date', $5 ->> 'referrer', $5 ->> 'email_marketing_consent', \
     $5 ->> 'email_marketing_consent_time', $5 ->> 'custom_fields', $5 ->> 'proof_urls', $5 ->> 'warranty', \
     $3, $3 WHERE ",
    still_open!(),
    "; ",
    insert_line_items!(),
    "SELECT $2, value ->> 'position', $1, value ->> 'sku', value ->> 'name', value ->> 'quantity', \
     value ->> 'product_id', value ->> 'variant_id', value ->> 'source_line_item_id', value ->> 'image_url', \
     value ->> 'serial_number', value ->> 'serial_key', value ->> 'warranty', value ->> 'customer_tags' \
     FROM json_each($5 -> 'items') WHERE ",
    still_open!(),
    "; INSERT INTO holdings (org_id, serial_key, registration_id, serial_number) \
     SELECT $1, value ->> 'serial_key', $2, value ->> 'serial_number' FROM json_each($5 -> 'items') \
     WHERE value ->> 'serial_key' IS NOT NULL AND ",
    still_open!(),
    "; INSERT INTO registration_tags (org_id, tag, create_time, registration_id) \
     SELECT $1, value, $3, $2 FROM json_each($5 -> 'tags') WHERE ",
    still_open!(),
    "; UPDATE attempts SET state = 'completed', lease_until = NULL, update_time = $3 \
     WHERE org_id = $1 AND id = $2 AND state = 'open'; \
     SELECT registration_number FROM registrations WHERE org_id = $1 AND id = $2 AND changes() > 0"
);

/// Which of `$2` (serial keys) org `$1` holds for a registration other than `$3` (its key):
/// after a completion failed on a holding.
pub(in crate::store) const HELD_ELSEWHERE: [&str; 2] = [
    "SELECT serial_key FROM holdings WHERE org_id = $1 AND registration_id <> $3 \
     AND serial_key IN (SELECT value FROM jsonb_array_elements_text($2::jsonb)) ORDER BY serial_key LIMIT 1",
    "SELECT serial_key FROM holdings WHERE org_id = $1 AND registration_id <> $3 \
     AND serial_key IN (SELECT value FROM json_each($2)) ORDER BY serial_key LIMIT 1",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RegisteredLineItem;

    #[test]
    fn an_item_carries_the_keys_both_completions_read() {
        let item = RegisteredLineItem {
            sku: Some("SAW".into()),
            name: None,
            quantity: 2,
            product_id: None,
            variant_id: None,
            source_line_item_id: None,
            image_url: None,
            serial_number: Some("SN-1".into()),
            warranty: None,
            customer_tags: vec!["vip".into()],
        };
        let item = Item {
            position: 0,
            serial_key: Some("sn-1".into()),
            columns: LineItemRow::written(&item, Some("{}".into())).unwrap(),
        };
        let json = serde_json::to_value(&item).unwrap();
        let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "customer_tags",
                "image_url",
                "name",
                "position",
                "product_id",
                "quantity",
                "serial_key",
                "serial_number",
                "sku",
                "source_line_item_id",
                "variant_id",
                "warranty"
            ]
        );
        assert_eq!((&json["warranty"], &json["customer_tags"]), (&"{}".into(), &r#"["vip"]"#.into()));
        assert_eq!((&json["quantity"], &json["name"]), (&2.into(), &serde_json::Value::Null));
    }
}
