//! A rollout's first start: three serial-svc and three registration-svc replicas start at once on
//! the same fresh PostgreSQL databases, each applying its service's migrations at start. sqlx's
//! migrator takes a PostgreSQL advisory lock keyed by the database's name
//! (`pg_advisory_lock(0x3d32ad9e * crc32(current_database()))`, sqlx-postgres `migrate.rs`) and
//! holds it from before it reads `_sqlx_migrations` until the last migration is recorded, so the
//! replicas apply the schema one after the other: the first applies it, the others find it
//! applied. The test holds that lock itself while the six start, sees all six queue on it,
//! NOT_SERVING, then lets go: all six become SERVING, every migration is recorded once, and
//! each replica serves calls on the schema.
//! PostgreSQL only: SQLite is one file of one process, never shared by replicas.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use shared::clock::{SharedClock, SystemClock};
use shared::testing::TestDb;
use sqlx::{Connection, PgConnection};
use support::registration::*;
use support::{ORG, SECRET};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic_health::pb::health_check_response::ServingStatus;

const REPLICAS: usize = 3;

/// One serial-svc replica on `database_url`, not waited for (its migrations may be queued).
struct SerialReplica {
    addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl SerialReplica {
    async fn launch(database_url: &str, clock: SharedClock) -> SerialReplica {
        shared::telemetry::init_for_tests();
        let listener = support::bind("127.0.0.1:0".parse().unwrap()).await;
        let addr = listener.local_addr();
        let args = ["serial-svc", "--database-url", database_url, "--jwt-secret", SECRET];
        let config = <serial_svc::app::Config as clap::Parser>::try_parse_from(args).expect("valid flags");
        let (shutdown, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(serial_svc::app::serve(config, listener, clock, async move {
            let _ = rx.await;
        }));
        SerialReplica { addr, shutdown, task }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn stop(self) {
        let _ = self.shutdown.send(());
        self.task.await.expect("serial-svc task").expect("serial-svc exits cleanly");
    }
}

/// The health of the server at `addr` for the whole server (`""`), if it answers.
async fn health(addr: SocketAddr) -> Option<ServingStatus> {
    shared::testing::health::health_at(addr).await
}

/// Polls `condition` until it holds (bounded: 30 s).
async fn eventually(what: &str, mut condition: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !condition().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The key of sqlx's migration lock on the database `name`, as sqlx-postgres 0.9 computes it.
fn migration_lock_key(name: &str) -> i64 {
    0x3d32_ad9e * i64::from(crc32(name.as_bytes()))
}

/// CRC-32 (ISO HDLC, the zlib one), which sqlx uses for the key.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn database_name(url: &str) -> String {
    url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned()
}

/// Holds sqlx's migration lock of the database at `url` on a connection of its own.
async fn hold_migration_lock(url: &str) -> PgConnection {
    let mut conn = PgConnection::connect(url).await.expect("connect to the test database");
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(migration_lock_key(&database_name(url)))
        .execute(&mut conn)
        .await
        .expect("take the migration lock");
    conn
}

/// How many sessions wait for an advisory lock in the database at `url`.
async fn lock_waiters(admin: &mut PgConnection, url: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
         WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = $1",
    )
    .bind(database_name(url))
    .fetch_one(admin)
    .await
    .expect("read pg_locks")
}

/// The versions recorded in `_sqlx_migrations`, each with whether it succeeded.
async fn applied_migrations(url: &str) -> Vec<(i64, bool)> {
    let mut conn = PgConnection::connect(url).await.expect("connect to the test database");
    sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
        .fetch_all(&mut conn)
        .await
        .expect("read _sqlx_migrations")
}

/// The versions of a service's PostgreSQL migration files (`NNNN_name.sql` and
/// `NNNN_name.postgres.sql`), in order.
fn migration_files(service: &str) -> Vec<(i64, bool)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(service).join("migrations");
    let mut versions: Vec<(i64, bool)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("read {}: {err}", dir.display()))
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".sql") && !name.ends_with(".sqlite.sql"))
        .map(|name| {
            let version = name.split('_').next().unwrap().parse().expect("a numbered migration");
            (version, true)
        })
        .collect();
    versions.sort_unstable();
    versions
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_started_at_once_queue_on_the_migration_lock_and_apply_the_schema_once() {
    let Some(serial_db) = TestDb::postgres().await else { return };
    let Some(registration_db) = TestDb::postgres().await else { return };
    let mut admin = PgConnection::connect(&serial_db.url).await.expect("admin connection");
    let serial_lock = hold_migration_lock(&serial_db.url).await;
    let registration_lock = hold_migration_lock(&registration_db.url).await;

    // All six at once, none waited for; each registration-svc calls a serial-svc of its own.
    let clock: SharedClock = Arc::new(SystemClock);
    let mut serials = Vec::new();
    for _ in 0..REPLICAS {
        serials.push(SerialReplica::launch(&serial_db.url, clock.clone()).await);
    }
    let mut registrations = Vec::new();
    for serial in &serials {
        let addr = "127.0.0.1:0".parse().unwrap();
        let replica =
            RegistrationSvc::launch(addr, &registration_db.url, &serial.endpoint(), clock.clone(), &[]).await;
        registrations.push(replica);
    }

    // Every replica is up and waits on the lock, unready, with nothing applied.
    for url in [&serial_db.url, &registration_db.url] {
        eventually("three replicas wait for the migration lock", async || {
            lock_waiters(&mut admin, url).await == REPLICAS as i64
        })
        .await;
    }
    let addrs: Vec<SocketAddr> =
        serials.iter().map(|s| s.addr).chain(registrations.iter().map(|r| r.addr)).collect();
    for &addr in &addrs {
        assert_eq!(health(addr).await, Some(ServingStatus::NotServing), "{addr} is ready before its schema");
    }

    // Released: they take the lock in turn, and every one becomes SERVING.
    serial_lock.close().await.expect("release the serial-svc lock");
    registration_lock.close().await.expect("release the registration-svc lock");
    for &addr in &addrs {
        eventually("every replica is SERVING", async || health(addr).await == Some(ServingStatus::Serving))
            .await;
    }
    assert_eq!(applied_migrations(&serial_db.url).await, migration_files("serial-svc"));
    assert_eq!(applied_migrations(&registration_db.url).await, migration_files("registration-svc"));

    // Each registration-svc replica works on the schema, through its own serial-svc replica.
    let numbers: Vec<String> = (0..REPLICAS).map(|i| format!("ROLLOUT-{i}")).collect();
    let first = Endpoints { serial: serials[0].addr, registration: registrations[0].addr };
    seed_catalog(&first, ORG).await;
    add_serials(&first, ORG, &numbers.iter().map(String::as_str).collect::<Vec<_>>()).await;
    for (replica, number) in registrations.iter().zip(&numbers) {
        let endpoints = Endpoints { serial: serials[0].addr, registration: replica.addr };
        let created = register(&mut endpoints.registrations(ORG), "ada@example.com", &[number]).await;
        assert_eq!(created.line_items[0].serial_number, *number);
    }

    for replica in registrations {
        replica.stop().await;
    }
    for replica in serials {
        replica.stop().await;
    }
    let _ = admin.close().await;
}
