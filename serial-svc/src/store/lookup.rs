//! Reading one serial by number (`GetSerial`, `ValidateSerial`), with the lookups that wait at
//! the same moment answered by one `serial_key = ANY(…)` / `IN (json_each(…))` statement
//! ([`shared::db::coalesce`]). A batch of one key runs the plain single-key statement.

use futures::FutureExt;
use futures::future::BoxFuture;
use shared::db::Db;
use shared::db::coalesce::{Coalescer, KeyedStatements, read_keys};

use super::rows::{SerialRow, serial_columns};
use super::serials::BY_KEY;

/// The lookup queue of one [`super::Store`].
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
