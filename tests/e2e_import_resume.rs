//! ImportSerials when things break: an upload cut off mid-file, serial-svc stopped mid-import,
//! two imports racing over the same serials. After each, the job says exactly which rows are
//! committed, and the same file uploaded again with the same import_id finishes it exactly; on
//! SQLite and on PostgreSQL.

mod support;

use std::sync::Arc;

use regserial::serial::v1::*;
use shared::auth::Scope;
use shared::clock::SystemClock;
use shared::testing::{FaultProxy, ProxyMode, TestDb};
use support::grpc::Clients;
use support::import::*;
use support::{ORG, SerialSvc};
use tonic::transport::Channel;

shared::per_backend!(
    a_broken_upload_sent_again_with_its_id_ends_exactly,
    an_import_cut_by_a_service_stop_is_resumed_exactly,
    two_imports_of_overlapping_serials_account_for_every_row,
);

const ROWS: usize = 35_000;

/// A file of [`ROWS`] rows: every 1,000th repeats the serial of the row 20,000 before it (when
/// there is one), so duplicates span batches and runs.
fn file() -> String {
    let mut file = String::from("serialNumber,customerTags\n");
    for i in 0..ROWS {
        let n = if i >= 20_000 && i % 1_000 == 0 { i - 20_000 } else { i };
        file.push_str(&format!("R-{n},\"t{}\"\n", i % 7));
    }
    file
}

/// The repeated rows of [`file`].
fn repeats() -> i64 {
    (20_000..ROWS).filter(|i| i % 1_000 == 0).count() as i64
}

/// Sends about `fraction` of `data` on a fresh upload of job `id`, waits until a batch of it is
/// committed, and hands back the upload still open.
async fn partial_upload(
    c: &mut Clients,
    id: &str,
    data: &[u8],
    fraction: f64,
) -> (
    tokio::sync::mpsc::Sender<ImportSerialsRequest>,
    tokio::task::JoinHandle<Result<ImportJob, tonic::Status>>,
) {
    let (tx, call) = open_upload(c, id);
    let cut = (data.len() as f64 * fraction) as usize;
    for message in messages("", &data[..cut], 16 * 1024).into_iter().skip(1) {
        tx.send(message).await.expect("the upload is open");
    }
    job_until(c, id, "a committed batch", |j| j.rows_read > 0).await;
    (tx, call)
}

/// The job stopped part-way: its counts agree with what is in the database, line for line.
async fn assert_exactly_committed(c: &mut Clients, job: &ImportJob) {
    assert!(job.rows_read > 0 && (job.rows_read as usize) < ROWS, "{job:?}");
    assert_eq!(job.committed_line, job.rows_read + 1, "one row per line after the header");
    assert_eq!(job.rows_created + job.rows_failed, job.rows_read);
    assert_eq!(all_numbers(c).await.len() as i64, job.rows_created, "the committed rows, no more");
}

async fn assert_finished_exactly(c: &mut Clients, job: &ImportJob) {
    assert_eq!(job.state(), ImportJobState::Succeeded, "{job:?}");
    assert_eq!((job.rows_read, job.rows_failed), (ROWS as i64, repeats()), "{job:?}");
    assert_eq!(job.rows_created, ROWS as i64 - repeats());
    assert!(job.errors.iter().all(|e| e.reason == "DUPLICATE_IN_FILE"), "{:?}", job.errors);
    let lines: Vec<i64> = job.errors.iter().map(|e| e.line).collect();
    let expected: Vec<i64> = (20_000..ROWS as i64).filter(|i| i % 1_000 == 0).map(|i| i + 2).collect();
    assert_eq!(lines, expected);
    let mut numbers = all_numbers(c).await;
    assert_eq!(numbers.len() as i64, job.rows_created);
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len() as i64, job.rows_created, "no serial twice");
}

