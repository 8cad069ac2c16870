//! Reading one serial by number (`GetSerial`, `ValidateSerial`), with the lookups that wait at
//! the same moment answered by one `serial_key = ANY(…)` / `IN (json_each(…))` statement
//! ([`shared::db::coalesce`]). A batch of one key runs the plain single-key statement.

use futures::FutureExt;
use futures::future::BoxFuture;
use shared::db::Db;
use shared::db::coalesce::Coalescer;

use super::rows::{SerialRow, serial_columns};
use super::serials::BY_KEY;

/// The lookup queue of one [`super::Store`].
pub(crate) type Lookups = Coalescer<SerialRow>;

pub(crate) fn lookups(db: Db) -> Lookups {
    Coalescer::new(db, fetch)
}

const BY_KEYS_POSTGRES: &str =
    concat!("SELECT ", serial_columns!(), " FROM serials WHERE org_id = $1 AND serial_key = ANY($2)");
const BY_KEYS_SQLITE: &str = concat!(
    "SELECT ",
    serial_columns!(),
    " FROM serials WHERE org_id = $1 AND serial_key IN (SELECT value FROM json_each($2))"
);

/// The rows of `keys` (lowercase serial numbers) in `org`, each with its key.
fn fetch(
    db: Db,
    org: String,
    keys: Vec<String>,
) -> BoxFuture<'static, Result<Vec<(String, SerialRow)>, sqlx::Error>> {
    async move {
        let rows: Vec<SerialRow> = match (&db, keys.as_slice()) {
            (_, [key]) => {
                super::on_reader!(&db, c => sqlx::query_as(BY_KEY).bind(&org).bind(key).fetch_all(c))?
            }
            (Db::Postgres(pool), _) => {
                sqlx::query_as(BY_KEYS_POSTGRES).bind(&org).bind(&keys).fetch_all(pool).await?
            }
            (Db::Sqlite(pools), _) => {
                let keys = serde_json::to_string(&keys).map_err(|err| sqlx::Error::Encode(Box::new(err)))?;
                sqlx::query_as(BY_KEYS_SQLITE).bind(&org).bind(keys).fetch_all(&pools.reader).await?
            }
        };
        Ok(rows.into_iter().map(|row| (row.serial_number.to_ascii_lowercase(), row)).collect())
    }
    .boxed()
}
