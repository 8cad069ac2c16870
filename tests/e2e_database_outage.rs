//! serial-svc while its PostgreSQL database refuses connections: health goes NOT_SERVING, calls
//! fail as UNAVAILABLE (retryable) rather than INTERNAL, and both recover when it is back.

mod support;

use regserial::serial::v1::GetSerialRequest;
use shared::testing::TestDb;
use sqlx::{Connection, PgConnection};
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
    let name = db.url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    let svc = SerialSvc::start_with(
        db,
        std::sync::Arc::new(shared::clock::SystemClock),
        &["--health-check-interval-ms", "100"],
    )
    .await;
    let mut c = svc.clients(ORG).await;
    let get = || GetSerialRequest { serial_number: "ANY-1".into() };
    assert_eq!(c.serials.get_serial(get()).await.unwrap_err().code(), Code::NotFound);

    allow_connections(&name, false).await;
    svc.wait_for(ServingStatus::NotServing).await;
    let status = c.serials.get_serial(get()).await.unwrap_err();
    let failure = support::grpc::failure(&status);
    assert_eq!(
        (failure.code, failure.reason.as_str()),
        (Code::Unavailable, "DATABASE_UNAVAILABLE"),
        "{status:?}"
    );
    assert!(shared::status::retry_delay(&status).is_some(), "UNAVAILABLE carries RetryInfo");

    allow_connections(&name, true).await;
    svc.wait_for(ServingStatus::Serving).await;
    assert_eq!(c.serials.get_serial(get()).await.unwrap_err().code(), Code::NotFound);
    svc.stop().await;
}
