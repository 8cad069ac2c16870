//! What one creation costs PostgreSQL, counted by PostgreSQL itself: a single-serial creation
//! (its attempt, then its completion, as `CreateRegistration` drives them once serial-svc
//! granted the claim) commits at most twice and writes at most six rows, and never updates a
//! registration (ARCHITECTURE.md: "the registration itself is inserted once, when it is
//! complete").
//!
//! The counters are PostgreSQL's cumulative statistics (`pg_stat_database.xact_commit`,
//! `pg_stat_user_tables.n_tup_*`), which a session reports asynchronously: the store runs on a
//! pool of one connection, and that same session forces its report with
//! `pg_stat_force_next_flush()` (PostgreSQL 15+) before each reading. Reading costs commits of
//! its own; a reading with nothing between measures them, and they are subtracted.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use registration_svc::domain::{Ctx, LineItemDraft, NewRegistration, RegistrationDraft, SerialPlans};
use registration_svc::store::{ServiceStore, Store};
use shared::db::Db;
use sqlx::PgPool;

/// Commits, and rows written per table (inserted + updated + deleted), and rows updated per
/// table, so far.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Counters {
    commits: i64,
    written: BTreeMap<String, i64>,
    updated: BTreeMap<String, i64>,
}

impl Counters {
    /// What happened from `before` to `self`.
    fn since(&self, before: &Counters) -> Counters {
        let diff = |now: &BTreeMap<String, i64>, then: &BTreeMap<String, i64>| {
            now.iter()
                .map(|(table, n)| (table.clone(), n - then.get(table).copied().unwrap_or(0)))
                .filter(|(_, n)| *n != 0)
                .collect()
        };
        Counters {
            commits: self.commits - before.commits,
            written: diff(&self.written, &before.written),
            updated: diff(&self.updated, &before.updated),
        }
    }

    fn rows_written(&self) -> i64 {
        self.written.values().sum()
    }
}

/// The counters as the store's own session reported them, everything it did so far flushed.
async fn counters(pool: &PgPool) -> Counters {
    let mut conn = pool.acquire().await.expect("the store's one connection");
    sqlx::query("SELECT pg_stat_force_next_flush()").execute(&mut *conn).await.expect("flush");
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT relname::text, n_tup_ins + n_tup_upd + n_tup_del, n_tup_upd, \
         (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) \
         FROM pg_stat_user_tables",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("read the statistics");
    Counters {
        commits: rows.first().map(|row| row.3).expect("the migrated tables"),
        written: rows.iter().map(|(table, n, _, _)| (table.clone(), *n)).collect(),
        updated: rows.iter().map(|(table, _, n, _)| (table.clone(), *n)).collect(),
    }
}

fn new_registration(serials: &[&str]) -> NewRegistration {
    NewRegistration::parse(&RegistrationDraft {
        customer_email: "ada@example.com".into(),
        line_items: serials
            .iter()
            .map(|s| LineItemDraft { quantity: 1, serial_number: (*s).into(), ..LineItemDraft::default() })
            .collect(),
        ..RegistrationDraft::default()
    })
    .unwrap()
}

/// One creation as `CreateRegistration` writes it once serial-svc granted every claim.
async fn create(store: &Store, ctx: &Ctx<'_>, serials: &[&str]) {
    let new = new_registration(serials);
    let attempt = store.begin_attempt(ctx, None, &new).await.unwrap().into_inner();
    let requested = new.requested(&attempt.id, ctx.org, ctx.now);
    store.complete_registration(ctx, &requested, &SerialPlans::new()).await.unwrap();
}

#[tokio::test]
async fn a_single_serial_creation_commits_twice_writes_six_rows_and_never_updates_a_registration() {
    let Some(db) = shared::testing::TestDb::postgres().await else { return };
    let store = Store::open(&db.url, 1).await.expect("a migrated store");
    let Db::Postgres(pool) = store.db().clone() else { unreachable!("a PostgreSQL test database") };
    let version: String = sqlx::query_scalar("SHOW server_version_num").fetch_one(&pool).await.unwrap();
    assert!(version.parse::<u32>().unwrap() >= 150_000, "pg_stat_force_next_flush needs PostgreSQL 15+");
    let ctx = Ctx { org: "acme", actor: "alice", now: Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap() };
    // The org's counter row exists from the first creation on, and every statement of a
    // creation is prepared: measure a later one.
    create(&store, &ctx, &["SN-0"]).await;

    // sqlx prepares a statement on its first use in a session, and the preparation commits an
    // (empty) transaction of its own: the readings, as the creations, are measured warm.
    counters(&pool).await;
    let start = counters(&pool).await;
    let idle = counters(&pool).await.since(&start);
    assert_eq!((idle.rows_written(), idle.commits), (0, 2), "a reading commits twice and writes nothing");

    let before = counters(&pool).await;
    create(&store, &ctx, &["SN-1"]).await;
    let one = counters(&pool).await.since(&before);
    let commits = one.commits - idle.commits;
    assert!(commits <= 2, "{commits} commits for one creation: {one:?}");
    assert!(one.rows_written() <= 6, "{} rows written for one creation: {one:?}", one.rows_written());
    assert_eq!(one.updated.get("registrations"), None, "a registration is never updated: {one:?}");
    assert_eq!(one.written.get("registrations"), Some(&1), "the registration is inserted once: {one:?}");

    // A run of creations, one at a time: still no registration updated.
    let before = counters(&pool).await;
    for i in 2..12 {
        create(&store, &ctx, &[&format!("SN-{i}"), &format!("SN-{i}-B")]).await;
    }
    let run = counters(&pool).await.since(&before);
    assert_eq!(run.updated.get("registrations"), None, "{run:?}");
    assert_eq!(run.written.get("registrations"), Some(&10), "{run:?}");
}
