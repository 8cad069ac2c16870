//! The saga's backlog as a gauge: `registration_claim_attempts_open`, the creation attempts not
//! finished (being claimed, or left open for the recovery worker to roll back). A value that
//! stays above zero means the worker cannot finish them (serial-svc unreachable, a bug).

use std::time::Duration;

use crate::store::Store;

pub const OPEN_ATTEMPTS: &str = "registration_claim_attempts_open";
/// How often the gauge is read from the database (one indexed count).
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(10);

/// Sets the gauge every [`REFRESH_INTERVAL`], for as long as it runs.
pub async fn report_open_attempts(store: Store) {
    let mut every = tokio::time::interval(REFRESH_INTERVAL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match store.count_open_attempts().await {
            Ok(open) => metrics::gauge!(OPEN_ATTEMPTS).set(open as f64),
            Err(err) => tracing::debug!(error = %err, "cannot count open claim attempts"),
        }
    }
}
