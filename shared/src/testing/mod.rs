//! Test support (feature `testing`): a fresh database for each test, on SQLite or PostgreSQL;
//! a fault-injecting proxy; an OTLP trace receiver ([`OtlpCollector`]); checks of a service's
//! errors ([`status`]).
//!
//! PostgreSQL tests use `REGSERIAL_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). When that server cannot be reached they are
//! skipped with a notice on stderr, unless `REGSERIAL_REQUIRE_POSTGRES=1` (as CI sets it), which
//! makes them fail instead.

pub mod health;
mod otlp;
mod per_backend;
mod plans;
mod proxy;
pub mod status;

pub use otlp::{OtlpCollector, ReceivedSpan, SpanKind};
pub use plans::{Param, assert_reads_index, assert_reads_none_of, plan};
pub use proxy::{FaultProxy, ProxyMode};

use std::io::Write as _;
use std::sync::Once;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::{Connection, PgConnection};
use tokio::sync::OnceCell;

use crate::db::ServiceStore;

pub const POSTGRES_URL_ENV: &str = "REGSERIAL_TEST_POSTGRES_URL";
pub const REQUIRE_POSTGRES_ENV: &str = "REGSERIAL_REQUIRE_POSTGRES";
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const DATABASE_PREFIX: &str = "regserial_t_";
/// Test databases older than this are dropped by the next run (they are leftovers of runs that
/// were killed).
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// A database that exists for one test: the SQLite file lives in a temporary directory that is
/// removed with it; a PostgreSQL database is dropped with it when the test passes, and kept
/// (its name printed) when the test fails.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    /// The PostgreSQL database: the server's administrative URL and the database's name.
    postgres: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else { return };
        if std::thread::panicking() {
            let _ = writeln!(
                std::io::stderr(),
                "the test failed: its PostgreSQL database {name} is kept for a look (drop it with \
                 `DROP DATABASE {name} WITH (FORCE)`; the next run more than an hour later does)"
            );
            return;
        }
        // Drop runs inside the test's runtime, which cannot be blocked on: the drop gets a
        // thread and a runtime of its own, and the test waits for it. FORCE ends the
        // connections the test's pools still hold.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await?;
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await?;
                admin.close().await?;
                anyhow::Ok(())
            })
        })
        .join();
        if let Ok(Err(err)) = dropped {
            let _ = writeln!(std::io::stderr(), "cannot drop a test database: {err:#}");
        }
    }
}

impl TestDb {
    /// A new SQLite database file in a temporary directory.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        TestDb { url, _dir: Some(dir), postgres: None }
    }

    /// A new, empty PostgreSQL database, or `None` (with a notice) when PostgreSQL is not there
    /// and not required.
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = std::env::var(POSTGRES_URL_ENV).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let mut admin = match PgConnection::connect(&admin_url).await {
            Ok(conn) => conn,
            Err(err) => {
                let why = format!("cannot connect to {}: {err}", crate::db::redact_url(&admin_url));
                if required() {
                    panic!("{REQUIRE_POSTGRES_ENV} is set but PostgreSQL is unavailable: {why}");
                }
                announce_skip(&why);
                return None;
            }
        };
        drop_stale_databases(&admin_url).await;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let name = format!("{DATABASE_PREFIX}{now}_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        let _ = admin.close().await;
        Some(TestDb {
            url: replace_database(&admin_url, &name),
            _dir: None,
            postgres: Some((admin_url, name)),
        })
    }
}

fn required() -> bool {
    std::env::var(REQUIRE_POSTGRES_ENV).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Says once per test binary, on the terminal (past the test harness's capture), that the
/// PostgreSQL tests did not run.
fn announce_skip(why: &str) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\nNOTICE: the PostgreSQL tests of this binary did NOT run ({why}); they passed without \
             checking anything. Start PostgreSQL or set {POSTGRES_URL_ENV}; set {REQUIRE_POSTGRES_ENV}=1 \
             to make this a failure.\n"
        );
    });
}

/// Drops test databases left by runs more than an hour old, once per process.
async fn drop_stale_databases(admin_url: &str) {
    static DONE: OnceCell<()> = OnceCell::const_new();
    DONE.get_or_init(|| async {
        let Ok(mut admin) = PgConnection::connect(admin_url).await else { return };
        let names: Vec<String> =
            sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'regserial_t_%'")
                .fetch_all(&mut admin)
                .await
                .unwrap_or_default();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        for name in names {
            let created = name
                .strip_prefix(DATABASE_PREFIX)
                .and_then(|rest| rest.split('_').next())
                .and_then(|secs| secs.parse::<u64>().ok());
            if created.is_some_and(|t| now.saturating_sub(t) > STALE_AFTER.as_secs()) {
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await;
            }
        }
        let _ = admin.close().await;
    })
    .await;
}

/// A service's store on `db`, migrated: the `setup` of a [`per_backend!`](crate::per_backend)
/// suite whose tests take the store.
pub async fn migrated<S: ServiceStore>(db: &TestDb) -> S {
    S::open(&db.url, 8).await.expect("a migrated store on the test database")
}

/// `url` with its database name replaced by `name` (query parameters kept).
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_end..].find('/').map_or(base.len(), |i| authority_end + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn the_database_name_is_replaced_and_parameters_kept() {
        assert_eq!(replace_database("postgres://u@h:5432/postgres", "t1"), "postgres://u@h:5432/t1");
        assert_eq!(
            replace_database("postgres://u@h/db?sslmode=disable", "t1"),
            "postgres://u@h/t1?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://u@h", "t1"), "postgres://u@h/t1");
    }
}
