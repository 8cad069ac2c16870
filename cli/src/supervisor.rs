//! The services `regserial up` runs in this process: started together, watched until Ctrl-C or
//! until one of them fails, stopped together.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, anyhow};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::health;

/// One service running in this process.
struct Running {
    name: &'static str,
    addr: SocketAddr,
    /// The gRPC service name whose health says the service is ready.
    health_service: &'static str,
    task: JoinHandle<()>,
}

/// Why a service's task ended, sent when it does.
type Ended = (&'static str, anyhow::Result<()>);

/// The services of one `up`, sharing one stop signal.
pub struct Supervisor {
    running: Vec<Running>,
    stop: watch::Sender<bool>,
    ended_tx: mpsc::UnboundedSender<Ended>,
    ended_rx: mpsc::UnboundedReceiver<Ended>,
}

impl Supervisor {
    pub fn new() -> Self {
        let (ended_tx, ended_rx) = mpsc::unbounded_channel();
        Self { running: Vec::new(), stop: watch::Sender::new(false), ended_tx, ended_rx }
    }

    /// A future that resolves when [`Supervisor::stop`] is called: each service's shutdown.
    pub fn shutdown(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut stopped = self.stop.subscribe();
        async move {
            // An error means the supervisor is gone, which also means stop.
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    }

    /// Runs `serve`, a service listening on `addr`, ready once `health_service` is SERVING.
    pub fn spawn(
        &mut self,
        name: &'static str,
        addr: SocketAddr,
        health_service: &'static str,
        serve: impl Future<Output = anyhow::Result<()>> + Send + 'static,
    ) {
        let ended = self.ended_tx.clone();
        let task = tokio::spawn(async move {
            let result = serve.await;
            let _ = ended.send((name, result));
        });
        self.running.push(Running { name, addr, health_service, task });
    }

    /// Waits until every service reports SERVING, failing if one ends or is not ready `within`.
    pub async fn wait_until_serving(&mut self, within: Duration) -> anyhow::Result<()> {
        for index in 0..self.running.len() {
            let (name, addr, service) = {
                let running = &self.running[index];
                (running.name, running.addr, running.health_service)
            };
            tokio::select! {
                ready = health::wait_until_serving(addr, service, within) => {
                    ready.with_context(|| format!("{name} did not become ready"))?;
                }
                Some(ended) = self.ended_rx.recv() => return Err(ended_early(ended)),
            }
            tracing::debug!(service = name, %addr, "service ready");
        }
        Ok(())
    }

    /// Runs until `signal` resolves (Ok) or a service ends on its own (Err).
    pub async fn run_until(&mut self, signal: impl Future<Output = ()>) -> anyhow::Result<()> {
        tokio::select! {
            () = signal => Ok(()),
            Some(ended) = self.ended_rx.recv() => Err(ended_early(ended)),
        }
    }

    /// Stops every service and waits for each to finish draining; the first failure is returned.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        let mut first_error = None;
        for running in self.running {
            if let Err(err) = running.task.await {
                first_error.get_or_insert(anyhow!("{} panicked: {err}", running.name));
            }
        }
        drop(self.ended_tx);
        while let Some((name, result)) = self.ended_rx.recv().await {
            if let Err(err) = result {
                first_error.get_or_insert(err.context(format!("{name} failed")));
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

fn ended_early((name, result): Ended) -> anyhow::Error {
    match result {
        Ok(()) => anyhow!("{name} stopped unexpectedly"),
        Err(err) => err.context(format!("{name} failed")),
    }
}