async fn a_broken_upload_sent_again_with_its_id_ends_exactly(db: TestDb) {
    let svc = SerialSvc::start(db).await;
    let mut c = svc.clients(ORG).await;
    let data = file();
    // The upload goes through a proxy that then cuts its connection mid-file.
    let proxy = FaultProxy::start(svc.addr).await.unwrap();
    let channel = Channel::from_shared(proxy.endpoint()).unwrap().connect().await.unwrap();
    let mut through_proxy = Clients::new(channel, svc.token(ORG, &[Scope::SerialsWrite, Scope::SerialsRead]));
    let (tx, call) = partial_upload(&mut through_proxy, "broken-1", data.as_bytes(), 0.7).await;
    proxy.set(ProxyMode::Refuse);
    assert!(call.await.unwrap().is_err(), "the cut upload is not answered with success");
    drop(tx);
    let stopped =
        job_until(&mut c, "broken-1", "the job to stop", |j| j.state() != ImportJobState::Running).await;
    assert_eq!(stopped.state(), ImportJobState::Failed, "{stopped:?}");
    assert_exactly_committed(&mut c, &stopped).await;
    assert!(stopped.failure_reason.contains("import_id"), "{}", stopped.failure_reason);

    let job = import(&mut c, "broken-1", data.as_bytes(), 64 * 1024).await;
    assert_finished_exactly(&mut c, &job).await;
    assert_eq!(job.committed_line, ROWS as i64 + 1);
    svc.stop().await;
}

async fn an_import_cut_by_a_service_stop_is_resumed_exactly(db: TestDb) {
    let svc = SerialSvc::start_with(db, Arc::new(SystemClock), &["--shutdown-grace", "0s"]).await;
    let mut c = svc.clients(ORG).await;
    let data = file();
    let (tx, call) = partial_upload(&mut c, "stopped-1", data.as_bytes(), 0.5).await;
    let db = svc.stop_keeping_db().await;
    drop(tx);
    assert!(call.await.unwrap().is_err(), "the stopped service answered no success");

    let svc = SerialSvc::start(db).await;
    let mut c = svc.clients(ORG).await;
    // The runner either ended the job FAILED or lost the database with the service: RUNNING
    // until its heartbeat is stale. Either way the counts are exact, and an upload resumes it.
    let stopped = get_job(&mut c, "stopped-1").await.unwrap();
    assert_ne!(stopped.state(), ImportJobState::Succeeded, "{stopped:?}");
    assert_exactly_committed(&mut c, &stopped).await;
    let job = import(&mut c, "stopped-1", data.as_bytes(), 64 * 1024).await;
    assert_finished_exactly(&mut c, &job).await;
    svc.stop().await;
}

async fn two_imports_of_overlapping_serials_account_for_every_row(db: TestDb) {
    let svc = SerialSvc::start(db).await;
    let c = svc.clients(ORG).await;
    let first: String = (0..30_000).map(|i| format!("O-{i}\n")).collect();
    let second: String = (15_000..45_000).rev().map(|i| format!("o-{i}\n")).collect();
    let runs = [("overlap-a", first), ("overlap-b", second)].map(|(id, rows)| {
        let mut c = Clients { serials: c.serials.clone(), catalog: c.catalog.clone() };
        tokio::spawn(async move {
            import(&mut c, id, format!("serialNumber\n{rows}").as_bytes(), 32 * 1024).await
        })
    });
    let mut jobs = Vec::new();
    for run in runs {
        jobs.push(run.await.unwrap());
    }
    let mut c = c;
    for job in &jobs {
        assert_eq!(job.state(), ImportJobState::Succeeded, "{job:?}");
        assert_eq!((job.rows_read, job.rows_created + job.rows_failed), (30_000, 30_000), "{job:?}");
        assert!(
            job.errors.iter().all(|e| e.reason == "ALREADY_EXISTS"),
            "{:?}",
            &job.errors[..3.min(job.errors.len())]
        );
    }
    assert_eq!(jobs[0].rows_created + jobs[1].rows_created, 45_000, "each overlapping serial created once");
    assert_eq!(jobs[0].rows_failed + jobs[1].rows_failed, 15_000, "and refused once");
    let mut numbers: Vec<String> = all_numbers(&mut c).await.into_iter().map(|n| n.to_lowercase()).collect();
    assert_eq!(numbers.len(), 45_000);
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 45_000, "no serial twice");
    svc.stop().await;
}
