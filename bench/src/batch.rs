//! `batch`: BatchCreateSerials throughput, and serial-svc's resident memory idle and at its peak.

use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::task::JoinSet;

use crate::cli::{Backend, BatchArgs, ServerArgs};
use crate::fixtures;
use crate::harness::{self, Bench};
use crate::memory::{self, Resident};

#[derive(Debug)]
pub struct BatchReport {
    pub backend: Backend,
    pub args: BatchArgs,
    pub serials: u64,
    pub elapsed: Duration,
    /// Each call's latency, sorted.
    pub latencies: Vec<Duration>,
    /// Right after startup, before any call.
    pub idle: Resident,
    /// After the last batch: `peak` is the high-water mark of the whole run.
    pub after: Resident,
}

impl BatchReport {
    pub fn serials_per_sec(&self) -> f64 {
        self.serials as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency below which `quantile` of the calls finished.
    pub fn latency(&self, quantile: f64) -> Duration {
        let last = self.latencies.len().saturating_sub(1);
        let at = ((last as f64) * quantile).round() as usize;
        self.latencies.get(at.min(last)).copied().unwrap_or_default()
    }
}

pub async fn run(server: &ServerArgs, backend: Backend, args: &BatchArgs) -> anyhow::Result<BatchReport> {
    let args = args.clone();
    harness::with_server(server, backend, |bench| measure(bench, backend, args)).await
}

async fn measure(bench: Bench, backend: Backend, args: BatchArgs) -> anyhow::Result<BatchReport> {
    let idle = memory::read(bench.pid)?;
    fixtures::create_catalog(bench.channel.clone(), &bench.token).await?;
    let serials = u64::from(args.batches) * u64::from(args.batch_size);
    // Built before the clock starts, so that only the calls are timed.
    let requests = fixtures::batch_requests(&fixtures::run_prefix(), serials, args.batch_size);
    let lanes = (args.concurrency as usize).min(requests.len()).max(1);
    let mut per_lane: Vec<Vec<_>> = (0..lanes).map(|_| Vec::new()).collect();
    for (index, request) in requests.into_iter().enumerate() {
        per_lane[index % lanes].push(request);
    }
    eprintln!(
        "{}: creating {serials} serials in {} batches of {}, {lanes} at a time",
        backend.name(),
        args.batches,
        args.batch_size
    );

    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for lane in per_lane {
        let mut client = regserial::client::serial_service(bench.channel.clone());
        let token = bench.token.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(lane.len());
            for request in lane {
                let call_started = Instant::now();
                fixtures::create_batch(&mut client, &token, request).await?;
                latencies.push(call_started.elapsed());
            }
            anyhow::Ok(latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        latencies.extend(joined.context("a batch task panicked")??);
    }
    let elapsed = started.elapsed();
    let after = memory::read(bench.pid)?;
    latencies.sort();
    let report = BatchReport { backend, args, serials, elapsed, latencies, idle, after };
    eprintln!(
        "{}: {:.0} serials/s ({serials} in {:.2}s), batch latency p50 {:?} max {:?}",
        backend.name(),
        report.serials_per_sec(),
        elapsed.as_secs_f64(),
        report.latency(0.5),
        report.latency(1.0)
    );
    Ok(report)
}
