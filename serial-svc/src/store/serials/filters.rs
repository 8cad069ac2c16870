//! The statements whose conditions depend on optional filters (`ListSerials`, `AllocateSerial`):
//! each combination of filters is a statement of its own, holding only the conditions in use.
//! One statement for all, with `(CAST($n AS TEXT) IS NULL OR product_sku = $n)`, could use no
//! SKU index on SQLite (its planner cannot know the parameter is set), nor on PostgreSQL once a
//! connection had settled on the generic plan: a rare SKU's page then walked the org's every
//! serial (45.9 ms forced generic against 0.08 ms through `serials_by_sku`, measured at 200,000).

use std::fmt::Write as _;

use super::serial_columns;
use crate::domain::{SerialFilter, SerialStatus};

/// A list statement, taking after `$1` (org) and `$2` (cursor), in this order: the SKU if the
/// filter names one, the time if [`ListStatement::now`]; the limit last.
pub(super) struct ListStatement {
    pub(super) sql: String,
    /// Whether the status filter compares with the time (EXPIRED and ACTIVE).
    pub(super) now: bool,
}

/// The list statement for `filter`, in id order from the cursor.
pub(super) fn list_statement(filter: &SerialFilter) -> ListStatement {
    let mut sql =
        concat!("SELECT ", serial_columns!(), " FROM serials WHERE org_id = $1 AND id > $2").to_owned();
    let mut n = 2;
    if filter.product_sku.is_some() {
        n += 1;
        let _ = write!(sql, " AND product_sku = ${n}");
    }
    let unclaimed = " AND revoke_time IS NULL AND claimant IS NULL";
    let now = match filter.status {
        None => false,
        Some(SerialStatus::Revoked) => {
            sql.push_str(" AND revoke_time IS NOT NULL");
            false
        }
        Some(SerialStatus::Registered) => {
            sql.push_str(" AND revoke_time IS NULL AND claimant IS NOT NULL");
            false
        }
        Some(SerialStatus::Expired) => {
            n += 1;
            let _ = write!(sql, "{unclaimed} AND valid_until <= ${n}");
            true
        }
        Some(SerialStatus::Active) => {
            n += 1;
            let _ = write!(sql, "{unclaimed} AND (valid_until IS NULL OR valid_until > ${n})");
            true
        }
    };
    let _ = write!(sql, " ORDER BY id LIMIT ${}", n + 1);
    ListStatement { sql, now }
}

/// Hands out the oldest serial of org `$1` never allocated, claimed or revoked that can be
/// registered at `$now`, to claimant `$claimant` (or none), of SKU `$2` where `$sku` says so.
macro_rules! allocate_sql {
    ($lock:literal, $sku:literal, $now:literal, $claimant:literal) => {
        concat!(
            "UPDATE serials SET allocate_time = ",
            $now,
            ", update_time = ",
            $now,
            ", claimant = CAST(",
            $claimant,
            " AS TEXT), claim_time = CASE WHEN CAST(",
            $claimant,
            " AS TEXT) IS NULL THEN NULL ELSE ",
            $now,
            " END WHERE org_id = $1 AND id = (SELECT id FROM serials WHERE org_id = $1 \
             AND claimant IS NULL AND revoke_time IS NULL AND allocate_time IS NULL",
            $sku,
            " AND (valid_from IS NULL OR valid_from <= ",
            $now,
            ") AND (valid_until IS NULL OR valid_until > ",
            $now,
            ") AND (register_until IS NULL OR register_until > ",
            $now,
            ") ORDER BY id LIMIT 1",
            $lock,
            ") RETURNING ",
            serial_columns!()
        )
    };
}

/// `[postgres, sqlite]`: any SKU, with `$2` the time and `$3` the claimant.
pub(super) const ALLOCATE_ANY: [&str; 2] =
    [allocate_sql!(" FOR UPDATE SKIP LOCKED", "", "$2", "$3"), allocate_sql!("", "", "$2", "$3")];
