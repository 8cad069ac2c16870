//! `regserial import` and `regserial export`, the binary run against a real serial-svc (in
//! this process, on 127.0.0.1:0) on SQLite and on PostgreSQL: a file imported and exported
//! again reads the same, failed rows land next to the input, and the exit code says whether the
//! job succeeded.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use shared::auth::Scope;
use shared::clock::SystemClock;
use shared::testing::TestDb;
use tonic_health::pb::health_check_response::ServingStatus;

const SECRET: &str = "cli-test-secret";

struct Service {
    endpoint: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    _db: TestDb,
}

async fn start(db: TestDb) -> Service {
    let listener = shared::server::Listener::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr();
    let endpoint = format!("http://{addr}");
    let args = ["serial-svc", "--database-url", &db.url, "--jwt-secret", SECRET];
    let config = <serial_svc::app::Config as clap::Parser>::try_parse_from(args).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serial_svc::app::serve(config, listener, Arc::new(SystemClock), async move {
        let _ = stopped.await;
    }));
    shared::testing::health::wait_for("serial-svc", ServingStatus::Serving, || {
        shared::testing::health::health_at(addr)
    })
    .await;
    Service { endpoint, stop, task, _db: db }
}

fn token(org: &str) -> String {
    let scopes = [Scope::SerialsRead, Scope::SerialsWrite];
    shared::auth::mint_hs256(SECRET.as_bytes(), org, "cli-test", &scopes, Duration::from_secs(600)).unwrap()
}

/// Runs `regserial` with `args` and the token in `REGSERIAL_TOKEN` (off the async runtime).
async fn regserial(args: Vec<String>, token: String) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_regserial"))
            .args(&args)
            .env("REGSERIAL_TOKEN", token)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

const HEADER: &str = "serialNumber,productId,warrantyId,validFrom,validUntil,registerUntil,customerTags";

fn rows(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match i % 3 {
            0 => format!("CLI-{i},,,2026-01-01T00:00:00Z,2031-01-01T00:00:00Z,,\"vip,eu\""),
            1 => format!("CLI-{i},,,,,2027-06-01T12:30:00Z,"),
            _ => format!("CLI-{i},,,,,,solo"),
        })
        .collect()
}

async fn a_file_imported_then_exported_reads_the_same(db: TestDb) {
    let svc = start(db).await;
    let dir = std::env::temp_dir().join(format!("regserial-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("serials.csv");
    let good = rows(2_500);
    let mut file = vec![HEADER.to_owned()];
    file.extend(good[..1_000].iter().cloned());
    file.push("bad serial!,,,,,,".to_owned());
    file.extend(good[1_000..].iter().cloned());
    std::fs::write(&input, file.join("\n") + "\n").unwrap();

    let import = vec![
        "import".into(),
        input.display().to_string(),
        "--endpoint".into(),
        svc.endpoint.clone(),
        "--quiet".into(),
    ];
    let out = regserial(import.clone(), token("cli-org")).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("succeeded: 2501 rows read, 2500 created, 1 failed"), "{stdout}");
    let failed = std::fs::read_to_string(dir.join("serials.failed.csv")).unwrap();
    assert_eq!(
        failed.lines().nth(1).unwrap().split(',').take(3).collect::<Vec<_>>(),
        ["1002", "bad serial!", "INVALID_SERIAL_NUMBER"]
    );

    // The same command again: the job is over, nothing is imported twice.
    let again = regserial(import, token("cli-org")).await;
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("2500 created"));

    let output = dir.join("export.csv");
    let export = vec![
        "export".into(),
        "--endpoint".into(),
        svc.endpoint.clone(),
        "--output".into(),
        output.display().to_string(),
    ];
    let out = regserial(export, token("cli-org")).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The same header, then the same rows (in creation order, which follows the serials' keys
    // inside each committed batch, not the file's order).
    let exported = std::fs::read_to_string(&output).unwrap();
    let mut lines: Vec<&str> = exported.lines().collect();
    assert_eq!(lines.remove(0), HEADER);
    lines.sort_unstable();
    let mut expected: Vec<&str> = good.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(lines.len(), expected.len());
    if let Some((got, want)) = lines.iter().zip(&expected).find(|(got, want)| got != want) {
        panic!("exported {got:?}, imported {want:?}");
    }

    // A file whose header is refused: a non-zero exit naming the column.
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "serialNumber,colour\nA,red\n").unwrap();
    let out = regserial(
        vec![
            "import".into(),
            bad.display().to_string(),
            "--endpoint".into(),
            svc.endpoint.clone(),
            "--quiet".into(),
        ],
        token("cli-org"),
    )
    .await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("colour"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    std::fs::remove_dir_all(&dir).unwrap();
    let _ = svc.stop.send(());
    svc.task.await.unwrap().unwrap();
}

shared::per_backend!(a_file_imported_then_exported_reads_the_same);
