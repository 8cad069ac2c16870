//! Query plans for tests that check a statement reads the index it was written for.

use sqlx::{AssertSqlSafe, Row};

use crate::db::Db;

/// A statement's parameter, for [`plan`].
#[derive(Clone, Copy, Debug)]
pub enum Param<'a> {
    Text(&'a str),
    Int(i64),
}

impl Param<'_> {
    fn postgres_type(self) -> &'static str {
        match self {
            Param::Text(_) => "text",
            Param::Int(_) => "bigint",
        }
    }

    fn literal(self) -> String {
        match self {
            Param::Text(text) => format!("'{}'", text.replace('\'', "''")),
            Param::Int(int) => int.to_string(),
        }
    }
}

/// The plan of `sql` with `params`, one line per node, that the values cannot steer: SQLite
/// plans a statement without them, and on PostgreSQL this is the generic plan of the prepared
/// statement, the one a connection settles on after a few executions. Scans and sorts are made
/// to cost the most on PostgreSQL, so that even an empty table shows which indexes the planner
/// can use at all.
pub async fn plan(db: &Db, sql: &str, params: &[Param<'_>]) -> String {
    let lines: Vec<String> = match db {
        Db::Postgres(pool) => {
            let mut conn = pool.acquire().await.expect("a connection");
            let types: Vec<_> = params.iter().map(|p| p.postgres_type()).collect();
            let values: Vec<_> = params.iter().map(|p| p.literal()).collect();
            let prepare = format!(
                "SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off; SET enable_sort = off; \
                 PREPARE planned ({}) AS {sql}",
                types.join(", ")
            );
            sqlx::raw_sql(AssertSqlSafe(prepare)).execute(&mut *conn).await.expect("prepare");
            let explain = format!("EXPLAIN EXECUTE planned ({})", values.join(", "));
            let rows = sqlx::raw_sql(AssertSqlSafe(explain)).fetch_all(&mut *conn).await.expect("explain");
            sqlx::raw_sql("DEALLOCATE planned; RESET ALL").execute(&mut *conn).await.expect("reset");
            rows.iter().map(|row| row.get(0)).collect()
        }
        Db::Sqlite(pools) => {
            let mut query = sqlx::query(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")));
            for param in params {
                query = match *param {
                    Param::Text(text) => query.bind(text),
                    Param::Int(int) => query.bind(int),
                };
            }
            let rows = query.fetch_all(&pools.reader).await.expect("explain");
            rows.iter().map(|row| row.get("detail")).collect()
        }
    };
    lines.join("\n")
}

/// Asserts that the plan of `sql` with `params` (see [`plan`]) reads `index` and scans no table
/// whole.
pub async fn assert_reads_index(db: &Db, sql: &str, params: &[Param<'_>], index: &str) {
    let plan = plan(db, sql, params).await;
    assert!(plan.contains(index) && !plan.contains("Seq Scan"), "{sql}\nmust read {index}:\n{plan}");
}

/// Asserts that the plan of `sql` with `params` (see [`plan`]) reads none of `indexes`.
pub async fn assert_reads_none_of(db: &Db, sql: &str, params: &[Param<'_>], indexes: &[&str]) {
    let plan = plan(db, sql, params).await;
    let read: Vec<_> = indexes.iter().filter(|index| plan.contains(*index)).collect();
    assert!(read.is_empty(), "{sql}\nmust not read {read:?}:\n{plan}");
}
