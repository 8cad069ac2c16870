//! Reading serials: one by number (`GetSerial`, `ValidateSerial`) and pages of them
//! (`ListSerials`).

use chrono::{DateTime, Utc};
use shared::db::Db;
use sqlx::AssertSqlSafe;

use super::filters::list_statement;
use super::{BY_KEY, SerialRow};
use crate::domain::{Serial, SerialFilter, SerialNumber, Sku, StoreError};
use crate::store::{Store, all, micros, on_reader};

/// Serial lookups of one [`Store`]: one single-key statement on the read pool per call.
#[derive(Clone)]
pub(crate) struct Lookups(Db);

pub(crate) fn lookups(db: Db) -> Lookups {
    Lookups(db)
}

impl Lookups {
    /// The row of `key` (a lowercase serial number) in `org`, if there is one.
    async fn get(&self, org: &str, key: &str) -> Result<Option<SerialRow>, StoreError> {
        Ok(on_reader!(&self.0, c => sqlx::query_as(BY_KEY).bind(org).bind(key).fetch_optional(c))?)
    }
}

impl Store {
    /// One serial by number.
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