/// `[postgres, sqlite]`: SKU `$2`, with `$3` the time and `$4` the claimant.
pub(super) const ALLOCATE_SKU: [&str; 2] = [
    allocate_sql!(" FOR UPDATE SKIP LOCKED", " AND product_sku = $2", "$3", "$4"),
    allocate_sql!("", " AND product_sku = $2", "$3", "$4"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Sku;

    fn filter(sku: Option<&str>, status: Option<SerialStatus>) -> SerialFilter {
        SerialFilter { status, product_sku: sku.map(|s| Sku::parse(s).expect("a valid sku")) }
    }

    fn conditions(statement: &ListStatement) -> &str {
        let sql = &statement.sql;
        &sql[sql.find("WHERE").expect("a WHERE")..]
    }

    #[test]
    fn each_filter_adds_its_condition_and_numbers_the_parameters_in_order() {
        let cases = [
            (filter(None, None), "WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3"),
            (
                filter(Some("TOASTER"), None),
                "WHERE org_id = $1 AND id > $2 AND product_sku = $3 ORDER BY id LIMIT $4",
            ),
            (
                filter(None, Some(SerialStatus::Revoked)),
                "WHERE org_id = $1 AND id > $2 AND revoke_time IS NOT NULL ORDER BY id LIMIT $3",
            ),
            (
                filter(Some("TOASTER"), Some(SerialStatus::Registered)),
                "WHERE org_id = $1 AND id > $2 AND product_sku = $3 AND revoke_time IS NULL \
                 AND claimant IS NOT NULL ORDER BY id LIMIT $4",
            ),
            (
                filter(None, Some(SerialStatus::Expired)),
                "WHERE org_id = $1 AND id > $2 AND revoke_time IS NULL AND claimant IS NULL \
                 AND valid_until <= $3 ORDER BY id LIMIT $4",
            ),
            (
                filter(Some("TOASTER"), Some(SerialStatus::Active)),
                "WHERE org_id = $1 AND id > $2 AND product_sku = $3 AND revoke_time IS NULL \
                 AND claimant IS NULL AND (valid_until IS NULL OR valid_until > $4) ORDER BY id LIMIT $5",
            ),
        ];
        for (filter, want) in cases {
            let statement = list_statement(&filter);
            assert_eq!(conditions(&statement), want, "{filter:?}");
            assert_eq!(statement.sql.contains("product_sku = $3"), filter.product_sku.is_some());
        }
        assert!(list_statement(&filter(None, Some(SerialStatus::Active))).now);
        assert!(!list_statement(&filter(None, Some(SerialStatus::Registered))).now);
    }

    #[test]
    fn allocation_numbers_its_parameters_without_gaps() {
        for (sql, last) in ALLOCATE_ANY.iter().map(|s| (s, 3)).chain(ALLOCATE_SKU.iter().map(|s| (s, 4))) {
            for n in 1..=last {
                assert!(sql.contains(&format!("${n}")), "${n} missing in {sql}");
            }
            assert!(!sql.contains(&format!("${}", last + 1)), "{sql}");
        }
    }
}

/// The plans of the list statements on both backends: a SKU filter reads `serials_by_sku`, with
/// or without a status filter. The plans checked are those the values cannot steer: SQLite plans
/// a statement without them, and on PostgreSQL the generic plan is the one a connection settles
/// on after a few executions.
#[cfg(test)]
mod plans {
    use shared::db::Db;
    use shared::testing::{Param, assert_reads_index};

    use super::list_statement;
    use crate::domain::{SerialFilter, SerialStatus, Sku};
    use crate::store::{ServiceStore, Store};

    /// 2,000 serials of one SKU and 5 of another in org `acme`, with the statistics analyzed.
    async fn seed(db: &Db) {
        let [postgres, sqlite] = [
            "INSERT INTO serials (org_id, serial_number, serial_key, product_sku, create_time, update_time) \
             SELECT 'acme', 'SN-' || g, 'sn-' || g, CASE WHEN g % 400 = 0 THEN 'TOASTER' ELSE 'KETTLE' END, 0, 0 \
             FROM generate_series(1, 2000) AS g",
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 2000) \
             INSERT INTO serials (org_id, serial_number, serial_key, product_sku, create_time, update_time) \
             SELECT 'acme', 'SN-' || n, 'sn-' || n, CASE WHEN n % 400 = 0 THEN 'TOASTER' ELSE 'KETTLE' END, 0, 0 FROM g",
        ];
        match db {
            Db::Postgres(pool) => {
                sqlx::raw_sql(postgres).execute(pool).await.expect("seed");
                sqlx::raw_sql("ANALYZE serials").execute(pool).await.expect("analyze");
            }
            Db::Sqlite(pools) => {
                sqlx::raw_sql(sqlite).execute(&pools.writer).await.expect("seed");
                sqlx::raw_sql("ANALYZE").execute(&pools.writer).await.expect("analyze");
            }
        }
    }

    async fn filtered_statements_read_their_index(store: Store) {
        let db = store.db();
        seed(db).await;
        for status in [None, Some(SerialStatus::Active), Some(SerialStatus::Revoked)] {
            let filter = SerialFilter { status, product_sku: Some(Sku::parse("TOASTER").expect("a sku")) };
            let statement = list_statement(&filter);
            let mut params = vec![Param::Text("acme"), Param::Int(0), Param::Text("TOASTER")];
            if statement.now {
                params.push(Param::Int(0));
            }
            params.push(Param::Int(51));
            assert_reads_index(db, &statement.sql, &params, "serials_by_sku").await;
        }
    }

    shared::per_backend!(setup = shared::testing::migrated::<Store>; filtered_statements_read_their_index);
}
