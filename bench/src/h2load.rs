//! h2load: running it under a time bound, reading its summary, and refusing a run in which a
//! request failed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, anyhow, bail, ensure};
use prost::Message;
use tokio::process::Command;

use crate::grpc_frame;

pub const INSTALL_HINT: &str = "install it with `apt-get update && apt-get install -y nghttp2-client`";
/// Slack over the run's own duration before h2load is killed.
const EXTRA_TIME: Duration = Duration::from_secs(60);

/// Fails with the install command when `bin` cannot be run; returns its version line.
pub async fn ensure_installed(bin: &Path) -> anyhow::Result<String> {
    let output = Command::new(bin).arg("--version").stdin(Stdio::null()).kill_on_drop(true).output();
    let output = match tokio::time::timeout(Duration::from_secs(10), output).await {
        Ok(Ok(output)) if output.status.success() => output,
        Ok(Ok(output)) => bail!("{} --version failed ({}): {INSTALL_HINT}", bin.display(), output.status),
        Ok(Err(error)) => bail!("cannot run {} ({error}): {INSTALL_HINT}", bin.display()),
        Err(_) => bail!("{} --version did not return: {INSTALL_HINT}", bin.display()),
    };
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// How long and how hard h2load drives each run: flags shared by every h2load bench.
#[derive(Debug, Clone, clap::Args)]
pub struct H2loadArgs {
    /// Measured seconds of each h2load run.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub duration_secs: u64,
    /// Unmeasured seconds before each h2load run's measurement (h2load --warm-up-time).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=60))]
    pub warm_up_secs: u64,
    /// h2load connections (-c).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub clients: u32,
    /// Concurrent streams per h2load connection (-m).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub streams: u32,
    /// The h2load executable.
    #[arg(long, default_value = "h2load")]
    pub h2load_bin: PathBuf,
}

/// A request body that h2load repeats, and the size of the answer a success carries.
pub struct Probe {
    /// `/package.Service/Method`.
    pub path: String,
    /// The gRPC-framed request.
    pub body: Vec<u8>,
    /// Whether the call needs the bench's token.
    pub authorized: bool,
    pub response_frame_len: usize,
}

impl Probe {
    /// `request` to `path`, whose every success must carry a message as long as `response`.
    pub fn new(
        path: &str,
        request: &impl Message,
        authorized: bool,
        response: &impl Message,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            path: path.to_owned(),
            body: grpc_frame::frame(request)?,
            authorized,
            response_frame_len: grpc_frame::framed_len(response.encoded_len()),
        })
    }
}

