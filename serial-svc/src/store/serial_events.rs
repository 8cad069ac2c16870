//! `serial_events`, a serial's history: written in the transaction of the change it records.

use futures::TryFutureExt;

use super::{Store, Tx, all, micros, on_reader, on_tx, time};
use crate::domain::{Ctx, EventKind, SerialEvent, SerialNumber, StoreError};

const INSERT: &str = "INSERT INTO serial_events (org_id, serial_id, kind, claimant, actor, detail, event_time) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Appends one event to serial `serial_id`'s history.
pub(crate) async fn record(
    tx: &mut Tx,
    ctx: &Ctx<'_>,
    serial_id: i64,
    kind: EventKind,
    claimant: Option<&str>,
    detail: Option<&str>,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => sqlx::query(INSERT)
        .bind(ctx.org)
        .bind(serial_id)
        .bind(kind.as_str())
        .bind(claimant)
        .bind(ctx.actor)
        .bind(detail)
        .bind(micros(ctx.now))
        .execute(c).map_ok(drop))?;
    Ok(())
}

/// The history after event `$3`: first the `created` event, which is the serial's row itself
/// (numbered 0, before every stored event), then the stored events.
const LIST: &str = "SELECT CAST(0 AS BIGINT) AS id, 'created' AS kind, CAST(NULL AS TEXT) AS claimant, \
                    created_by AS actor, CAST(NULL AS TEXT) AS detail, create_time AS event_time \
                    FROM serials WHERE org_id = $1 AND serial_key = $2 AND $3 < 0 \
                    UNION ALL \
                    SELECT e.id, e.kind, e.claimant, e.actor, e.detail, e.event_time \
                    FROM serial_events e JOIN serials s ON s.id = e.serial_id \
                    WHERE s.org_id = $1 AND s.serial_key = $2 AND e.id > $3 ORDER BY id LIMIT $4";
const EXISTS: &str = "SELECT id FROM serials WHERE org_id = $1 AND serial_key = $2";

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    kind: String,
    claimant: Option<String>,
    actor: String,
    detail: Option<String>,
    event_time: i64,
}

impl EventRow {
    fn into_domain(self) -> Result<SerialEvent, StoreError> {
        let kind = EventKind::from_db(&self.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown event kind {:?}", self.kind)))?;
        Ok(SerialEvent {
            id: self.id,
            kind,
            time: time(self.event_time)?,
            claimant: self.claimant,
            actor: self.actor,
            detail: self.detail,
        })
    }
}

impl Store {
    /// The serial's history, oldest first, after event `after_id` (from the start without one);
    /// `None` if there is no such serial in the org.
    pub async fn list_serial_events(
        &self,
        org: &str,
        number: &SerialNumber,
        after_id: Option<i64>,
        limit: u32,
    ) -> Result<Option<Vec<SerialEvent>>, StoreError> {
        let exists: Option<i64> = on_reader!(&self.db, c => sqlx::query_scalar(EXISTS).bind(org).bind(number.key()).fetch_optional(c))?;
        if exists.is_none() {
            return Ok(None);
        }
        let rows: Vec<EventRow> = on_reader!(&self.db, c => sqlx::query_as(LIST)
            .bind(org)
            .bind(number.key())
            .bind(after_id.unwrap_or(-1))
            .bind(i64::from(limit))
            .fetch_all(c))?;
        all(rows, EventRow::into_domain).map(Some)
    }
}
