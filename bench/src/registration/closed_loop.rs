//! A closed-loop load generator for calls that h2load cannot make: each call needs a body of its
//! own (a serial nobody claimed yet, a fresh `request_id`). `concurrency` tasks each make calls
//! back to back; every call gets a number unique in the run (0, 1, 2, … in the order they start),
//! from which the caller builds its body. Completions inside the measured window are counted;
//! any failed call fails the run.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Longest a single call may take before the run is declared failed.
const CALL_DEADLINE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy)]
pub struct LoopConfig {
    pub concurrency: u32,
    /// Calls completing in this first stretch are not counted.
    pub warm_up: Duration,
    /// The measured window, after the warm-up.
    pub duration: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoopSummary {
    /// Calls that completed inside the measured window.
    pub completed: u64,
    /// Calls started in the whole run (warm-up and calls still in flight at the end included):
    /// how many call numbers were used.
    pub started: u64,
    pub window: Duration,
    /// Latencies of the calls counted, sorted.
    pub latencies: Vec<Duration>,
}

impl LoopSummary {
    pub fn per_sec(&self) -> f64 {
        self.completed as f64 / self.window.as_secs_f64()
    }

    /// The latency below which `quantile` of the counted calls finished.
    pub fn latency(&self, quantile: f64) -> Duration {
        let last = self.latencies.len().saturating_sub(1);
        let at = ((last as f64) * quantile).round() as usize;
        self.latencies.get(at.min(last)).copied().unwrap_or_default()
    }
}

/// Runs `call(number)` from `concurrency` tasks until the warm-up and the window are over.
pub async fn run<F, Fut>(config: LoopConfig, call: F) -> anyhow::Result<LoopSummary>
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let next = Arc::new(AtomicU64::new(0));
    let begin = Instant::now();
    let measure_from = begin + config.warm_up;
    let end = measure_from + config.duration;
    let mut tasks = JoinSet::new();
    for _ in 0..config.concurrency {
        let call = call.clone();
        let next = Arc::clone(&next);
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let started = Instant::now();
                if started >= end {
                    break;
                }
                let number = next.fetch_add(1, Ordering::Relaxed);
                tokio::time::timeout(CALL_DEADLINE, call(number))
                    .await
                    .with_context(|| format!("call {number}: no answer within {CALL_DEADLINE:?}"))?
                    .with_context(|| format!("call {number}"))?;
                let done = Instant::now();
                if done >= measure_from && done <= end {
                    latencies.push(done - started);
                }
            }
            anyhow::Ok(latencies)
        });
    }
    let mut latencies = Vec::new();
    let mut failure = None;
    while let Some(joined) = tasks.join_next().await {
        match joined.context("a load task panicked").and_then(|outcome| outcome) {
            Ok(task_latencies) => latencies.extend(task_latencies),
            Err(error) => {
                // The first failure ends the run: the other tasks are aborted, not awaited.
                failure.get_or_insert(error);
                tasks.abort_all();
            }
        }
    }
    if let Some(error) = failure {
        return Err(error);
    }
    latencies.sort();
    Ok(LoopSummary {
        completed: latencies.len() as u64,
        started: next.load(Ordering::Relaxed),
        window: config.duration,
        latencies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn calls_are_numbered_once_and_only_those_in_the_window_count() -> anyhow::Result<()> {
        let config = LoopConfig {
            concurrency: 4,
            warm_up: Duration::from_millis(100),
            duration: Duration::from_millis(400),
        };
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let recorder = Arc::clone(&seen);
        let summary = run(config, move |number| {
            let recorder = Arc::clone(&recorder);
            async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                recorder.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.push(number);
                Ok(())
            }
        })
        .await?;
        let mut seen = seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..summary.started).collect::<Vec<_>>());
        // At most 4 tasks x 50 calls/s over a 0.4 s window, and the warm-up's calls not counted.
        assert!(summary.completed > 0 && summary.completed <= 84, "{summary:?}");
        assert!(summary.started > summary.completed);
        assert!(summary.latency(0.5) >= Duration::from_millis(20));
        Ok(())
    }

    #[tokio::test(flavor = "current_thread")]
    async fn one_failed_call_fails_the_run() {
        let config = LoopConfig { concurrency: 2, warm_up: Duration::ZERO, duration: Duration::from_secs(1) };
        let outcome = run(config, |number| async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            anyhow::ensure!(number != 7, "refused");
            Ok(())
        })
        .await;
        assert!(format!("{:#}", outcome.unwrap_err()).contains("call 7: refused"));
    }
}
