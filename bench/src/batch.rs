//! `batch`: BatchCreateSerials throughput, one call at a time, and serial-svc's resident memory
//! idle and at its peak.

use std::time::{Duration, Instant};

use crate::args::{Backend, BatchArgs, ServerArgs};
use crate::fixtures;
use crate::harness::{self, Bench};
use crate::memory::{self, Resident};

#[derive(Debug)]
pub struct BatchReport {
    pub backend: Backend,
    pub args: BatchArgs,
    pub serials: u64,
    pub elapsed: Duration,
    /// Right after startup, before any call.
    pub idle: Resident,
    /// After the last batch: `peak` is the high-water mark of the whole run.
    pub after: Resident,
}

impl BatchReport {
    pub fn serials_per_sec(&self) -> f64 {
        self.serials as f64 / self.elapsed.as_secs_f64()
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
    let name = backend.name();
    eprintln!("{name}: creating {serials} serials in {} batches of {}", args.batches, args.batch_size);
    let mut client = regserial::client::serial_service(bench.channel.clone());
    let started = Instant::now();
    for request in requests {
        fixtures::create_batch(&mut client, &bench.token, request).await?;
    }
    let elapsed = started.elapsed();
    let after = memory::read(bench.pid)?;
    let report = BatchReport { backend, args, serials, elapsed, idle, after };
    eprintln!(
        "{name}: {:.0} serials/s ({serials} in {:.2}s)",
        report.serials_per_sec(),
        elapsed.as_secs_f64()
    );
    Ok(report)
}
