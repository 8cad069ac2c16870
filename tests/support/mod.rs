//! End-to-end test support: serial-svc started in this process on `127.0.0.1:0`, talked to over
//! real gRPC, on a fresh SQLite or PostgreSQL database.

#![allow(dead_code)]

pub mod grpc;
pub mod import;
pub mod invariants;
pub mod recorder;
pub mod registration;
pub mod registration_svc;
pub mod scrape;
pub mod seed;
pub mod serials;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use regserial::serial::v1::{
    catalog_service_client::CatalogServiceClient, serial_service_client::SerialServiceClient,
};
use shared::auth::Scope;
use shared::clock::{SharedClock, SystemClock};
use shared::testing::TestDb;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;

pub const SECRET: &str = "e2e-test-secret";
pub const ORG: &str = "acme";

pub const ALL_SCOPES: &[Scope] = &[
    Scope::SerialsRead,
    Scope::SerialsWrite,
    Scope::RegistrationsRead,
    Scope::RegistrationsWrite,
    Scope::RegistrationsReview,
];

/// A running serial-svc.
pub struct SerialSvc {
    pub addr: SocketAddr,
    /// Where its metrics endpoint is, once bound (with `--metrics-listen`).
    pub metrics: shared::metrics::BoundAddress,
    /// Where its plaintext health listener is, once bound (with `--health-listen`).
    pub probes: shared::metrics::BoundAddress,
    db: Option<TestDb>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl SerialSvc {
    pub async fn start(db: TestDb) -> SerialSvc {
        Self::start_with(db, Arc::new(SystemClock), &[]).await
    }

    /// Starts serial-svc with `clock` and extra command-line flags, and waits until it is SERVING.
    pub async fn start_with(db: TestDb, clock: SharedClock, extra: &[&str]) -> SerialSvc {
        Self::start_on("127.0.0.1:0".parse().unwrap(), db, clock, extra).await
    }

    /// Starts serial-svc on `addr` (port 0: any free port; else the port of an earlier run,
    /// retried for a while in case it is not free yet), and waits until it is SERVING.
    pub async fn start_on(addr: SocketAddr, db: TestDb, clock: SharedClock, extra: &[&str]) -> SerialSvc {
        let svc = Self::launch_on(addr, db, clock, extra).await;
        svc.wait_for(ServingStatus::Serving).await;
        svc
    }

    /// Starts serial-svc on any free port without waiting for it to be SERVING.
    pub async fn launch(db: TestDb, clock: SharedClock, extra: &[&str]) -> SerialSvc {
        Self::launch_on("127.0.0.1:0".parse().unwrap(), db, clock, extra).await
    }

    async fn launch_on(addr: SocketAddr, db: TestDb, clock: SharedClock, extra: &[&str]) -> SerialSvc {
        shared::telemetry::init_for_tests();
        let listener = bind(addr).await;
        let addr = listener.local_addr();
        let mut args = vec!["serial-svc", "--database-url", &db.url, "--jwt-secret", SECRET];
        args.extend_from_slice(extra);
        let config = <serial_svc::app::Config as clap::Parser>::try_parse_from(args).expect("valid flags");
        let metrics = config.service.metrics_bound.clone();
        let probes = config.service.health_bound.clone();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(serial_svc::app::serve(config, listener, clock, async move {
            let _ = rx.await;
        }));
        SerialSvc { addr, metrics, probes, db: Some(db), shutdown: Some(tx), task: Some(task) }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.endpoint()).unwrap().connect().await.expect("connect to serial-svc")
    }

    pub fn token(&self, org: &str, scopes: &[Scope]) -> String {
        shared::auth::mint_hs256(SECRET.as_bytes(), org, "tester", scopes, Duration::from_secs(600)).unwrap()
    }

    /// Clients for `org` with every scope.
    pub async fn clients(&self, org: &str) -> grpc::Clients {
        grpc::Clients::new(self.channel().await, self.token(org, ALL_SCOPES))
    }

    pub async fn health(&self, service: &str) -> Option<ServingStatus> {
        shared::testing::health::health(self.channel().await, service).await
    }

    /// Polls health until it reports `status` (bounded: 30 s).
    pub async fn wait_for(&self, status: ServingStatus) {
        shared::testing::health::wait_for("serial-svc", status, || self.health("")).await;
    }

    /// Its database.
    pub fn db(&self) -> &TestDb {
        self.db.as_ref().expect("the database of a running service")
    }

    /// Sends the shutdown signal and waits for a clean exit.
    pub async fn stop(self) {
        self.stop_keeping_db().await;
    }

    /// Stops as [`SerialSvc::stop`] does and hands back the database, to start again on it.
    pub async fn stop_keeping_db(mut self) -> TestDb {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("serial-svc task").expect("serial-svc exits cleanly");
        }
        self.db.take().expect("the database")
    }
}

/// Binds `addr`, retrying for up to 10 s while it is still taken (a restart on the same port).
pub async fn bind(addr: SocketAddr) -> shared::server::Listener {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match shared::server::Listener::bind(addr).await {
            Ok(listener) => return listener,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(err) => panic!("cannot bind {addr}: {err}"),
        }
    }
}

impl Drop for SerialSvc {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

pub type Serials =
    SerialServiceClient<tonic::service::interceptor::InterceptedService<Channel, grpc::Bearer>>;
pub type Catalog =
    CatalogServiceClient<tonic::service::interceptor::InterceptedService<Channel, grpc::Bearer>>;
