//! Calls to serial-svc with the benchmark's token, under a deadline, with errors that name the
//! call and the gRPC code.

use std::future::Future;
use std::time::Duration;

use anyhow::{Context, anyhow};
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status};

/// `message` with `authorization: Bearer <token>`.
pub fn authorized<T>(message: T, token: &str) -> anyhow::Result<Request<T>> {
    let mut request = Request::new(message);
    let value = MetadataValue::try_from(format!("Bearer {token}"))
        .context("the token is not a valid header value")?;
    request.metadata_mut().insert("authorization", value);
    Ok(request)
}

/// Awaits `call` for at most `deadline`; any non-OK status is an error.
pub async fn call<T>(
    what: &str,
    deadline: Duration,
    call: impl Future<Output = Result<Response<T>, Status>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(deadline, call).await {
        Err(_) => Err(anyhow!("{what}: no answer within {deadline:?}")),
        Ok(Err(status)) => Err(anyhow!("{what} failed: {:?} {}", status.code(), status.message())),
        Ok(Ok(response)) => Ok(response.into_inner()),
    }
}
