//! A service (serial-svc, registration-svc) as a child process: started on a free loopback port,
//! ready when its health check says SERVING, killed at the end (and on drop, so errors and panics
//! do not leave it behind).

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// The service whose health the bench waits for, in serial-svc.
pub const SERIAL_SERVICE: &str = "regserial.serial.v1.SerialService";
const POLL_INTERVAL: Duration = Duration::from_millis(100);
const PROBE_DEADLINE: Duration = Duration::from_secs(2);

pub struct ServerConfig<'a> {
    pub bin: &'a Path,
    /// The service of the health check that must say SERVING, e.g. [`SERIAL_SERVICE`].
    pub health_service: &'a str,
    /// Flags after `--listen` and `--database-url`.
    pub extra_args: &'a [String],
    /// Environment variables set for the service, after the telemetry ones of the bench's own
    /// environment are removed (every run starts with traces and metrics off).
    pub env: &'a [(&'static str, String)],
    pub database_url: &'a str,
    pub jwt_secret: &'a str,
    pub rust_log: &'a str,
    pub log_path: PathBuf,
    pub startup_timeout: Duration,
}

pub struct RunningServer {
    /// The binary's file name, for messages.
    name: String,
    child: Child,
    pid: u32,
    addr: SocketAddr,
    channel: Channel,
    log_path: PathBuf,
}

impl RunningServer {
    /// Starts the service and waits until it is SERVING; on failure the child is killed and the end
    /// of its log is printed.
    pub async fn start(config: ServerConfig<'_>) -> anyhow::Result<Self> {
        let addr = free_loopback_addr()?;
        let log = std::fs::File::create(&config.log_path)
            .with_context(|| format!("cannot create {}", config.log_path.display()))?;
        let child = Command::new(config.bin)
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--database-url")
            .arg(config.database_url)
            .args(config.extra_args)
            // In the environment rather than argv, where any local user could read it.
            .env("AUTH_JWT_SECRET", config.jwt_secret)
            .env_remove("AUTH_JWT_PUBLIC_KEY_FILE")
            .env("RUST_LOG", config.rust_log)
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .env_remove("OTEL_TRACES_SAMPLER")
            .env_remove("OTEL_TRACES_SAMPLER_ARG")
            .env_remove("METRICS_LISTEN_ADDR")
            .envs(config.env.iter().map(|(name, value)| (*name, value.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("cannot share the log file")?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", config.bin.display()))?;
        let name = config
            .bin
            .file_name()
            .map_or_else(|| config.bin.display().to_string(), |name| name.to_string_lossy().into_owned());
        let pid = child.id().with_context(|| format!("{name} exited at once"))?;
        let endpoint = Endpoint::from_shared(format!("http://{addr}"))?
            .connect_timeout(PROBE_DEADLINE)
            .tcp_nodelay(true);
        let channel = endpoint.connect_lazy();
        let mut server = Self { name, child, pid, addr, channel, log_path: config.log_path };
        if let Err(error) = server.wait_until_serving(config.health_service, config.startup_timeout).await {
            server.print_log_tail();
            server.stop().await;
            return Err(error);
        }
        Ok(server)
    }

    async fn wait_until_serving(&mut self, service: &str, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        let mut health = HealthClient::new(self.channel.clone());
        loop {
            if let Some(status) =
                self.child.try_wait().with_context(|| format!("cannot poll {}", self.name))?
            {
                bail!("{} exited during startup ({status})", self.name);
            }
            let probe = health.check(HealthCheckRequest { service: service.to_owned() });
            let last = match tokio::time::timeout(PROBE_DEADLINE, probe).await {
                Ok(Ok(response)) if response.get_ref().status == ServingStatus::Serving as i32 => {
                    return Ok(());
                }
                Ok(Ok(response)) => format!("status {:?}", response.get_ref().status()),
                Ok(Err(status)) => format!("{:?} {}", status.code(), status.message()),
                Err(_) => "health check timed out".to_owned(),
            };
            if Instant::now() >= deadline {
                bail!("{} was not SERVING within {timeout:?} (last health check: {last})", self.name);
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// Fails if the service is no longer running: a crash during a run voids its figures.
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        match self.child.try_wait().with_context(|| format!("cannot poll {}", self.name))? {
            Some(status) => bail!("{} exited ({status})", self.name),
            None => Ok(()),
        }
    }

    /// Prints the end of the service's output, to explain a failure.
    pub fn print_log_tail(&self) {
        const LINES: usize = 30;
        match std::fs::read_to_string(&self.log_path) {
            Ok(log) => {
                let lines: Vec<&str> = log.lines().collect();
                let start = lines.len().saturating_sub(LINES);
                eprintln!(
                    "--- last {} lines of {} output ({})",
                    lines.len() - start,
                    self.name,
                    self.log_path.display()
                );
                for line in &lines[start..] {
                    eprintln!("{line}");
                }
                eprintln!("---");
            }
            Err(error) => eprintln!("cannot read {} output {}: {error}", self.name, self.log_path.display()),
        }
    }

    /// Kills the service and reaps it.
    pub async fn stop(mut self) {
        if let Err(error) = self.child.kill().await {
            eprintln!("cannot kill {} (pid {}): {error}", self.name, self.pid);
        }
    }
}

/// A loopback address with a port that was free a moment ago.
fn free_loopback_addr() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("cannot bind a loopback port to find a free one")?;
    listener.local_addr().context("cannot read the free port")
}

/// The binary `name` (`serial-svc`, `registration-svc`) next to this executable, unless given
/// (by `--<name>-bin`).
pub fn resolve_bin(given: Option<&Path>, name: &str) -> anyhow::Result<PathBuf> {
    let bin = match given {
        Some(path) => path.to_path_buf(),
        None => {
            let exe = std::env::current_exe().context("cannot locate this executable")?;
            exe.with_file_name(name)
        }
    };
    if !bin.is_file() {
        // The CLI's binary `regserial` is built by the package `regserial-cli`.
        let package = if name == "regserial" { "regserial-cli" } else { name };
        bail!(
            "no {name} binary at {}: build it with `cargo build --release -p regserial-bench -p {package}` or pass --{name}-bin",
            bin.display()
        );
    }
    if bin.parent().and_then(Path::file_name).is_some_and(|dir| dir == "debug") {
        eprintln!(
            "warning: {} is a debug build; the figures are meaningless, use the release build",
            bin.display()
        );
    }
    Ok(bin)
}
