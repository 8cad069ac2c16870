//! Uploading CSV files through `ImportSerials` and following the job, for the import tests.

use std::time::Duration;

use regserial::serial::v1::{
    CreateProductRequest, CreateWarrantyPlanRequest, GetImportJobRequest, ImportJob, ImportJobState,
    ImportSerialsRequest, ListSerialsRequest, Product, WarrantyPlan, WatchImportJobRequest,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::grpc::Clients;

pub const IMPORT_SKU: &str = "KETTLE";
pub const IMPORT_PLAN: &str = "plan-1y";

/// Creates the plan [`IMPORT_PLAN`] and the product [`IMPORT_SKU`].
pub async fn import_catalog(c: &mut Clients) {
    let plan = WarrantyPlan {
        id: IMPORT_PLAN.into(),
        name: "One year".into(),
        duration_months: 12,
        ..Default::default()
    };
    let plan = CreateWarrantyPlanRequest { warranty_plan: Some(plan), ..Default::default() };
    c.catalog.create_warranty_plan(plan).await.expect("create the plan");
    let product = Product {
        sku: IMPORT_SKU.into(),
        name: "Kettle".into(),
        warranty_plan_id: IMPORT_PLAN.into(),
        ..Default::default()
    };
    let product = CreateProductRequest { product: Some(product), ..Default::default() };
    c.catalog.create_product(product).await.expect("create the product");
}

/// The messages of an upload of `data` in chunks of `chunk` bytes (the id in the first).
pub fn messages(id: &str, data: &[u8], chunk: usize) -> Vec<ImportSerialsRequest> {
    let mut messages = vec![ImportSerialsRequest { import_id: id.into(), csv_chunk: Vec::new() }];
    messages.extend(
        data.chunks(chunk.max(1))
            .map(|c| ImportSerialsRequest { import_id: String::new(), csv_chunk: c.to_vec() }),
    );
    messages
}

/// Uploads `data` whole, in chunks of `chunk` bytes: the answer of `ImportSerials`.
pub async fn upload(c: &mut Clients, id: &str, data: &[u8], chunk: usize) -> Result<ImportJob, Status> {
    let stream = tokio_stream::iter(messages(id, data, chunk));
    c.serials.import_serials(stream).await.map(|r| r.into_inner())
}

/// Uploads `data` whole and follows the job until it stops: the job as it ended.
pub async fn import(c: &mut Clients, id: &str, data: &[u8], chunk: usize) -> ImportJob {
    upload(c, id, data, chunk).await.expect("the upload is accepted");
    finished(c, id).await
}

/// Follows job `id` with WatchImportJob until it stops (bounded: 60 s).
pub async fn finished(c: &mut Clients, id: &str) -> ImportJob {
    let watch = async {
        let mut stream = c
            .serials
            .watch_import_job(WatchImportJobRequest { id: id.into() })
            .await
            .expect("watch")
            .into_inner();
        let mut last = None;
        while let Some(job) = stream.message().await.expect("watch message") {
            last = Some(job);
        }
        last.expect("at least one message")
    };
    let job = tokio::time::timeout(Duration::from_secs(60), watch).await.expect("the job stops within 60 s");
    assert_ne!(job.state(), ImportJobState::Running, "the watch ends only when the job stops: {job:?}");
    job
}

/// Starts an upload whose chunks the test sends itself: the sender, and the call.
pub fn open_upload(
    c: &Clients,
    id: &str,
) -> (mpsc::Sender<ImportSerialsRequest>, tokio::task::JoinHandle<Result<ImportJob, Status>>) {
    let (tx, rx) = mpsc::channel(4);
    let mut serials = c.serials.clone();
    let first = ImportSerialsRequest { import_id: id.into(), csv_chunk: Vec::new() };
    tx.try_send(first).expect("room for the first message");
    let call =
        tokio::spawn(
            async move { serials.import_serials(ReceiverStream::new(rx)).await.map(|r| r.into_inner()) },
        );
    (tx, call)
}

pub async fn get_job(c: &mut Clients, id: &str) -> Result<ImportJob, Status> {
    c.serials.get_import_job(GetImportJobRequest { id: id.into() }).await.map(|r| r.into_inner())
}

/// Polls job `id` until `done` holds (bounded: 60 s).
pub async fn job_until(
    c: &mut Clients,
    id: &str,
    what: &str,
    done: impl Fn(&ImportJob) -> bool,
) -> ImportJob {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(job) = get_job(c, id).await
            && done(&job)
        {
            return job;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every serial number of the org, in creation order.
pub async fn all_numbers(c: &mut Clients) -> Vec<String> {
    let mut numbers = Vec::new();
    let mut page_token = String::new();
    loop {
        let request =
            ListSerialsRequest { page_size: 1000, page_token: page_token.clone(), ..Default::default() };
        let page = c.serials.list_serials(request).await.expect("list serials").into_inner();
        numbers.extend(page.serials.into_iter().map(|s| s.serial_number));
        if page.next_page_token.is_empty() {
            return numbers;
        }
        page_token = page.next_page_token;
    }
}

/// `n` valid rows `SN-<from>` … with the full header's columns.
pub fn valid_rows(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("SN-{i:07},{IMPORT_SKU},,2026-01-01,2030-01-01T00:00:00Z,,\"a,b\"\n"))
        .collect()
}

pub const FULL_HEADER: &str =
    "serialNumber,productId,warrantyId,validFrom,validUntil,registerUntil,customerTags\n";
