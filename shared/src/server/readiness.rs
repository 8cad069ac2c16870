//! Readiness: SERVING while the database answers, NOT_SERVING while it does not.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::Health;
use crate::db::Db;

/// How long one database check may take before it counts as a failure.
pub const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// Checks the database every `interval` and reports SERVING while it answers, NOT_SERVING while
/// it does not, logging each transition once. A failed check drops the pool's idle connections
/// ([`Db::drop_idle`]), so that calls after a database restart do not meet them one by one.
/// Stops, leaving NOT_SERVING, when `draining` is cancelled (pass [`Health::draining`], which
/// [`super::serve`] cancels on shutdown).
///
/// Spawn it only once migrations have run: its first successful check makes the service ready.
pub fn spawn_readiness(
    health: Health,
    db: Db,
    interval: Duration,
    draining: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut up: Option<bool> = None;
        loop {
            let check = tokio::select! {
                () = draining.cancelled() => break,
                result = tokio::time::timeout(PING_TIMEOUT, db.ping()) => result,
            };
            let now_up = match check {
                Ok(Ok(())) => true,
                Ok(Err(err)) => {
                    if up != Some(false) {
                        tracing::warn!(backend = db.backend_name(), error = %err, "database unreachable, not serving");
                    }
                    false
                }
                Err(_) => {
                    if up != Some(false) {
                        let timeout_ms = PING_TIMEOUT.as_millis();
                        tracing::warn!(
                            backend = db.backend_name(),
                            timeout_ms,
                            "database check timed out, not serving"
                        );
                    }
                    false
                }
            };
            if !now_up {
                let dropped = db.drop_idle();
                if dropped > 0 {
                    tracing::info!(dropped, "idle database connections dropped after a failed check");
                }
            }
            if now_up && up != Some(true) {
                tracing::info!(backend = db.backend_name(), "database reachable, serving");
            }
            if up != Some(now_up) {
                health.set_serving(now_up).await;
                up = Some(now_up);
            }
            tokio::select! {
                () = draining.cancelled() => break,
                () = tokio::time::sleep(interval) => {}
            }
        }
        health.set_serving(false).await;
        tracing::debug!("readiness checks stopped");
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tonic_health::pb::health_check_response::ServingStatus;

    use super::*;

    /// Polls `health` until it reports `want` (bounded).
    async fn wait_for(health: &Health, want: ServingStatus) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while health.status("") != Some(want) {
            assert!(tokio::time::Instant::now() < deadline, "health never became {want:?}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test]
    async fn serving_follows_the_database_and_stops_when_draining() {
        crate::telemetry::init_for_tests();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("ready.db").display());
        let db = crate::db::connect(&url, 2).await.unwrap();
        let (health, _server) = Health::new(&["test.v1.Svc"]);
        let task = spawn_readiness(health.clone(), db.clone(), Duration::from_millis(10), health.draining());

        wait_for(&health, ServingStatus::Serving).await;
        db.close().await;
        wait_for(&health, ServingStatus::NotServing).await;
        // A database outage makes the process unready, never dead.
        assert_eq!(health.status(super::super::LIVENESS), Some(ServingStatus::Serving));

        health.start_draining();
        tokio::time::timeout(Duration::from_secs(5), task).await.expect("the task stops").unwrap();
        assert_eq!(health.status("test.v1.Svc"), Some(ServingStatus::NotServing));
    }
}
