//! registration-svc and serial-svc together, each on its own fresh database of one backend,
//! talking over real gRPC on loopback through a [`FaultProxy`]. Re-exports the seeding helpers
//! (`seed`) and the saga's invariants (`invariants`), so tests need one `use`.
//!
//! registration-svc runs on a tokio runtime of its own, so that [`Pair::crash_registration`]
//! can drop every one of its tasks (server, connections, recovery worker) at whatever await
//! point they are: a crash between two steps, with the databases keeping what was committed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use regserial::registration::v1::registration_service_client::RegistrationServiceClient;
use shared::auth::Scope;
use shared::clock::{ManualClock, SharedClock, SystemClock};
use shared::testing::{FaultProxy, ProxyMode, TestDb};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;

use super::grpc::{Bearer, Clients};
use super::{ALL_SCOPES, SECRET, SerialSvc};

// Unused in the test binaries of serial-svc alone.
#[allow(unused_imports)]
pub use super::invariants::*;
#[allow(unused_imports)]
pub use super::seed::*;

pub use super::registration_svc::RegistrationSvc;

pub type Registrations = RegistrationServiceClient<InterceptedService<Channel, Bearer>>;

/// serial-svc and registration-svc clients, wherever the services run.
pub trait Services {
    /// serial-svc clients for `org` with every scope.
    fn serials(&self, org: &str) -> Clients;
    /// A RegistrationService client for `org` with every scope.
    fn registrations(&self, org: &str) -> Registrations;
}

impl Services for Pair {
    fn serials(&self, org: &str) -> Clients {
        Pair::serials(self, org)
    }

    fn registrations(&self, org: &str) -> Registrations {
        Pair::registrations(self, org)
    }
}

/// Services at fixed addresses, run by something else than a [`Pair`] (processes, say).
pub struct Endpoints {
    pub serial: SocketAddr,
    pub registration: SocketAddr,
}

impl Services for Endpoints {
    fn serials(&self, org: &str) -> Clients {
        Clients::new(Pair::channel(self.serial), Pair::token(org, ALL_SCOPES))
    }

    fn registrations(&self, org: &str) -> Registrations {
        let header = format!("Bearer {}", Pair::token(org, ALL_SCOPES));
        let bearer = Bearer(Some(header.parse().expect("ascii header")));
        RegistrationServiceClient::with_interceptor(Pair::channel(self.registration), bearer)
    }
}

/// How a [`Pair`] starts.
#[derive(Default)]
pub struct PairOptions {
    /// A clock both services share, moved by the test (else the system clock).
    pub manual_clock: Option<DateTime<Utc>>,
    /// Extra flags of registration-svc, such as `--review-period-days 30` (replacing the
    /// test defaults of the same flags).
    pub registration_flags: Vec<String>,
    /// Extra flags of serial-svc, such as `--max-connection-age 150ms` or
    /// `--metrics-listen 127.0.0.1:0`.
    pub serial_flags: Vec<String>,
}

/// serial-svc and registration-svc, registration-svc reaching serial-svc through `proxy`.
pub struct Pair {
    serial: Option<SerialSvc>,
    serial_db: Option<TestDb>,
    serial_addr: SocketAddr,
    pub proxy: FaultProxy,
    registration: Option<RegistrationSvc>,
    registration_db: TestDb,
    registration_addr: SocketAddr,
    pub clock: SharedClock,
    pub manual: Option<Arc<ManualClock>>,
    flags: Vec<String>,
}

impl Pair {
    /// Both services with the system clock; `db` is registration-svc's, serial-svc gets a fresh
    /// one of the same backend.
    pub async fn start(db: TestDb) -> Pair {
        Self::start_with(db, PairOptions::default()).await
    }

    /// A pair on `db` whose serial-svc holds [`ORG`]'s catalog and the serials `numbers`.
    pub async fn with_serials(db: TestDb, numbers: &[&str]) -> Pair {
        let pair = Self::start(db).await;
        seed_catalog(&pair, super::ORG).await;
        add_serials(&pair, super::ORG, numbers).await;
        pair
    }

    pub async fn start_with(db: TestDb, options: PairOptions) -> Pair {
        let serial_db = if db.url.starts_with("sqlite") {
            TestDb::sqlite()
        } else {
            TestDb::postgres().await.expect("PostgreSQL answered a moment ago")
        };
        let manual = options.manual_clock.map(|start| Arc::new(ManualClock::new(start)));
        let clock: SharedClock = match &manual {
            Some(manual) => manual.clone(),
            None => Arc::new(SystemClock),
        };
        let serial_flags: Vec<&str> = options.serial_flags.iter().map(String::as_str).collect();
        let serial =
            SerialSvc::start_on("127.0.0.1:0".parse().unwrap(), serial_db, clock.clone(), &serial_flags)
                .await;
        let serial_addr = serial.addr;
        let proxy = FaultProxy::start(serial_addr).await.expect("start the proxy");
        let registration = RegistrationSvc::launch(
            "127.0.0.1:0".parse().unwrap(),
            &db.url,
            &proxy.endpoint(),
            clock.clone(),
            &options.registration_flags,
        )
        .await
        .serving()
        .await;
        Pair {
            serial: Some(serial),
            serial_db: None,
            serial_addr,
            proxy,
            registration_addr: registration.addr,
            registration: Some(registration),
            registration_db: db,
            clock,
            manual,
            flags: options.registration_flags,
        }
    }

