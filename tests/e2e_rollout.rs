//! A rolling restart, as Kubernetes does one: the real `registration-svc` and `serial-svc`
//! binaries run as processes on fixed ports while a client keeps creating registrations;
//! registration-svc, then serial-svc, gets SIGTERM and is started again on the same port and
//! database. Every call answers OK or UNAVAILABLE (retried with its request_id, as a client
//! honouring RetryInfo does), each process exits 0 on SIGTERM, and afterwards every OK
//! registration exists with its serial claimed by it, nothing claimed twice or leaked.
//!
//! The binaries are built (or found up to date) with `escargot` in this test's target
//! directory, so `cargo test` on a clean clone needs nothing else.

mod support;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use regserial::serial::v1::SerialStatus;
use shared::status::client::failed_in_transport;
use shared::testing::TestDb;
use support::registration::*;
use support::{ORG, SECRET};
use tokio::process::{Child, Command};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

shared::per_backend!(a_rolling_restart_of_both_services_loses_no_call_and_leaks_no_claim);

/// Serials seeded: more than the stream of calls can use.
const SERIALS: usize = 1500;

/// The path of `binary` (a workspace package of the same name), built once per test run.
fn binary(binary: &'static str) -> PathBuf {
    static BUILT: OnceLock<std::sync::Mutex<HashMap<&'static str, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built.lock().unwrap();
    built
        .entry(binary)
        .or_insert_with(|| {
            // This test runs from <target>/<profile>/deps/: build in the same target directory.
            let exe = std::env::current_exe().expect("the test's own path");
            let target_dir = exe.ancestors().nth(3).expect("<target>/<profile>/deps/<test>").to_owned();
            escargot::CargoBuild::new()
                .manifest_path(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
                .package(binary)
                .bin(binary)
                .current_release()
                .target_dir(target_dir)
                .run()
                .unwrap_or_else(|err| panic!("cannot build {binary}: {err}"))
                .path()
                .to_owned()
        })
        .clone()
}

/// A free port on 127.0.0.1, for a process to listen on (and the next one after it).
fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// A service process and how to start it again.
struct Process {
    name: &'static str,
    addr: SocketAddr,
    env: Vec<(&'static str, String)>,
    child: Option<Child>,
}

impl Process {
    async fn start(name: &'static str, addr: SocketAddr, env: Vec<(&'static str, String)>) -> Process {
        let mut process = Process { name, addr, env, child: None };
        process.spawn().await;
        process
    }

    /// Spawns the binary and waits (bounded) until its health says SERVING.
    async fn spawn(&mut self) {
        let path = tokio::task::spawn_blocking({
            let name = self.name;
            move || binary(name)
        })
        .await
        .unwrap();
        let output = || if std::env::var_os("TEST_LOG").is_some() { Stdio::inherit() } else { Stdio::null() };
        let child = Command::new(&path)
            .env("LISTEN_ADDR", self.addr.to_string())
            .env("AUTH_JWT_SECRET", SECRET)
            .env("SHUTDOWN_GRACE", "10s")
            .env("HEALTH_CHECK_INTERVAL_MS", "100")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(output())
            .stderr(output())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", path.display()));
        self.child = Some(child);
        let (addr, name) = (self.addr, self.name);
        let child = self.child.as_mut().unwrap();
        shared::testing::health::wait_for(name, ServingStatus::Serving, || {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("{name} exited with {status} before serving");
            }
            shared::testing::health::health_at(addr)
        })
        .await;
    }

    /// Sends SIGTERM and waits (bounded) for the process to exit.
    async fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("a running process");
        let pid = child.id().expect("the child's pid");
        let sent = Command::new("kill").args(["-TERM", &pid.to_string()]).status().await.expect("run kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        tokio::time::timeout(Duration::from_secs(30), child.wait())
            .await
            .unwrap_or_else(|_| panic!("{} did not exit within 30 s of SIGTERM", self.name))
            .unwrap()
    }

    /// SIGTERM, a clean exit, and the same binary started again on the same port and database.
    async fn restart(&mut self) {
        let status = self.terminate().await;
        assert!(status.success(), "{} exited with {status} on SIGTERM", self.name);
        self.spawn().await;
    }
}

/// What the stream of calls saw.
#[derive(Default)]
struct Outcomes {
    /// serial -> the registration created for it.
    created: HashMap<String, String>,
    calls: usize,
    unavailable: usize,
    /// Anything but OK and UNAVAILABLE.
    unexpected: Vec<String>,
}

