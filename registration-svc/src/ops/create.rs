//! `CreateRegistration`: write the attempt, claim every serial, then write the registration
//! (or fail the attempt).

use futures::{StreamExt, stream};

use super::rollback::rollback_under_way;
use super::{CLAIM_CONCURRENCY, Saga, SagaError};
use crate::domain::{
    Attempt, AttemptFailure, AttemptState, BeginError, CompleteError, Ctx, FailError, NewRegistration,
    Registration, RegistrationId, RequestKey, SerialNumber, SerialPlans, Started, sku_fits,
};
use crate::serial_client::{ClaimedSerial, SerialCallError};

impl Saga {
    /// Creates `new` (or answers the attempt `key` began): every serial claimed from serial-svc
    /// with the caller's `bearer` token, then the registration written PENDING; or a refusal
    /// with whatever was claimed released. An attempt serial-svc could not finish stays open
    /// (UNAVAILABLE) until the recovery worker rolls it back. Line items without a serial claim
    /// nothing; a registration without any is written at once.
    pub async fn create(
        &self,
        ctx: &Ctx<'_>,
        bearer: &str,
        key: Option<&RequestKey>,
        new: &NewRegistration,
    ) -> Result<Registration, SagaError> {
        // A registration that claims no serial needs no saga: one transaction creates it.
        if !new.claims_serials() {
            let created = self.store.register_without_serials(ctx, key, new).await;
            return created.map(Started::into_inner).map_err(begin_error);
        }
        let attempt = match self.store.begin_attempt(ctx, key, new).await.map_err(begin_error)? {
            Started::Fresh(attempt) => attempt,
            // A retry of an attempt that was rolled back starts it again.
            Started::Replay(attempt) if attempt.is_rolled_back() => {
                self.restart(ctx, bearer, &attempt.id).await?
            }
            Started::Replay(attempt) => attempt,
        };
        match attempt.state {
            AttemptState::Open => self.drive(ctx, bearer, &attempt.id, new).await,
            AttemptState::Completed => self.created(ctx, &attempt.id).await,
            AttemptState::Failed if attempt.is_rolled_back() => Err(rollback_under_way()),
            AttemptState::Failed => {
                self.release_pending(ctx, bearer, &attempt.id).await;
                Err(SagaError::Refused(failure_of(&attempt)))
            }
        }
    }

    /// Claims every serial of open attempt `id` of `new`, then writes the registration, or
    /// fails the attempt on a refusal. An attempt serial-svc cannot serve now is left open.
    async fn drive(
        &self,
        ctx: &Ctx<'_>,
        bearer: &str,
        id: &RegistrationId,
        new: &NewRegistration,
    ) -> Result<Registration, SagaError> {
        let serials: Vec<&SerialNumber> = new.serial_numbers().collect();
        // The futures are built up front: a closure inside the stream would make the handler's
        // future not `Send` (a higher-ranked lifetime rustc cannot prove general enough).
        let calls: Vec<_> =
            serials.iter().map(|serial| self.serials.claim(bearer, serial.as_str(), id.as_str())).collect();
        let answers: Vec<Result<ClaimedSerial, SerialCallError>> =
            stream::iter(calls).buffered(CLAIM_CONCURRENCY).collect().await;

        let refused: Vec<(&SerialNumber, &SerialCallError)> = serials
            .iter()
            .zip(&answers)
            .filter_map(|(serial, answer)| match answer {
                Err(err @ SerialCallError::Refused { .. }) => Some((*serial, err)),
                _ => None,
            })
            .collect();
        if let Some((serial, err)) = refused.first() {
            let failure = refusal(serial, err);
            let not_claimed: Vec<SerialNumber> = refused.iter().map(|(s, _)| (*s).clone()).collect();
            return self.fail(ctx, bearer, id, failure, &owned(&serials), &not_claimed).await;
        }
        if let Some(Err(err)) = answers.iter().find(|a| a.is_err()) {
            return Err(SagaError::Serial(err.clone()));
        }

        // Every serial is claimed: each must fit its line item's SKU (else all are released),
        // and brings its customer tags to its line item.
        let mut registration = new.requested(id, ctx.org, ctx.now);
        let claimed = serials.iter().zip(&answers).filter_map(|(s, a)| Some((*s, a.as_ref().ok()?)));
        for (serial, claim) in claimed.clone() {
            let item = registration.line_items.iter_mut().find(|item| {
                item.serial_number.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(serial.as_str()))
            });
            let Some(item) = item else { continue };
            let (sku, product) = (item.sku.as_deref(), claim.product_sku.as_deref());
            if !sku_fits(sku, product) {
                let (sku, product) = (sku.unwrap_or_default(), product.unwrap_or_default());
                let failure = AttemptFailure::product_mismatch(serial.as_str(), sku, product);
                return self.fail(ctx, bearer, id, failure, &owned(&serials), &[]).await;
            }
            item.customer_tags = claim.customer_tags.clone();
        }

