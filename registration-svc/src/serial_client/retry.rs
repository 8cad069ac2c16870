//! The policy of every call to serial-svc: each try's deadline, and retries with backoff
//! (backon) of the transient failures only.
//!
//! Made on behalf of a call being served, each try is also bounded by what that call's own
//! deadline has left ([`shared::server::deadline::remaining`]), minus [`DEADLINE_MARGIN`] kept
//! to record the outcome and answer: serial-svc receives that as its `grpc-timeout`. When
//! less than [`MIN_TRY`] would be left, serial-svc is not called at all
//! ([`SerialCallError::OutOfTime`]). The recovery worker's calls, outside any served call,
//! have the policy's deadline.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use shared::status::client::{failed_in_transport, is_retryable, retry_delay};
use tonic::metadata::MetadataValue;
use tonic::{Code, Request, Status};

use super::{SerialCallError, SerialClient};

/// What a try to serial-svc leaves of the served call's deadline: time to record the outcome
/// (or leave the attempt to the recovery worker) and answer before the caller gives up.
pub const DEADLINE_MARGIN: Duration = Duration::from_millis(100);
/// The shortest try worth making: with less time left, serial-svc is not called.
pub const MIN_TRY: Duration = Duration::from_millis(50);

/// Deadlines and retries of every call to serial-svc.
#[derive(Debug, Clone, Copy)]
pub struct CallPolicy {
    /// Each try's deadline (sent to serial-svc as `grpc-timeout`, and enforced here).
    pub deadline: Duration,
    /// Tries per call, the first included.
    pub attempts: u32,
    /// Wait before the second try, doubled before each further one, with jitter (backon's
    /// exponential backoff); longer when serial-svc asked for it with RetryInfo. Both are
    /// capped at [`CallPolicy::max_backoff`].
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for CallPolicy {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(2),
            attempts: 3,
            backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(500),
        }
    }
}

impl SerialClient {
    /// One call with the policy's deadline and retries.
    pub(super) async fn call<C, M, R, F, Fut>(
        &self,
        bearer: &str,
        message: M,
        send: F,
        client: &C,
    ) -> Result<R, SerialCallError>
    where
        C: Clone,
        M: Clone,
        F: Fn(C, Request<M>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<R>, Status>>,
    {
        let authorization = MetadataValue::try_from(format!("Bearer {bearer}")).map_err(|_| {
            SerialCallError::Rejected(Status::unauthenticated("the token cannot be forwarded"))
        })?;
        let policy = self.policy;
        // The error of the try before, answered if no time is left for the next one.
        let last_error = std::sync::Mutex::new(None);
        let try_once = || async {
            let Some(deadline) = self.try_deadline() else {
                tracing::debug!("the caller's deadline leaves no time for a call to serial-svc");
                let last = last_error.lock().expect("never poisoned").take();
                return Err(last.unwrap_or(SerialCallError::OutOfTime));
            };
            let mut request = Request::new(message.clone());
            request.set_timeout(deadline);
            request.metadata_mut().insert("authorization", authorization.clone());
            let status = match tokio::time::timeout(deadline, send(client.clone(), request)).await {
                Ok(Ok(response)) => return Ok(response.into_inner()),
                Ok(Err(status)) => status,
                Err(_) => Status::deadline_exceeded("serial-svc did not answer within the deadline"),
            };
            Err(classify(&status, policy.backoff))
        };
        let backoff = ExponentialBuilder::new()
            .with_min_delay(policy.backoff)
            .with_max_delay(policy.max_backoff)
            .with_max_times(policy.attempts.saturating_sub(1) as usize)
            .with_jitter();
        try_once
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|error| matches!(error, SerialCallError::Unavailable { .. }))
            .adjust(|error, next| {
                // At least what serial-svc asked for (RetryInfo), capped; and no pause that
                // would leave the caller no time for the next try.
                let asked = match error {
                    SerialCallError::Unavailable { retry_after, .. } => {
                        (*retry_after).min(policy.max_backoff)
                    }
                    _ => Duration::ZERO,
                };
                let pause = next?.max(asked);
                let left_after = shared::server::deadline::remaining().map(|left| left.saturating_sub(pause));
                try_deadline(policy.deadline, left_after)?;
                *last_error.lock().expect("never poisoned") = Some(error.clone());
                Some(pause)
            })
            .await
    }

    /// The deadline of the next try: the policy's, shortened to the served call's remaining
    /// time minus [`DEADLINE_MARGIN`]; `None` when that leaves less than [`MIN_TRY`].
    fn try_deadline(&self) -> Option<Duration> {
        try_deadline(self.policy.deadline, shared::server::deadline::remaining())
    }
}

