//! Building serials and creating them in serial-svc, for the serial-svc end-to-end tests.

use prost_types::Timestamp;
use regserial::serial::v1::{BatchCreateSerialsRequest, Serial};

use super::grpc::Clients;

pub fn serial(number: &str) -> Serial {
    Serial { serial_number: number.into(), ..Default::default() }
}

pub fn ts(seconds: i64) -> Option<Timestamp> {
    Some(Timestamp { seconds, nanos: 0 })
}

pub async fn create(c: &mut Clients, numbers: &[&str]) {
    let serials = numbers.iter().map(|n| serial(n)).collect();
    let reply = c.serials.batch_create_serials(BatchCreateSerialsRequest {
        serials,
        atomic: true,
        ..Default::default()
    });
    assert_eq!(reply.await.unwrap().into_inner().serials.len(), numbers.len());
}
