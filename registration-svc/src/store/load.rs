//! Reading registrations (with their line items) and intents inside a transaction, so a write
//! can answer with what it wrote and a read sees one snapshot.

use std::collections::HashMap;

use serde_json::json;

use super::{
    Tx, on_tx,
    rows::{
        IntentRow, LineItemRow, RegistrationRow, all, intent_columns, line_item_columns, registration_columns,
    },
};
use crate::domain::{Intent, Registration, RegistrationId, StoreError};

const BY_ID: &str =
    concat!("SELECT ", registration_columns!(), " FROM registrations WHERE org_id = $1 AND id = $2");

const ITEMS_POSTGRES: &str = concat!(
    "SELECT ",
    line_item_columns!(),
    " FROM line_items WHERE registration_id IN (SELECT jsonb_array_elements_text(CAST($1 AS TEXT)::jsonb)) \
     ORDER BY registration_id, position"
);
const ITEMS_SQLITE: &str = concat!(
    "SELECT ",
    line_item_columns!(),
    " FROM line_items WHERE registration_id IN (SELECT value FROM json_each($1)) \
     ORDER BY registration_id, position"
);

const INTENTS_OF: &str = concat!(
    "SELECT ",
    intent_columns!(),
    " FROM intents WHERE org_id = $1 AND registration_id = $2 ORDER BY id"
);
const INTENT: &str = concat!("SELECT ", intent_columns!(), " FROM intents WHERE org_id = $1 AND id = $2");

/// The row of registration `id` in `org`, in any state.
pub(crate) async fn row(tx: &mut Tx, org: &str, id: &str) -> Result<Option<RegistrationRow>, StoreError> {
    Ok(on_tx!(tx, c => sqlx::query_as(BY_ID).bind(org).bind(id).fetch_optional(c))?)
}

/// Registration `id` of `org` with its line items, in any state.
pub(crate) async fn registration(
    tx: &mut Tx,
    org: &str,
    id: &RegistrationId,
) -> Result<Option<Registration>, StoreError> {
    let Some(row) = row(tx, org, id.as_str()).await? else { return Ok(None) };
    Ok(with_line_items(tx, vec![row]).await?.pop())
}

/// Like [`registration`], for a registration that must exist (it was just written).
pub(crate) async fn existing(
    tx: &mut Tx,
    org: &str,
    id: &RegistrationId,
) -> Result<Registration, StoreError> {
    registration(tx, org, id).await?.ok_or_else(|| StoreError::Corrupt(format!("registration {id} vanished")))
}

/// The registrations of `rows`, in the same order, each with its line items.
pub(crate) async fn with_line_items(
    tx: &mut Tx,
    rows: Vec<RegistrationRow>,
) -> Result<Vec<Registration>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids = json!(rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>()).to_string();
    let sql = tx.pick(ITEMS_POSTGRES, ITEMS_SQLITE);
    let items: Vec<LineItemRow> = on_tx!(tx, c => sqlx::query_as(sql).bind(&ids).fetch_all(c))?;
    let mut by_registration: HashMap<String, Vec<LineItemRow>> = HashMap::new();
    for item in items {
        by_registration.entry(item.registration_id.clone()).or_default().push(item);
    }
    rows.into_iter()
        .map(|row| {
            let items = by_registration.remove(&row.id).unwrap_or_default();
            let mut registration = row.into_domain()?;
            registration.line_items = all(items, LineItemRow::into_domain)?;
            Ok(registration)
        })
        .collect()
}

/// Every intent of registration `id`, oldest first.
pub(crate) async fn intents_of(
    tx: &mut Tx,
    org: &str,
    id: &RegistrationId,
) -> Result<Vec<Intent>, StoreError> {
    let rows: Vec<IntentRow> =
        on_tx!(tx, c => sqlx::query_as(INTENTS_OF).bind(org).bind(id.as_str()).fetch_all(c))?;
    all(rows, IntentRow::into_domain)
}

/// Intent `id` of `org`.
pub(crate) async fn intent(tx: &mut Tx, org: &str, id: i64) -> Result<Option<Intent>, StoreError> {
    let row: Option<IntentRow> =
        on_tx!(tx, c => sqlx::query_as(INTENT).bind(org).bind(id).fetch_optional(c))?;
    row.map(IntentRow::into_domain).transpose()
}