/// Creates one registration per serial in order, each retried with its request_id while the
/// answer is UNAVAILABLE, until `stop` (or the serials run out).
async fn stream(
    services: Arc<Endpoints>,
    numbers: Vec<String>,
    progress: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) -> Outcomes {
    let mut outcomes = Outcomes::default();
    let mut client = services.registrations(ORG);
    for number in numbers {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let request = create_request(registration("roll@example.com", &[&number]), Some(&new_request_id()));
        loop {
            outcomes.calls += 1;
            let mut call = tonic::Request::new(request.clone());
            call.set_timeout(Duration::from_secs(10));
            match client.create_registration(call).await {
                Ok(created) => {
                    let id = created.into_inner().id;
                    if let Some(earlier) = outcomes.created.insert(number.clone(), id.clone()) {
                        outcomes.unexpected.push(format!("{number} registered twice: {earlier} and {id}"));
                    }
                    break;
                }
                // UNAVAILABLE, or the client's own connection closed under the call as the old
                // process went away (CANCELLED with the transport error as its source, never
                // answered by a service): retried with the same request_id, as a client would.
                Err(status)
                    if status.code() == Code::Unavailable
                        || (status.code() == Code::Cancelled && failed_in_transport(&status)) =>
                {
                    outcomes.unavailable += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(status) => {
                    outcomes.unexpected.push(format!("{number}: {status:?}"));
                    break;
                }
            }
        }
        progress.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    outcomes
}

/// Waits (bounded) until the stream has finished `count` registrations in all.
async fn wait_for_progress(progress: &AtomicUsize, count: usize) {
    eventually(&format!("{count} registrations done"), || async {
        (progress.load(Ordering::SeqCst) >= count).then_some(())
    })
    .await;
}

async fn a_rolling_restart_of_both_services_loses_no_call_and_leaks_no_claim(registration_db: TestDb) {
    shared::telemetry::init_for_tests();
    let serial_db = if registration_db.url.starts_with("sqlite") {
        TestDb::sqlite()
    } else {
        TestDb::postgres().await.expect("PostgreSQL answered a moment ago")
    };
    let (serial_addr, registration_addr) = (free_addr(), free_addr());
    let mut serial =
        Process::start("serial-svc", serial_addr, vec![("DATABASE_URL", serial_db.url.clone())]).await;
    let registration_env = vec![
        ("DATABASE_URL", registration_db.url.clone()),
        ("SERIAL_SVC_ENDPOINT", format!("http://{serial_addr}")),
        ("SERIAL_SVC_DEADLINE_MS", "500".to_owned()),
        ("SERIAL_SVC_ATTEMPTS", "2".to_owned()),
        ("RECOVERY_INTERVAL_MS", "50".to_owned()),
        ("RECOVERY_LEASE_MS", "1500".to_owned()),
    ];
    let mut registration = Process::start("registration-svc", registration_addr, registration_env).await;
    let services = Arc::new(Endpoints { serial: serial_addr, registration: registration_addr });
    seed_catalog(services.as_ref(), ORG).await;
    let numbers: Vec<String> = (0..SERIALS).map(|i| format!("ROLL-{i:04}")).collect();
    for chunk in numbers.chunks(500) {
        let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
        add_serials(services.as_ref(), ORG, &chunk).await;
    }

    let (progress, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
    let calls = tokio::spawn(stream(services.clone(), numbers, progress.clone(), stop.clone()));
    wait_for_progress(&progress, 20).await;
    registration.restart().await;
    let after_first = progress.load(Ordering::SeqCst);
    wait_for_progress(&progress, after_first + 20).await;
    serial.restart().await;
    let after_second = progress.load(Ordering::SeqCst);
    wait_for_progress(&progress, after_second + 20).await;
    stop.store(true, Ordering::SeqCst);
    let outcomes = calls.await.unwrap();

    assert!(
        outcomes.unexpected.is_empty(),
        "calls answered neither OK nor UNAVAILABLE: {:#?}",
        outcomes.unexpected
    );
    assert!(!outcomes.created.is_empty());
    eprintln!(
        "rollout: {} calls, {} UNAVAILABLE, {} registrations",
        outcomes.calls,
        outcomes.unavailable,
        outcomes.created.len()
    );
    // Once the recovery worker has run: each claimed serial held by exactly its registration.
    assert_invariants(services.as_ref(), ORG).await;
    let mut c = services.registrations(ORG);
    let ids: HashSet<&String> = outcomes.created.values().collect();
    assert_eq!(ids.len(), outcomes.created.len(), "a registration id answered for two serials");
    for (number, id) in &outcomes.created {
        let registration = get(&mut c, id).await;
        assert_eq!(registration.line_items[0].serial_number, *number);
        assert_eq!(claim_of(services.as_ref(), ORG, number).await, (SerialStatus::Registered, id.clone()));
    }
    let registered = all_serials(services.as_ref(), ORG).await.unwrap();
    let claimed = registered.iter().filter(|s| s.status() == SerialStatus::Registered).count();
    assert_eq!(claimed, outcomes.created.len(), "only the OK registrations hold serials");

    for process in [&mut registration, &mut serial] {
        let status = process.terminate().await;
        assert!(status.success(), "{} exited with {status} on SIGTERM", process.name);
    }
}
