//! Authenticated clients and readers of google.rpc error details.

use regserial::serial::v1::{
    catalog_service_client::CatalogServiceClient, serial_service_client::SerialServiceClient,
};
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use super::{Catalog, Serials};

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct Bearer(pub Option<MetadataValue<tonic::metadata::Ascii>>);

impl Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(value) = &self.0 {
            req.metadata_mut().insert("authorization", value.clone());
        }
        Ok(req)
    }
}

pub struct Clients {
    pub serials: Serials,
    pub catalog: Catalog,
}

impl Clients {
    pub fn new(channel: Channel, token: String) -> Clients {
        Self::with_header(channel, Some(format!("Bearer {token}")))
    }

    /// Clients sending `header` verbatim as `authorization` (None: no header at all).
    pub fn with_header(channel: Channel, header: Option<String>) -> Clients {
        let bearer = Bearer(header.map(|h| h.parse().expect("ascii header")));
        let limit = regserial::client::MAX_MESSAGE_SIZE;
        Clients {
            serials: SerialServiceClient::with_interceptor(channel.clone(), bearer.clone())
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
            catalog: CatalogServiceClient::with_interceptor(channel, bearer),
        }
    }
}

/// What a test checks of an error: code, ErrorInfo reason and domain, BadRequest fields.
#[derive(Debug)]
pub struct Failure {
    pub code: Code,
    pub reason: String,
    pub domain: String,
    pub metadata: std::collections::HashMap<String, String>,
    pub fields: Vec<String>,
    pub has_resource_info: bool,
    pub has_precondition_failure: bool,
}

pub fn failure(status: &Status) -> Failure {
    let details = status.get_error_details();
    let info = details.error_info();
    Failure {
        code: status.code(),
        reason: info.map(|i| i.reason.clone()).unwrap_or_default(),
        domain: info.map(|i| i.domain.clone()).unwrap_or_default(),
        metadata: info.map(|i| i.metadata.clone()).unwrap_or_default(),
        fields: details
            .bad_request()
            .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
            .unwrap_or_default(),
        has_resource_info: details.resource_info().is_some(),
        has_precondition_failure: details.precondition_failure().is_some(),
    }
}

/// Unwraps an expected failure.
pub fn expect_err<T: std::fmt::Debug>(result: Result<tonic::Response<T>, Status>) -> Failure {
    match result {
        Ok(reply) => panic!("expected an error, got {:?}", reply.into_inner()),
        Err(status) => failure(&status),
    }
}
