//! Reading serials: one by number (`GetSerial`, `ValidateSerial`) and pages of them
//! (`ListSerials`).
//!
//! Lookups by number that wait at the same moment are answered by one `serial_key = ANY(…)` /
//! `IN (json_each(…))` statement ([`shared::db::coalesce`]), a batch of one key by the plain
//! single-key statement. This file is the only user of that coalescing.

use chrono::{DateTime, Utc};
use futures::FutureExt;
use futures::future::BoxFuture;
use shared::db::Db;
use shared::db::coalesce::{Coalescer, KeyedStatements, read_keys};
use sqlx::AssertSqlSafe;

use super::filters::list_statement;
use super::{BY_KEY, SerialRow, serial_columns};
use crate::domain::{Serial, SerialFilter, SerialNumber, Sku, StoreError};
use crate::store::{Store, all, micros, on_reader};

/// The lookup queue of one [`Store`].
pub(crate) type Lookups = Coalescer<SerialRow>;

pub(crate) fn lookups(db: Db) -> Lookups {
    Coalescer::new(db, fetch)
}

/// By serial key: the one-key statement is the one a write's transaction reads by.
const BY_KEYS: KeyedStatements = KeyedStatements {
    one: [BY_KEY, BY_KEY],
    many: [
        concat!("SELECT ", serial_columns!(), " FROM serials WHERE org_id = $1 AND serial_key = ANY($2)"),
        concat!(
            "SELECT ",
            serial_columns!(),
            " FROM serials WHERE org_id = $1 AND serial_key IN (SELECT value FROM json_each($2))"
        ),
    ],
};

/// The rows of `keys` (lowercase serial numbers) in `org`, each with its key.
fn fetch(
    db: Db,
    org: String,
    keys: Vec<String>,
) -> BoxFuture<'static, Result<Vec<(String, SerialRow)>, sqlx::Error>> {
    async move {
        let rows: Vec<SerialRow> = read_keys(&db, &org, &keys, BY_KEYS).await?;
        Ok(rows.into_iter().map(|row| (row.serial_number.to_ascii_lowercase(), row)).collect())
    }
    .boxed()
}

impl Store {
    /// One serial, read with the other lookups in flight.
    #[tracing::instrument(name = "db", target = "regserial_spans", skip_all, fields(otel.name = "get_serial", otel.kind = "client", db.system = self.db.system(), db.operation = "get_serial"))]
    pub async fn get_serial(&self, org: &str, number: &SerialNumber) -> Result<Option<Serial>, StoreError> {
        let row = self.lookups.get(org, number.key()).await?;
        Ok(row.map(SerialRow::into_domain).transpose()?.map(|(_, serial)| serial))
    }

    /// Serials after cursor `after_id` in creation order, with their cursors; `status` is the
    /// status at `now`.
    #[tracing::instrument(name = "db", target = "regserial_spans", skip_all, fields(otel.name = "list_serials", otel.kind = "client", db.system = self.db.system(), db.operation = "list_serials"))]
    pub async fn list_serials(
        &self,
        org: &str,
        filter: &SerialFilter,
        after_id: Option<i64>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<(i64, Serial)>, StoreError> {
        let statement = list_statement(filter);
        let sku = filter.product_sku.as_ref().map(Sku::as_str);
        let now = Some(micros(now)).filter(|_| statement.now);
        let rows: Vec<SerialRow> = on_reader!(&self.db, c => {
            let mut query = sqlx::query_as(AssertSqlSafe(statement.sql)).bind(org).bind(after_id.unwrap_or(0));
            if let Some(sku) = sku {
                query = query.bind(sku);
            }
            if let Some(now) = now {
                query = query.bind(now);
            }
            query.bind(i64::from(limit)).fetch_all(c)
        })?;
        all(rows, SerialRow::into_domain)
    }
}