    /// Where the running serial-svc's and registration-svc's metrics endpoints are bound.
    pub async fn metrics_addrs(&self) -> (SocketAddr, SocketAddr) {
        let serial = self.serial.as_ref().expect("serial-svc is running").metrics.wait().await;
        let registration =
            self.registration.as_ref().expect("registration-svc is running").metrics.wait().await;
        (serial, registration)
    }

    /// Where registration-svc listens (for tools such as grpcurl).
    pub fn registration_addr(&self) -> SocketAddr {
        self.registration_addr
    }

    /// registration-svc's database URL.
    pub fn registration_database_url(&self) -> &str {
        &self.registration_db.url
    }

    /// Moves the shared manual clock (panics without one).
    pub fn advance(&self, by: chrono::Duration) {
        self.manual.as_ref().expect("a pair started with a manual clock").advance(by);
    }

    pub fn set_proxy(&self, mode: ProxyMode) {
        self.proxy.set(mode);
    }

    pub async fn stop_serial(&mut self) {
        let serial = self.serial.take().expect("serial-svc is running");
        self.serial_db = Some(serial.stop_keeping_db().await);
    }

    /// Starts serial-svc again on its database and port.
    pub async fn start_serial(&mut self) {
        let db = self.serial_db.take().expect("serial-svc is stopped");
        self.serial = Some(SerialSvc::start_on(self.serial_addr, db, self.clock.clone(), &[]).await);
    }

    pub async fn stop_registration(&mut self) {
        self.registration.take().expect("registration-svc is running").stop().await;
    }

    /// Drops registration-svc's every task where it stands (see [`RegistrationSvc::crash`]).
    pub fn crash_registration(&mut self) {
        self.registration.take().expect("registration-svc is running").crash();
    }

    /// Starts registration-svc again on its database and port, and waits until it is SERVING.
    pub async fn start_registration(&mut self) {
        self.launch_registration().await;
        self.wait_for_registration(ServingStatus::Serving).await;
    }

    /// Starts registration-svc again on its database and port, without waiting for it to be
    /// SERVING (see [`Pair::wait_for_registration`]).
    pub async fn launch_registration(&mut self) {
        assert!(self.registration.is_none(), "registration-svc is stopped");
        let svc = RegistrationSvc::launch(
            self.registration_addr,
            &self.registration_db.url,
            &self.proxy.endpoint(),
            self.clock.clone(),
            &self.flags,
        )
        .await;
        self.registration = Some(svc);
    }

    /// Polls registration-svc's health until it reports `status`.
    pub async fn wait_for_registration(&self, status: ServingStatus) {
        self.registration.as_ref().expect("registration-svc is running").wait_for(status).await;
    }

    /// Another registration-svc on the same database and serial-svc endpoint (a replica), on a
    /// port of its own.
    pub async fn start_replica(&self) -> RegistrationSvc {
        RegistrationSvc::launch(
            "127.0.0.1:0".parse().unwrap(),
            &self.registration_db.url,
            &self.proxy.endpoint(),
            self.clock.clone(),
            &self.flags,
        )
        .await
        .serving()
        .await
    }

    /// A client of the replica at `addr` for `org` with every scope.
    pub fn registrations_at(&self, addr: SocketAddr, org: &str) -> Registrations {
        let header = format!("Bearer {}", Self::token(org, ALL_SCOPES));
        let bearer = Bearer(Some(header.parse().expect("ascii header")));
        RegistrationServiceClient::with_interceptor(Self::channel(addr), bearer)
    }

    fn channel(addr: SocketAddr) -> Channel {
        Channel::from_shared(format!("http://{addr}")).unwrap().connect_lazy()
    }

    pub fn token(org: &str, scopes: &[Scope]) -> String {
        shared::auth::mint_hs256(SECRET.as_bytes(), org, "tester", scopes, Duration::from_secs(600)).unwrap()
    }

    /// A RegistrationService client for `org` with every scope (survives restarts: same port).
    pub fn registrations(&self, org: &str) -> Registrations {
        self.registrations_with(org, ALL_SCOPES)
    }

    pub fn registrations_with(&self, org: &str, scopes: &[Scope]) -> Registrations {
        self.registrations_header(Some(format!("Bearer {}", Self::token(org, scopes))))
    }

    /// A client sending `header` verbatim as `authorization` (None: no header).
    pub fn registrations_header(&self, header: Option<String>) -> Registrations {
        let bearer = Bearer(header.map(|h| h.parse().expect("ascii header")));
        let limit = regserial::client::MAX_MESSAGE_SIZE;
        RegistrationServiceClient::with_interceptor(Self::channel(self.registration_addr), bearer)
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit)
    }

    /// serial-svc clients for `org`, straight to serial-svc (not through the proxy).
    pub fn serials(&self, org: &str) -> Clients {
        Clients::new(Self::channel(self.serial_addr), Self::token(org, ALL_SCOPES))
    }

    pub async fn stop(mut self) {
        if let Some(registration) = self.registration.take() {
            registration.stop().await;
        }
        if let Some(serial) = self.serial.take() {
            serial.stop().await;
        }
    }
}
