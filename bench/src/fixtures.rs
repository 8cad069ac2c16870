//! What the benchmarks create: one warranty plan and product, and serials with unique numbers.

use std::time::{Duration, SystemTime};

use anyhow::bail;
use regserial::serial::v1::serial_service_client::SerialServiceClient;
use regserial::serial::v1::{
    BatchCreateSerialsRequest, CreateProductRequest, CreateWarrantyPlanRequest, Product, Serial, WarrantyPlan,
};
use tonic::transport::Channel;

use crate::rpc;

pub const PRODUCT_SKU: &str = "BENCH-PRODUCT";
const WARRANTY_PLAN_ID: &str = "BENCH-PLAN";
const DAY: Duration = Duration::from_secs(24 * 3600);
/// Deadline of one catalog call or one batch of up to 10,000 serials.
pub const CALL_DEADLINE: Duration = Duration::from_secs(120);

/// Creates the warranty plan and the product that benchmark serials refer to.
pub async fn create_catalog(channel: Channel, token: &str) -> anyhow::Result<()> {
    let mut catalog = regserial::client::catalog_service(channel);
    let plan = WarrantyPlan {
        id: WARRANTY_PLAN_ID.to_owned(),
        name: "bench plan".to_owned(),
        duration_months: 24,
        ..Default::default()
    };
    let request = rpc::authorized(
        CreateWarrantyPlanRequest { warranty_plan: Some(plan), ..Default::default() },
        token,
    )?;
    rpc::call("CreateWarrantyPlan", CALL_DEADLINE, catalog.create_warranty_plan(request)).await?;
    let product = Product {
        sku: PRODUCT_SKU.to_owned(),
        name: "bench product".to_owned(),
        warranty_plan_id: WARRANTY_PLAN_ID.to_owned(),
        ..Default::default()
    };
    let request =
        rpc::authorized(CreateProductRequest { product: Some(product), ..Default::default() }, token)?;
    rpc::call("CreateProduct", CALL_DEADLINE, catalog.create_product(request)).await?;
    Ok(())
}

/// The catalog and `count` serials of a new prefix, 10,000 per call; returns the number of the
/// serial in the middle, the one the read benches look up.
pub async fn seed(channel: Channel, token: &str, count: u32) -> anyhow::Result<String> {
    eprintln!("seeding {count} serials");
    create_catalog(channel.clone(), token).await?;
    let prefix = run_prefix();
    let mut client = regserial::client::serial_service(channel);
    for request in batch_requests(&prefix, u64::from(count), 10_000) {
        create_batch(&mut client, token, request).await?;
    }
    Ok(serial_number(&prefix, u64::from(count) / 2))
}

/// A prefix that no earlier run used, so that serial numbers are unique across runs too.
pub fn run_prefix() -> String {
    format!("BENCH-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

/// The serial number at `index` of a run.
pub fn serial_number(prefix: &str, index: u64) -> String {
    format!("{prefix}-{index:08}")
}

/// `count` serials numbered from 0, registrable now, in requests of at most `batch_size`.
pub fn batch_requests(prefix: &str, count: u64, batch_size: u32) -> Vec<BatchCreateSerialsRequest> {
    let now = SystemTime::now();
    let size = u64::from(batch_size.max(1));
    (0..count.div_ceil(size))
        .map(|batch| {
            let first = batch * size;
            let serials = (first..count.min(first + size))
                .map(|index| serial(serial_number(prefix, index), now))
                .collect();
            BatchCreateSerialsRequest { serials, ..Default::default() }
        })
        .collect()
}

fn serial(serial_number: String, now: SystemTime) -> Serial {
    Serial {
        serial_number,
        product_sku: PRODUCT_SKU.to_owned(),
        valid_from: Some((now - DAY).into()),
        valid_until: Some((now + 730 * DAY).into()),
        register_until: Some((now + 365 * DAY).into()),
        customer_tags: vec!["bench".to_owned()],
        ..Default::default()
    }
}

/// Sends one batch and fails unless every serial of it was created.
pub async fn create_batch(
    client: &mut SerialServiceClient<Channel>,
    token: &str,
    request: BatchCreateSerialsRequest,
) -> anyhow::Result<()> {
    let sent = request.serials.len();
    let response = rpc::call(
        "BatchCreateSerials",
        CALL_DEADLINE,
        client.batch_create_serials(rpc::authorized(request, token)?),
    )
    .await?;
    if let Some(error) = response.errors.first() {
        bail!(
            "BatchCreateSerials refused {} of {sent} serials, the first {} at index {}: {} {}",
            response.errors.len(),
            error.serial_number,
            error.index,
            error.reason,
            error.message
        );
    }
    if response.serials.len() != sent {
        bail!(
            "BatchCreateSerials created {} of {sent} serials and reported no error",
            response.serials.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn serial_numbers_are_unique_and_within_the_allowed_length() {
        let prefix = run_prefix();
        let requests = batch_requests(&prefix, 150, 60);
        assert_eq!(requests.iter().map(|request| request.serials.len()).collect::<Vec<_>>(), [60, 60, 30]);
        let numbers: HashSet<_> = requests
            .iter()
            .flat_map(|request| &request.serials)
            .map(|s| s.serial_number.to_lowercase())
            .collect();
        assert_eq!(numbers.len(), 150);
        assert!(
            numbers.iter().all(|n| n.len() <= 64 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        );
    }
}
