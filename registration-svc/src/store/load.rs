//! Reading registrations (with their line items) and intents inside a transaction, so a write
//! can answer with what it wrote and a read sees one snapshot.

use super::{
    Tx, on_tx,
    rows::{IntentRow, RegistrationWithItems, all, intent_columns, registration_with_items},
};
use crate::domain::{Intent, Registration, RegistrationId, StoreError};

/// Registration `$2` of org `$1` with its line items.
const BY_ID: [&str; 2] = registration_with_items!("id = $2");

const INTENTS_OF: &str = concat!(
    "SELECT ",
    intent_columns!(),
    " FROM intents WHERE org_id = $1 AND registration_id = $2 ORDER BY id"
);
const INTENT: &str = concat!("SELECT ", intent_columns!(), " FROM intents WHERE org_id = $1 AND id = $2");

/// Registration `id` of `org` with its line items, in any state: one statement.
pub(crate) async fn registration(
    tx: &mut Tx,
    org: &str,
    id: &RegistrationId,
) -> Result<Option<Registration>, StoreError> {
    let [postgres, sqlite] = BY_ID;
    let sql = tx.pick(postgres, sqlite);
    let row: Option<RegistrationWithItems> =
        on_tx!(tx, c => sqlx::query_as(sql).bind(org).bind(id.as_str()).fetch_optional(c))?;
    row.map(RegistrationWithItems::into_domain).transpose()
}

/// Like [`registration`], for a registration that must exist (it was just written).
pub(crate) async fn existing(
    tx: &mut Tx,
    org: &str,
    id: &RegistrationId,
) -> Result<Registration, StoreError> {
    registration(tx, org, id).await?.ok_or_else(|| StoreError::Corrupt(format!("registration {id} vanished")))
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
