//! registration-svc started in this process on a tokio runtime of its own (see
//! [`super::registration`]), on a database of its own, calling serial-svc at an endpoint.

use std::net::SocketAddr;

use shared::clock::SharedClock;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic_health::pb::health_check_response::ServingStatus;

use super::SECRET;

/// Short timings, so that the recovery worker acts within the tests' bounded polls.
const REGISTRATION_FLAGS: &[&str] = &[
    "--serial-deadline-ms",
    "500",
    "--serial-attempts",
    "2",
    "--recovery-interval-ms",
    "50",
    "--recovery-lease-ms",
    "1500",
    "--shutdown-grace",
    "5s",
    "--health-check-interval-ms",
    "100",
];

/// A running registration-svc, on its own runtime.
pub struct RegistrationSvc {
    pub addr: SocketAddr,
    /// Where its metrics endpoint is, once bound (with `--metrics-listen`).
    pub metrics: shared::metrics::BoundAddress,
    runtime: Option<tokio::runtime::Runtime>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl RegistrationSvc {
    /// Starts registration-svc on `addr` (port 0: any), without waiting for it (see
    /// [`RegistrationSvc::serving`]).
    pub async fn launch(
        addr: SocketAddr,
        database_url: &str,
        serial_endpoint: &str,
        clock: SharedClock,
        extra: &[String],
    ) -> RegistrationSvc {
        shared::telemetry::init_for_tests();
        let mut args: Vec<String> = [
            "registration-svc",
            "--database-url",
            database_url,
            "--jwt-secret",
            SECRET,
            "--serial-endpoint",
            serial_endpoint,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // A flag in `extra` replaces the default one.
        for pair in REGISTRATION_FLAGS.chunks(2) {
            if !extra.iter().any(|flag| flag == pair[0]) {
                args.extend(pair.iter().map(|s| s.to_string()));
            }
        }
        args.extend(extra.iter().cloned());
        let config =
            <registration_svc::app::Config as clap::Parser>::try_parse_from(args).expect("valid flags");
        let metrics = config.service.metrics_bound.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("registration-svc")
            .enable_all()
            .build()
            .expect("a runtime for registration-svc");
        let listener = runtime.spawn(super::bind(addr)).await.expect("bind task");
        let addr = listener.local_addr();
        let (tx, rx) = oneshot::channel::<()>();
        let task = runtime.spawn(registration_svc::app::serve(config, listener, clock, async move {
            let _ = rx.await;
        }));
        RegistrationSvc { addr, metrics, runtime: Some(runtime), shutdown: Some(tx), task: Some(task) }
    }

    pub async fn health(&self) -> Option<ServingStatus> {
        shared::testing::health::health_at(self.addr).await
    }

    /// Polls health until it reports `status` (bounded: 30 s); fails early if serve() ended.
    pub async fn wait_for(&self, status: ServingStatus) {
        shared::testing::health::wait_for("registration-svc", status, || async {
            let stopped = self.task.as_ref().is_some_and(|task| task.is_finished());
            assert!(!stopped, "registration-svc stopped before becoming {status:?}");
            self.health().await
        })
        .await;
    }

    /// This registration-svc once it is SERVING.
    pub async fn serving(self) -> Self {
        self.wait_for(ServingStatus::Serving).await;
        self
    }

    /// Graceful stop: shutdown signal, drain, clean exit.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("registration-svc task").expect("registration-svc exits cleanly");
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }

    /// A crash: every task of the service is dropped where it stands, nothing is drained.
    pub fn crash(mut self) {
        self.task.take();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for RegistrationSvc {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
