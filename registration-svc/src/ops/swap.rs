//! `SwapSerial`: claim the new serial, then move the line item and release the old one.

use super::{Saga, SagaError};
use crate::domain::{
    AbortSwapError, AttemptFailure, CompleteSwapError, Ctx, Registration, RegistrationId, RequestKey,
    SerialFacts, SerialNumber, SwapAttempt, SwapError, SwapOutcome,
};
use crate::serial_client::SerialCallError;

use super::create::refusal;

impl Saga {
    /// Replaces `old` (held by a registration of the org) with `new`: `new` is claimed first;
    /// if serial-svc refuses it nothing changes ([`SagaError::Refused`]).
    pub async fn swap(
        &self,
        ctx: &Ctx<'_>,
        bearer: &str,
        key: Option<&RequestKey>,
        old: &SerialNumber,
        new: &SerialNumber,
    ) -> Result<Registration, SagaError> {
        let swap = self.store.begin_swap(ctx, key, old, new).await.map_err(|err| match err {
            SwapError::RequestIdReused => SagaError::RequestIdReused,
            SwapError::Store(err) => SagaError::Store(err),
            other => SagaError::Swap(other),
        })?;
        self.drive_swap(ctx, bearer, swap.into_inner()).await
    }

    /// Takes `swap` as far as it goes: claims the new serial, then completes the swap (and
    /// releases the old serial) or aborts it; a swap that already ended is answered as it ended.
    pub(crate) async fn drive_swap(
        &self,
        ctx: &Ctx<'_>,
        bearer: &str,
        swap: SwapAttempt,
    ) -> Result<Registration, SagaError> {
        let outcome = swap.outcome();
        let claim = swap.claim;
        let id = claim.registration_id.clone();
        match outcome {
            SwapOutcome::Completed => {
                self.release_pending(ctx, bearer, &id).await;
                return self.registration(ctx, &id).await;
            }
            SwapOutcome::Aborted(failure) => return Err(SagaError::Refused(failure)),
            SwapOutcome::InFlight => {}
        }
        let claimed = match self.serials.claim(bearer, claim.serial_number.as_str(), id.as_str()).await {
            Ok(claimed) => claimed,
            Err(err @ SerialCallError::Refused { .. }) => {
                return self.abort(ctx, bearer, claim.id, refusal(&claim.serial_number, &err), false).await;
            }
            Err(err) => return Err(self.postpone(ctx, &claim, err).await),
        };
        let plan = match claimed.warranty_plan_id {
            None => None,
            Some(plan_id) => match self.serials.warranty_plan(bearer, ctx.org, &plan_id).await {
                Ok(plan) => plan,
                Err(err) => return Err(self.postpone(ctx, &claim, err).await),
            },
        };
        let facts = SerialFacts { product_sku: claimed.product_sku, customer_tags: claimed.customer_tags };
        match self.store.complete_swap(ctx, claim.id, plan.as_ref(), &facts).await {
            Ok(registration) => {
                self.release_pending(ctx, bearer, &id).await;
                Ok(registration)
            }
            Err(CompleteSwapError::NoLongerHeld) => {
                let old = claim.replaces.as_ref().map_or("", |s| s.as_str());
                let message = format!("the registration stopped holding {old} during the swap");
                let failure = AttemptFailure::new("INVALID_STATE_TRANSITION", Some(old), message);
                self.abort(ctx, bearer, claim.id, failure, true).await
            }
            Err(CompleteSwapError::NewSerialHeld) => {
                let new = claim.serial_number.as_str();
                let message = format!("serial {new} is held by another registration");
                let failure = AttemptFailure::new("SERIAL_ALREADY_REGISTERED", Some(new), message);
                self.abort(ctx, bearer, claim.id, failure, true).await
            }
            Err(CompleteSwapError::ProductMismatch { sku, product_sku }) => {
                let failure =
                    AttemptFailure::product_mismatch(claim.serial_number.as_str(), &sku, &product_sku);
                self.abort(ctx, bearer, claim.id, failure, true).await
            }
            Err(CompleteSwapError::Aborted) => match self.store.get_swap(ctx.org, claim.id).await? {
                Some(swap) => match swap.outcome() {
                    SwapOutcome::Aborted(failure) => Err(SagaError::Refused(failure)),
                    _ => Err(SagaError::Inconsistent(format!("swap {} neither aborted nor done", claim.id))),
                },
                None => Err(SagaError::Inconsistent(format!("swap {} vanished", claim.id))),
            },
            Err(CompleteSwapError::NotFound) => {
                Err(SagaError::Inconsistent(format!("swap {} vanished", claim.id)))
            }
            Err(CompleteSwapError::Store(err)) => Err(err.into()),
        }
    }

    /// Gives swap `claim_id` up with `failure` (releasing the new serial if `may_be_claimed`)
    /// and answers the refusal, or the registration if another driver completed it first.
    async fn abort(
        &self,
        ctx: &Ctx<'_>,
        bearer: &str,
        claim_id: i64,
        failure: AttemptFailure,
        may_be_claimed: bool,
    ) -> Result<Registration, SagaError> {
        match self.store.abort_swap(ctx, claim_id, &failure, may_be_claimed).await {
            Ok(swap) => {
                self.release_pending(ctx, bearer, &swap.claim.registration_id).await;
                match swap.outcome() {
                    SwapOutcome::Aborted(recorded) => Err(SagaError::Refused(recorded)),
                    _ => Err(SagaError::Refused(failure)),
                }
            }
            Err(AbortSwapError::Completed) => {
                let swap = self.store.get_swap(ctx.org, claim_id).await?;
                let swap =
                    swap.ok_or_else(|| SagaError::Inconsistent(format!("swap {claim_id} vanished")))?;
                self.registration(ctx, &swap.claim.registration_id).await
            }
            Err(AbortSwapError::NotFound) => {
                Err(SagaError::Inconsistent(format!("swap {claim_id} vanished")))
            }
            Err(AbortSwapError::Store(err)) => Err(err.into()),
        }
    }

    async fn registration(&self, ctx: &Ctx<'_>, id: &RegistrationId) -> Result<Registration, SagaError> {
        let registration = self.store.get_registration(ctx.org, id).await?;
        registration.ok_or_else(|| SagaError::Inconsistent(format!("registration {id} of a swap vanished")))
    }
}
