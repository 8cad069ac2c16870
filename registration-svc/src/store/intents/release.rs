//! Writes the operations share: intents, holdings, and a registration's row lock.

use chrono::{DateTime, Utc};

use crate::domain::{
    Intent, IntentKind, RegistrationId, RegistrationStatus, SerialNumber, StoreError, Transition,
};
use crate::store::{
    Tx, on_tx,
    rows::{IntentRow, intent_columns, micros, registration_id},
};

const INSERT_INTENT: &str = concat!(
    "INSERT INTO intents (org_id, registration_id, kind, serial_number, replaces, replaced_by, state, attempts, \
     next_attempt_time, create_time, update_time) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8, $8) \
     RETURNING ",
    intent_columns!()
);
const DELETE_HOLDINGS: &str =
    "DELETE FROM holdings WHERE org_id = $1 AND registration_id = $2 RETURNING serial_number";
const HOLDER: &str = "SELECT registration_id FROM holdings WHERE org_id = $1 AND serial_key = $2";
const LOCK_POSTGRES: &str = "SELECT status FROM registrations WHERE org_id = $1 AND id = $2 FOR UPDATE";
const LOCK_SQLITE: &str = "SELECT status FROM registrations WHERE org_id = $1 AND id = $2";

/// An intent to write.
pub(crate) struct NewIntent<'a> {
    pub registration_id: &'a RegistrationId,
    pub kind: IntentKind,
    pub serial_number: &'a str,
    pub replaces: Option<&'a SerialNumber>,
    pub replaced_by: Option<&'a SerialNumber>,
    /// When it may first be tried.
    pub due: DateTime<Utc>,
}

/// Writes a pending intent.
pub(crate) async fn insert_intent(
    tx: &mut Tx,
    org: &str,
    now: DateTime<Utc>,
    intent: NewIntent<'_>,
) -> Result<Intent, StoreError> {
    let row: IntentRow = on_tx!(tx, c => sqlx::query_as(INSERT_INTENT)
        .bind(org)
        .bind(intent.registration_id.as_str())
        .bind(intent.kind.as_str())
        .bind(intent.serial_number)
        .bind(intent.replaces.map(SerialNumber::as_str))
        .bind(intent.replaced_by.map(SerialNumber::as_str))
        .bind(micros(intent.due))
        .bind(micros(now))
        .fetch_one(c))?;
    row.into_domain()
}

/// A release of `serial_number` by registration `id`, due at once.
pub(crate) async fn release(
    tx: &mut Tx,
    org: &str,
    now: DateTime<Utc>,
    id: &RegistrationId,
    serial_number: &str,
    replaced_by: Option<&SerialNumber>,
) -> Result<Intent, StoreError> {
    let intent = NewIntent {
        registration_id: id,
        kind: IntentKind::Release,
        serial_number,
        replaces: None,
        replaced_by,
        due: now,
    };
    insert_intent(tx, org, now, intent).await
}

/// Registration `id` stops holding its serials: its holdings are deleted and a `release`
/// intent written for each. Call with the registration's row lock held.
pub(crate) async fn release_holdings(
    tx: &mut Tx,
    org: &str,
    id: &RegistrationId,
    now: DateTime<Utc>,
) -> Result<Vec<Intent>, StoreError> {
    let mut serials: Vec<String> =
        on_tx!(tx, c => sqlx::query_scalar(DELETE_HOLDINGS).bind(org).bind(id.as_str()).fetch_all(c))?;
    serials.sort_unstable();
    let mut intents = Vec::with_capacity(serials.len());
    for serial in &serials {
        intents.push(release(tx, org, now, id, serial, None).await?);
    }
    Ok(intents)
}

/// The registration that holds `serial` in `org` now.
pub(crate) async fn holder(
    tx: &mut Tx,
    org: &str,
    serial: &SerialNumber,
) -> Result<Option<RegistrationId>, StoreError> {
    let id: Option<String> =
        on_tx!(tx, c => sqlx::query_scalar(HOLDER).bind(org).bind(serial.key()).fetch_optional(c))?;
    id.as_deref().map(registration_id).transpose()
}

/// Takes registration `id`'s row lock (PostgreSQL; SQLite's writer is already alone) and reads
/// its status, or `None` if there is no such registration.
pub(crate) async fn lock(
    tx: &mut Tx,
    org: &str,
    id: &RegistrationId,
) -> Result<Option<RegistrationStatus>, StoreError> {
    let sql = tx.pick(LOCK_POSTGRES, LOCK_SQLITE);
    let status: Option<String> =
        on_tx!(tx, c => sqlx::query_scalar(sql).bind(org).bind(id.as_str()).fetch_optional(c))?;
    status
        .map(|s| {
            RegistrationStatus::from_db(&s)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown status {s:?}")))
        })
        .transpose()
}

/// The states `transition` may start from, as the two values of a `status IN ($a, $b)`.
pub(crate) fn from_states(transition: Transition) -> (&'static str, &'static str) {
    match transition.allowed_from() {
        [only] => (only.as_str(), only.as_str()),
        [a, b, ..] => (a.as_str(), b.as_str()),
        [] => ("", ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_transition_starts_from_at_most_two_states() {
        use Transition::*;
        for t in [Approve, Deny, Cancel, Expire, Reset] {
            assert!((1..=2).contains(&t.allowed_from().len()), "{t:?} needs a wider status IN (...)");
        }
        assert_eq!(from_states(Cancel), ("pending", "approved"));
        assert_eq!(from_states(Approve), ("pending", "pending"));
    }
}
