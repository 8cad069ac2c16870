//! The plans of the filtered list statements ([`super::filtered_sql`]) on both backends: a SKU
//! filter reads `serials_by_sku`, with or without a status filter. The plans checked are
//! those the values cannot steer: SQLite plans a statement without them, and on PostgreSQL the
//! generic plan is the one a connection settles on after a few executions.

use shared::db::Db;
use shared::testing::{Param, TestDb, assert_reads_index};

use super::Store;
use super::filtered_sql::list_statement;
use crate::domain::{SerialFilter, SerialStatus, Sku};

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

async fn open(db: &TestDb) -> Store {
    Store::open(&db.url, 2).await.expect("a migrated store on the test database")
}

shared::per_backend!(setup = open; filtered_statements_read_their_index);
