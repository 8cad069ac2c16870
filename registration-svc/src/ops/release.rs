//! Carrying out `release` intents, and putting off intents serial-svc could not serve.

use futures::{StreamExt, stream};

use super::{CLAIM_CONCURRENCY, Saga, SagaError};
use crate::domain::{Ctx, Intent, IntentError, IntentKind, IntentState, RegistrationId};
use crate::serial_client::SerialCallError;

impl Saga {
    /// Carries out the pending releases of registration (or failed attempt) `id` now with the caller's `bearer` token,
    /// best effort: what fails stays pending for the recovery worker.
    pub async fn release_pending(&self, ctx: &Ctx<'_>, bearer: &str, id: &RegistrationId) {
        let pending = match self.store.intents_of(ctx.org, id).await {
            Ok(intents) => intents,
            Err(err) => {
                tracing::warn!(registration = %id.as_str(), error = %err, "cannot read releases; the worker will retry");
                return;
            }
        };
        let releases: Vec<_> = pending
            .iter()
            .filter(|intent| intent.kind == IntentKind::Release && intent.state == IntentState::Pending)
            .map(|intent| async move { (intent.id, self.release(ctx, bearer, intent).await) })
            .collect();
        let mut done = stream::iter(releases).buffer_unordered(CLAIM_CONCURRENCY);
        while let Some((intent, result)) = done.next().await {
            if let Err(err) = result {
                tracing::warn!(intent, error = %err, "release not done; the worker will retry");
            }
        }
    }

    /// Carries out one `release` intent. A refusal (the serial is not, or no longer, claimed by
    /// this registration) leaves nothing to release: the intent is done either way.
    pub(crate) async fn release(
        &self,
        ctx: &Ctx<'_>,
        bearer: &str,
        intent: &Intent,
    ) -> Result<(), SagaError> {
        let claimant = intent.registration_id.as_str();
        let replaced_by = intent.replaced_by.as_ref().map(|s| s.as_str());
        match self.serials.release(bearer, intent.serial_number.as_str(), claimant, replaced_by).await {
            Ok(()) | Err(SerialCallError::Refused { .. }) => {
                match self.store.record_intent_done(ctx, intent.id).await {
                    Ok(_) => Ok(()),
                    Err(IntentError::Store(err)) => Err(err.into()),
                    Err(err) => Err(SagaError::Inconsistent(format!("release {}: {err}", intent.id))),
                }
            }
            Err(err) => Err(self.postpone(ctx, intent, err).await),
        }
    }

    /// Records that serial-svc could not serve `intent` now (so it is retried later, with
    /// back-off) and returns the error to answer.
    pub(crate) async fn postpone(&self, ctx: &Ctx<'_>, intent: &Intent, err: SerialCallError) -> SagaError {
        if let Err(store_err) = self.store.record_intent_failure(ctx, intent.id, &err.to_string()).await {
            tracing::warn!(intent = intent.id, error = %store_err, "cannot record a failed try");
        }
        SagaError::Serial(err)
    }
}
