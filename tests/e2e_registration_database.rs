//! registration-svc's own PostgreSQL database refusing connections between two saga steps: after
//! serial-svc committed a claim, before registration-svc could record it. Once the database is
//! back, recovery completes the attempt and the invariants hold. And registration-svc started
//! while its database refuses connections: it answers, NOT_SERVING, and waits for it.
//! PostgreSQL only (the database is switched off with `ALTER DATABASE … ALLOW_CONNECTIONS`).

mod support;

use regserial::registration::v1::*;
use regserial::serial::v1::SerialStatus;
use shared::testing::{ProxyMode, TestDb};
use sqlx::{Connection, PgConnection};
use support::ORG;
use support::registration::*;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

async fn allow_connections(url: &str, allow: bool) {
    let name = url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    let admin = std::env::var(shared::testing::POSTGRES_URL_ENV)
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let mut admin = PgConnection::connect(&admin).await.expect("admin connection");
    let sql = format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {allow}");
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await.unwrap();
    if !allow {
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&name)
        .execute(&mut admin)
        .await
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_outage_after_serial_svc_committed_a_claim_is_recovered() {
    let Some(db) = TestDb::postgres().await else { return };
    let pair = Pair::with_serials(db, &["DB-1", "DB-2"]).await;
    let mut c = pair.registrations(ORG);
    let request = create_request(registration("ada@example.com", &["DB-1", "DB-2"]), Some(&new_request_id()));

    pair.set_proxy(ProxyMode::SwallowResponses);
    c.create_registration(request.clone()).await.expect_err("the answers are lost");
    for number in ["DB-1", "DB-2"] {
        assert_eq!(
            claim_of(&pair, ORG, number).await.0,
            SerialStatus::Registered,
            "the claim reached serial-svc"
        );
    }
    allow_connections(pair.registration_database_url(), false).await;
    // serial-svc answers again, but registration-svc cannot record anything.
    pair.set_proxy(ProxyMode::Pass);
    let status = c.create_registration(request.clone()).await.expect_err("the database is down");
    assert_eq!(status.code(), Code::Unavailable, "retryable, not INTERNAL: {status:?}");
    assert!(shared::status::retry_delay(&status).is_some(), "UNAVAILABLE carries RetryInfo: {status:?}");
    let status = c.list_registrations(ListRegistrationsRequest::default()).await.expect_err("down");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");

    allow_connections(pair.registration_database_url(), true).await;
    assert_invariants(&pair, ORG).await;
    let created = eventually("the retry", || {
        let (mut c, request) = (c.clone(), request.clone());
        async move { c.create_registration(request).await.ok() }
    })
    .await
    .into_inner();
    let all = list_all(&mut c, ListRegistrationsRequest::default()).await.unwrap();
    assert_eq!(all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [created.id.as_str()]);
    for number in ["DB-1", "DB-2"] {
        assert_eq!(claim_of(&pair, ORG, number).await, (SerialStatus::Registered, created.id.clone()));
    }
    pair.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn registration_svc_started_before_its_database_answers_not_serving_and_waits_for_it() {
    let Some(db) = TestDb::postgres().await else { return };
    let mut pair = Pair::start(db).await;
    seed_catalog(&pair, ORG).await;
    add_serials(&pair, ORG, &["WAIT-1"]).await;
    pair.stop_registration().await;
    allow_connections(pair.registration_database_url(), false).await;

    pair.launch_registration().await;
    pair.wait_for_registration(ServingStatus::NotServing).await;
    let mut c = pair.registrations(ORG);
    let get = GetRegistrationRequest { id: uuid::Uuid::new_v4().to_string() };
    let status = c.get_registration(get.clone()).await.expect_err("its database is not there");
    let failure = support::grpc::failure(&status);
    assert_eq!((failure.code, failure.reason.as_str()), (Code::Unavailable, "DATABASE_UNAVAILABLE"));
    assert!(shared::status::retry_delay(&status).is_some(), "UNAVAILABLE carries RetryInfo: {status:?}");

    allow_connections(pair.registration_database_url(), true).await;
    pair.wait_for_registration(ServingStatus::Serving).await;
    assert_eq!(c.get_registration(get).await.expect_err("no such registration").code(), Code::NotFound);
    let request = create_request(registration("ada@example.com", &["WAIT-1"]), None);
    let created = c.create_registration(request).await.expect("a registration").into_inner();
    assert_eq!(created.status(), RegistrationStatus::Pending);
    pair.stop().await;
}
