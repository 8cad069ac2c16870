//! serial-svc while its PostgreSQL database refuses connections: readiness (health `""`) goes
//! NOT_SERVING while liveness (health `liveness`) stays SERVING, calls
//! fail as UNAVAILABLE (retryable) rather than INTERNAL, and both recover when it is back; the
//! same when it starts before its database, which it then waits for; a database that does not
//! exist stops it with the reason.

mod support;

use regserial::serial::v1::GetSerialRequest;
use shared::testing::TestDb;
use sqlx::{Connection, PgConnection};
use support::invariants::eventually;
use support::{ORG, SerialSvc};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

async fn admin() -> PgConnection {
    let url = std::env::var(shared::testing::POSTGRES_URL_ENV)
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    PgConnection::connect(&url).await.expect("admin connection")
}

async fn allow_connections(db: &str, allow: bool) {
    let mut admin = admin().await;
    let sql = format!("ALTER DATABASE {db} ALLOW_CONNECTIONS {allow}");
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await.unwrap();
    if !allow {
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()")
            .bind(db)
            .execute(&mut admin)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_calls_follow_the_database_down_and_back() {
    let Some(db) = TestDb::postgres().await else { return };
    let name = name(&db);
    let svc = SerialSvc::start_with(
        db,
        std::sync::Arc::new(shared::clock::SystemClock),
        &["--health-check-interval-ms", "100"],
    )
    .await;
    let mut c = svc.clients(ORG).await;
    let get = || GetSerialRequest { serial_number: "ANY-1".into() };
    assert_eq!(c.serials.get_serial(get()).await.unwrap_err().code(), Code::NotFound);

    assert_eq!(svc.health(shared::server::LIVENESS).await, Some(ServingStatus::Serving));

    allow_connections(&name, false).await;
    svc.wait_for(ServingStatus::NotServing).await;
    assert_database_unavailable(&c.serials.get_serial(get()).await.unwrap_err());
    // Unready, not dead: a restart would not bring the database back.
    assert_eq!(svc.health(shared::server::LIVENESS).await, Some(ServingStatus::Serving));

    allow_connections(&name, true).await;
    svc.wait_for(ServingStatus::Serving).await;
    assert_eq!(c.serials.get_serial(get()).await.unwrap_err().code(), Code::NotFound);
    svc.stop().await;
}

/// A database restart, as a pool sees it: every connection it holds is to a backend that is
/// gone, and each would fail the next statement given to it. Readiness's first failed check
/// drops all of those idle in the pool, so that the calls after it get fresh ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_check_drops_the_idle_connections_of_a_restarted_database() {
    use std::time::Duration;

    let Some(test_db) = TestDb::postgres().await else { return };
    const POOL: u32 = 4;
    let db = shared::db::connect(&test_db.url, POOL).await.expect("connect");
    let shared::db::Db::Postgres(pool) = &db else { unreachable!("a PostgreSQL test database") };
    let held = futures::future::join_all((0..POOL).map(|_| pool.acquire())).await;
    assert!(held.iter().all(Result::is_ok), "the pool fills: {held:?}");
    drop(held);
    // Connections go back to the pool from a task of their own.
    eventually("the connections back in the pool", || async {
        (pool.num_idle() == POOL as usize).then_some(())
    })
    .await;
    allow_connections(&name(&test_db), false).await;
    allow_connections(&name(&test_db), true).await;

    let (health, _server) = shared::server::Health::new(&["test.v1.Svc"]);
    // One check only, the next an hour away: it meets a stale connection and fails.
    let task = shared::server::spawn_readiness(
        health.clone(),
        db.clone(),
        Duration::from_secs(3600),
        health.draining(),
    );
    eventually("no stale connection left in the pool", || async { (pool.size() == 0).then_some(()) }).await;
    let calls = futures::future::join_all((0..POOL).map(|_| sqlx::query("SELECT 1").execute(pool))).await;
    assert!(calls.iter().all(Result::is_ok), "every call gets a fresh connection: {calls:?}");
    health.start_draining();
    tokio::time::timeout(Duration::from_secs(5), task).await.expect("readiness stops").unwrap();
}

/// The name of `db`'s database.
fn name(db: &TestDb) -> String {
    db.url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned()
}

/// Asserts that `status` is the retryable UNAVAILABLE of a database that cannot serve.
fn assert_database_unavailable(status: &tonic::Status) {
    let failure = support::grpc::failure(status);
    assert_eq!(
        (failure.code, failure.reason.as_str()),
        (Code::Unavailable, "DATABASE_UNAVAILABLE"),
        "{status:?}"
    );
    assert!(shared::status::retry_delay(status).is_some(), "UNAVAILABLE carries RetryInfo");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_started_before_its_database_answers_not_serving_and_waits_for_it() {
    let Some(db) = TestDb::postgres().await else { return };
    let name = name(&db);
    allow_connections(&name, false).await;
    let clock = std::sync::Arc::new(shared::clock::SystemClock);
    let svc = SerialSvc::launch(db, clock, &["--health-check-interval-ms", "100"]).await;

    svc.wait_for(ServingStatus::NotServing).await;
    let mut c = svc.clients(ORG).await;
    let get = || GetSerialRequest { serial_number: "ANY-1".into() };
    assert_database_unavailable(&c.serials.get_serial(get()).await.unwrap_err());
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(svc.health("").await, Some(ServingStatus::NotServing), "still waiting");

    allow_connections(&name, true).await;
    svc.wait_for(ServingStatus::Serving).await;
    // The migrations ran: the serial is looked for, not a table.
    assert_eq!(c.serials.get_serial(get()).await.unwrap_err().code(), Code::NotFound);
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_does_not_exist_stops_the_service_with_the_reason() {
    let Some(db) = TestDb::postgres().await else { return };
    let missing = db.url.replace(&name(&db), &format!("{}_missing", name(&db)));
    let listener = support::bind("127.0.0.1:0".parse().unwrap()).await;
    let args = ["serial-svc", "--database-url", &missing, "--jwt-secret", "s3cret"];
    let config = <serial_svc::app::Config as clap::Parser>::try_parse_from(args).expect("valid flags");
    let clock = std::sync::Arc::new(shared::clock::SystemClock);
    let serving = serial_svc::app::serve(config, listener, clock, std::future::pending());
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(30), serving).await;
    let err = outcome.expect("the service stops by itself").expect_err("and fails");
    let err = format!("{err:#}");
    assert!(err.contains("migrations") && err.contains("does not exist"), "{err}");
}