        let mut plans = SerialPlans::new();
        for (serial, claim) in claimed {
            let Some(plan_id) = &claim.warranty_plan_id else { continue };
            match self.serials.warranty_plan(bearer, ctx.org, plan_id).await {
                Ok(Some(plan)) => plans.insert(serial, plan),
                Ok(None) => {}
                Err(err) => return Err(SagaError::Serial(err)),
            }
        }
        match self.store.complete_registration(ctx, &registration, &plans).await {
            Ok(registration) => Ok(registration),
            Err(CompleteError::Failed) => Err(self.failed_under_us(ctx, bearer, id, &owned(&serials)).await),
            Err(CompleteError::SerialHeld { serial_number }) => {
                // serial-svc says we hold it, our books say another registration does: keep
                // the older record and give this attempt up, releasing its claims.
                let message = format!("serial {serial_number} is held by another registration");
                let failure = AttemptFailure::new("SERIAL_ALREADY_REGISTERED", Some(&serial_number), message);
                self.fail(ctx, bearer, id, failure, &owned(&serials), &[]).await
            }
            // Rolled back and restarted under a new id by a retry meanwhile.
            Err(CompleteError::NotFound) => {
                Err(self.failed_under_us(ctx, bearer, id, &owned(&serials)).await)
            }
            Err(CompleteError::Store(err)) => Err(err.into()),
        }
    }

    /// Fails attempt `id`, whose `serials` this driver claimed, with `failure`, releases what
    /// may have been claimed, and answers the refusal (or the registration, if another driver
    /// completed it first).
    async fn fail(
        &self,
        ctx: &Ctx<'_>,
        bearer: &str,
        id: &RegistrationId,
        failure: AttemptFailure,
        serials: &[SerialNumber],
        not_claimed: &[SerialNumber],
    ) -> Result<Registration, SagaError> {
        match self.store.fail_attempt(ctx, id, &failure, not_claimed).await {
            // Rolled back before this driver's refusal: its claims may postdate the releases.
            Ok(attempt) if attempt.is_rolled_back() => {
                Err(self.failed_under_us(ctx, bearer, id, serials).await)
            }
            Ok(attempt) => {
                self.release_pending(ctx, bearer, id).await;
                Err(SagaError::Refused(failure_of(&attempt)))
            }
            Err(FailError::Completed) => self.created(ctx, id).await,
            // Restarted under a new id after a rollback: this driver's claims may postdate the
            // rollback's releases.
            Err(FailError::NotFound) => Err(self.failed_under_us(ctx, bearer, id, serials).await),
            Err(FailError::Store(err)) => Err(err.into()),
        }
    }

    /// The registration completed attempt `id` wrote, as it is now.
    async fn created(&self, ctx: &Ctx<'_>, id: &RegistrationId) -> Result<Registration, SagaError> {
        let registration = self.store.get_registration(ctx.org, id).await?;
        registration.ok_or_else(|| SagaError::Inconsistent(format!("completed attempt {id} vanished")))
    }
}

fn owned(serials: &[&SerialNumber]) -> Vec<SerialNumber> {
    serials.iter().map(|s| (*s).clone()).collect()
}

fn begin_error(err: BeginError) -> SagaError {
    match err {
        BeginError::RequestIdReused => SagaError::RequestIdReused,
        BeginError::Store(err) => SagaError::Store(err),
    }
}

/// What serial-svc's refusal of `serial` becomes, kept with the attempt for replays.
pub(crate) fn refusal(serial: &SerialNumber, err: &SerialCallError) -> AttemptFailure {
    let (code, message) = match err {
        SerialCallError::Refused { reason, message, .. } => (reason.clone(), message.clone()),
        other => ("SERIAL_UNAVAILABLE".to_owned(), other.to_string()),
    };
    AttemptFailure::new(&code, Some(serial.as_str()), message)
}

fn failure_of(attempt: &Attempt) -> AttemptFailure {
    attempt.failure.clone().unwrap_or_else(|| {
        AttemptFailure::new("REGISTRATION_FAILED", None, "the registration attempt failed".into())
    })
}
