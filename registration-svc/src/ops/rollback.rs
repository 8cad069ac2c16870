//! UNAVAILABLE means nothing happened: an attempt left open (its caller answered UNAVAILABLE,
//! or cut short by a crash) is only ever rolled back, its claims released and the attempt
//! closed, by the recovery worker once its lease has passed. It is completed only while its
//! caller waits, or when the caller retries with the same `request_id`: that retry drives it
//! again while it is still open, and restarts it once it was rolled back (UNAVAILABLE while the
//! rollback's releases are still under way). A caller whose attempt was rolled back under it
//! writes its releases again, since a claim of its own may have reached serial-svc after them.

use std::time::Duration;

use super::{Saga, SagaError};
use crate::domain::{Attempt, AttemptFailure, Ctx, FailError, RegistrationId, RestartError, SerialNumber};
use crate::serial_client::SerialCallError;

/// How soon a retry may find the rollback of its attempt done.
const ROLLBACK_RETRY: Duration = Duration::from_secs(1);

impl Saga {
    /// Rolls back `attempt`, left open past its lease: FAILED as rolled back, a `release` of
    /// every serial (any may have been claimed), carried out now with `bearer` as far as
    /// serial-svc answers (the rest by the worker's later passes). An attempt its caller
    /// completed meanwhile is left as it is.
    pub(crate) async fn roll_back(
        &self,
        ctx: &Ctx<'_>,
        bearer: &str,
        attempt: &Attempt,
    ) -> Result<(), SagaError> {
        let id = &attempt.id;
        match self.store.fail_attempt(ctx, id, &AttemptFailure::rolled_back(), &[]).await {
            Ok(_) => {
                self.release_pending(ctx, bearer, id).await;
                Ok(())
            }
            Err(FailError::Completed) => Ok(()),
            Err(FailError::NotFound) => Err(SagaError::Inconsistent(format!("attempt {id} vanished"))),
            Err(FailError::Store(err)) => Err(err.into()),
        }
    }

    /// A retry of rolled-back attempt `id` with its `request_id`: the rollback's releases still
    /// pending are tried now with the caller's `bearer`; once none is left, the attempt starts
    /// again under a new id (open, to be driven). The attempt as another retry left it, if one restarted it
    /// first (or it ended since).
    pub(crate) async fn restart(
        &self,
        ctx: &Ctx<'_>,
        bearer: &str,
        id: &RegistrationId,
    ) -> Result<Attempt, SagaError> {
        self.release_pending(ctx, bearer, id).await;
        match self.store.restart_attempt(ctx, id).await {
            Ok(attempt) => Ok(attempt),
            Err(RestartError::RollbackUnderWay) => Err(rollback_under_way()),
            Err(RestartError::NotRolledBack { .. }) => {
                let attempt = self.store.get_attempt(ctx.org, id).await?;
                attempt.ok_or_else(|| SagaError::Inconsistent(format!("attempt {id} vanished")))
            }
            // Another retry restarted it first, under a new id: a retry finds it there.
            Err(RestartError::NotFound) => Err(rollback_under_way()),
            Err(RestartError::Store(err)) => Err(err.into()),
        }
    }

    /// Attempt `id` was failed (refused by another driver, or rolled back) while this driver
    /// claimed its `serials`: their releases are written again and carried out, and the answer
    /// is the refusal, or UNAVAILABLE for a rollback (a retry with the `request_id` restarts
    /// it).
    pub(crate) async fn failed_under_us(
        &self,
        ctx: &Ctx<'_>,
        bearer: &str,
        id: &RegistrationId,
        serials: &[SerialNumber],
    ) -> SagaError {
        let released = self.store.release_again(ctx, id, serials).await;
        self.release_pending(ctx, bearer, id).await;
        match released {
            Ok(Some(attempt)) => match attempt.failure {
                Some(failure) if !failure.is_rolled_back() => SagaError::Refused(failure),
                _ => rollback_under_way(),
            },
            // A retry restarted it meanwhile, under a new id: that retry drives it now.
            Ok(None) => rollback_under_way(),
            Err(err) => err.into(),
        }
    }
}

/// The answer while an attempt is (being) rolled back: nothing happened, retry.
pub(super) fn rollback_under_way() -> SagaError {
    let message = "the attempt was rolled back after serial-svc could not be reached".to_owned();
    SagaError::Serial(SerialCallError::Unavailable { message, retry_after: ROLLBACK_RETRY })
}