/// See [`SerialClient::try_deadline`]; `remaining` is `None` outside a served call.
fn try_deadline(policy: Duration, remaining: Option<Duration>) -> Option<Duration> {
    let Some(remaining) = remaining else { return Some(policy) };
    let budget = remaining.saturating_sub(DEADLINE_MARGIN);
    (budget >= MIN_TRY).then(|| budget.min(policy))
}

/// Sorts serial-svc's answer into the three kinds the saga treats differently.
fn classify(status: &Status, backoff: Duration) -> SerialCallError {
    // CANCELLED is tonic's own deadline (with the transport error as its source), or serial-svc
    // giving up the call: retried either way.
    if is_retryable(status) || status.code() == Code::Cancelled || failed_in_transport(status) {
        let retry_after = retry_delay(status).unwrap_or(backoff);
        return SerialCallError::Unavailable { message: status.message().to_owned(), retry_after };
    }
    match status.code() {
        Code::NotFound | Code::FailedPrecondition => SerialCallError::Refused {
            code: status.code(),
            reason: shared::status::client::error_reason(status)
                .unwrap_or_else(|| format!("{:?}", status.code())),
            message: status.message().to_owned(),
        },
        _ => SerialCallError::Rejected(status.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_try_gets_the_policy_deadline_shortened_to_what_the_caller_has_left() {
        let policy = Duration::from_secs(2);
        assert_eq!(try_deadline(policy, None), Some(policy), "the worker: no caller");
        assert_eq!(try_deadline(policy, Some(Duration::from_secs(30))), Some(policy));
        assert_eq!(
            try_deadline(policy, Some(Duration::from_millis(1500))),
            Some(Duration::from_millis(1400))
        );
        assert_eq!(try_deadline(policy, Some(DEADLINE_MARGIN + MIN_TRY)), Some(MIN_TRY));
        let too_short = DEADLINE_MARGIN + MIN_TRY - Duration::from_millis(1);
        assert_eq!(try_deadline(policy, Some(too_short)), None);
        assert_eq!(try_deadline(policy, Some(Duration::ZERO)), None);
    }

    #[tokio::test]
    async fn a_caller_without_time_left_gets_out_of_time_and_serial_svc_is_not_called() {
        // An endpoint nothing listens on: any call would fail as Unavailable, not OutOfTime.
        let client = SerialClient::connect_lazy("http://127.0.0.1:9", CallPolicy::default()).unwrap();
        let call = client.claim("token", "SN-1", "reg-1");
        let outcome = shared::server::deadline::with_timeout(Duration::from_millis(120), call).await;
        assert!(matches!(outcome, Err(SerialCallError::OutOfTime)), "{outcome:?}");
    }

    #[test]
    fn refusals_rejections_and_outages_are_told_apart() {
        let refused =
            shared::status::failed_precondition("serial.regserial", "SERIAL_REVOKED", "S1", "revoked", &[]);
        assert!(matches!(
            classify(&refused, Duration::ZERO),
            SerialCallError::Refused { code: Code::FailedPrecondition, reason, .. } if reason == "SERIAL_REVOKED"
        ));
        assert!(matches!(classify(&Status::not_found("x"), Duration::ZERO), SerialCallError::Refused { .. }));
        assert!(matches!(
            classify(&Status::unauthenticated("x"), Duration::ZERO),
            SerialCallError::Rejected(_)
        ));
        assert!(matches!(classify(&Status::internal("x"), Duration::ZERO), SerialCallError::Rejected(_)));
        let down = shared::status::unavailable(
            "serial.regserial",
            "DATABASE_UNAVAILABLE",
            "down",
            Duration::from_secs(3),
        );
        assert!(matches!(
            classify(&down, Duration::ZERO),
            SerialCallError::Unavailable { retry_after, .. } if retry_after == Duration::from_secs(3)
        ));
        let ours = Status::cancelled("Timeout expired");
        assert!(matches!(classify(&ours, Duration::ZERO), SerialCallError::Unavailable { .. }));
        let sent = Status::unknown("serial-svc said so");
        assert!(matches!(classify(&sent, Duration::ZERO), SerialCallError::Rejected(_)));
        let mut lost = Status::internal("h2 protocol error: http2 error");
        lost.set_source(std::sync::Arc::new(std::io::Error::other("connection closed under the call")));
        assert!(matches!(classify(&lost, Duration::ZERO), SerialCallError::Unavailable { .. }));
        let timeout = Status::deadline_exceeded("slow");
        assert!(matches!(
            classify(&timeout, Duration::from_millis(50)),
            SerialCallError::Unavailable { retry_after, .. } if retry_after == Duration::from_millis(50)
        ));
    }
}