impl H2loadArgs {
    /// One h2load run of `probe` against the server at `addr`, its body written to
    /// `work_dir/<name>.bin`; fails unless every request succeeded with a full response message.
    pub async fn run(
        &self,
        addr: SocketAddr,
        token: &str,
        work_dir: &Path,
        probe: &Probe,
        name: &str,
    ) -> anyhow::Result<Summary> {
        let body = work_dir.join(format!("{name}.bin"));
        std::fs::write(&body, &probe.body).with_context(|| format!("cannot write {}", body.display()))?;
        let url = format!("http://{addr}{}", probe.path);
        eprintln!(
            "h2load {name}: {}s (+{}s warm-up), {} clients x {} streams, {url}",
            self.duration_secs, self.warm_up_secs, self.clients, self.streams
        );
        let mut args = vec![
            format!("--duration={}", self.duration_secs),
            format!("--clients={}", self.clients),
            format!("--max-concurrent-streams={}", self.streams),
            format!("--data={}", body.display()),
            "--header=content-type: application/grpc".to_owned(),
            "--header=te: trailers".to_owned(),
        ];
        if probe.authorized {
            args.push(format!("--header=authorization: Bearer {token}"));
        }
        if self.warm_up_secs > 0 {
            args.push(format!("--warm-up-time={}", self.warm_up_secs));
        }
        args.push(url.clone());
        let limit = Duration::from_secs(self.duration_secs + self.warm_up_secs) + EXTRA_TIME;
        let output =
            Command::new(&self.h2load_bin).args(args).stdin(Stdio::null()).kill_on_drop(true).output();
        let output = tokio::time::timeout(limit, output)
            .await
            .map_err(|_| anyhow!("h2load did not finish within {limit:?}"))?
            .with_context(|| format!("cannot run {}", self.h2load_bin.display()))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let checked = parse(&stdout).and_then(|summary| {
            ensure!(output.status.success(), "h2load exited with {}", output.status);
            let in_flight = u64::from(self.clients) * u64::from(self.streams);
            check(&summary, in_flight, probe.response_frame_len)?;
            Ok(summary)
        });
        let summary = checked.with_context(|| {
            format!(
                "h2load against {url} failed\n--- h2load output\n{stdout}{}---",
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
        eprintln!("h2load {name}: {:.0} req/s ({} succeeded)", summary.requests_per_sec, summary.succeeded);
        Ok(summary)
    }
}

/// What h2load reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub requests_per_sec: f64,
    pub succeeded: u64,
    pub failed: u64,
    pub errored: u64,
    pub timeout: u64,
    /// Responses with a 3xx, 4xx or 5xx status.
    pub status_other: u64,
    /// Bytes of DATA frames received: the response messages.
    pub data_bytes: u64,
}

/// Refuses a run with any failed, errored, timed out or non-2xx request, and one whose
/// responses carried fewer message bytes than its successes need: a gRPC error is an HTTP 200
/// with no message, which h2load counts as a success.
fn check(summary: &Summary, in_flight: u64, response_frame_len: usize) -> anyhow::Result<()> {
    ensure!(summary.succeeded > 0, "no request succeeded");
    ensure!(
        summary.failed == 0 && summary.errored == 0 && summary.timeout == 0,
        "{} requests failed, {} errored, {} timed out",
        summary.failed,
        summary.errored,
        summary.timeout
    );
    ensure!(summary.status_other == 0, "{} responses had a non-2xx status", summary.status_other);
    let frame = response_frame_len as u64;
    // Responses straddling the start of the measurement may have had their bytes counted in the
    // warm-up: at most one per stream in flight.
    let expected = summary.succeeded.saturating_sub(in_flight) * frame;
    ensure!(
        summary.data_bytes >= expected,
        "{} succeeded requests need at least {expected} bytes of response messages but only {} arrived: \
         calls are failing with a gRPC status",
        summary.succeeded,
        summary.data_bytes
    );
    Ok(())
}

/// Reads the `finished in`, `requests:`, `status codes:` and `traffic:` lines.
pub fn parse(output: &str) -> anyhow::Result<Summary> {
    let line = |prefix: &str| {
        output
            .lines()
            .find_map(|line| line.trim().strip_prefix(prefix))
            .with_context(|| format!("no `{prefix}` line in h2load's output"))
    };
    let requests_per_sec = line("finished in ")?
        .split(", ")
        .find_map(|part| part.strip_suffix(" req/s"))
        .context("no req/s in the `finished in` line")?
        .parse()
        .context("req/s is not a number")?;
    let requests = line("requests: ")?;
    let status = line("status codes: ")?;
    let data_bytes = line("traffic: ")?
        .split(", ")
        .find_map(|part| part.strip_suffix(" data"))
        .and_then(|part| part.split_once('(')?.1.split_once(')'))
        .map(|(bytes, _)| bytes)
        .context("no data bytes in the `traffic:` line")?
        .parse()
        .context("data bytes are not a number")?;
    Ok(Summary {
        requests_per_sec,
        succeeded: counter(requests, "succeeded")?,
        failed: counter(requests, "failed")?,
        errored: counter(requests, "errored")?,
        timeout: counter(requests, "timeout")?,
        status_other: counter(status, "3xx")? + counter(status, "4xx")? + counter(status, "5xx")?,
        data_bytes,
    })
}

/// The number before `name` in a `12 total, 3 done` list.
fn counter(list: &str, name: &str) -> anyhow::Result<u64> {
    list.split(", ")
        .find_map(|part| part.strip_suffix(name)?.trim().parse().ok())
        .with_context(|| format!("no `{name}` count in {list:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "starting benchmark...
spawning thread #0: 8 total client(s). Timing-based test with 1s of warm-up time and 10s of main duration for measurements.
Warm-up started for thread #0.
progress: 10% of clients started
Warm-up phase is over for thread #0.
Main benchmark duration is started for thread #0.
Main benchmark duration is over for thread #0. Stopping all clients.
Stopped all clients for thread #0

finished in 10.00s, 21345.60 req/s, 1.50MB/s
requests: 213456 total, 213712 started, 213456 done, 213456 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 213456 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 15.05MB (15780210) total, 3.10MB (3250000) headers (space savings 96.70%), 1.43MB (1494192) data
                     min         max         mean         sd        +/- sd
time for request:      339us     56.51ms     11.97ms      4.82ms    71.03%
";

    fn summary() -> Summary {
        Summary {
            requests_per_sec: 21345.6,
            succeeded: 213_456,
            failed: 0,
            errored: 0,
            timeout: 0,
            status_other: 0,
            data_bytes: 1_494_192,
        }
    }

    #[test]
    fn the_summary_lines_are_read() -> anyhow::Result<()> {
        assert_eq!(parse(OUTPUT)?, summary());
        Ok(())
    }

    #[test]
    fn output_without_a_summary_is_an_error() {
        assert!(parse("starting benchmark...\n").is_err());
    }

    #[test]
    fn a_run_with_full_responses_passes() -> anyhow::Result<()> {
        check(&summary(), 256, 7)
    }

    #[test]
    fn failed_requests_fail_the_run() {
        assert!(check(&Summary { failed: 1, ..summary() }, 256, 7).is_err());
        assert!(check(&Summary { errored: 1, ..summary() }, 256, 7).is_err());
        assert!(check(&Summary { status_other: 1, ..summary() }, 256, 7).is_err());
        assert!(check(&Summary { succeeded: 0, ..summary() }, 256, 7).is_err());
    }

    #[test]
    fn grpc_errors_are_caught_by_missing_response_bytes() {
        assert!(check(&Summary { data_bytes: 0, ..summary() }, 256, 7).is_err());
        assert!(check(&summary(), 256, 100).is_err());
    }
}
