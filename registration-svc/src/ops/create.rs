//! `CreateRegistration`: begin the attempt, claim every serial, then complete or fail it.

use futures::{StreamExt, stream};

use super::{CLAIM_CONCURRENCY, Saga, SagaError};
use crate::domain::{
    Attempt, AttemptFailure, BeginError, CompleteError, Ctx, FailError, Intent, NewRegistration,
    Registration, RegistrationId, RegistrationStatus, RequestKey, SerialNumber, SerialPlans, sku_fits,
};
use crate::serial_client::{ClaimedSerial, SerialCallError};

impl Saga {
    /// Creates `new` (or replays the attempt `key` began): every serial claimed from serial-svc
    /// with the caller's `bearer` token, then PENDING; or a refusal with whatever was claimed
    /// released. An attempt serial-svc could not finish stays recorded (UNAVAILABLE). Line items
    /// without a serial claim nothing; a registration without any is PENDING at once.
    pub async fn create(
        &self,
        ctx: &Ctx<'_>,
        bearer: &str,
        key: Option<&RequestKey>,
        new: &NewRegistration,
    ) -> Result<Registration, SagaError> {
        // A registration that claims no serial needs no saga: one transaction creates it.
        let begun = if new.claims_serials() {
            self.store.begin_registration(ctx, key, new).await
        } else {
            self.store.register_without_serials(ctx, key, new).await
        };
        let attempt = begun.map_err(|err| match err {
            BeginError::RequestIdReused => SagaError::RequestIdReused,
            BeginError::Store(err) => SagaError::Store(err),
        })?;
        // A retry finding its attempt still open drives it again: kept from the worker's
        // rollback for as long as it may take.
        if attempt.is_replay() && attempt.get().registration.status == RegistrationStatus::Claiming {
            self.store.lease_attempt(ctx, &attempt.get().registration.id).await?;
        }
        self.drive_attempt(ctx, bearer, attempt.into_inner()).await
    }

    /// Takes `attempt` (the caller's own, or the one its `request_id` began) as far as it goes:
    /// an attempt still CLAIMING has its serials claimed and is completed or failed; one that
    /// was rolled back starts again (see [`Saga::restart`]); one that already ended is answered
    /// as it ended.
    async fn drive_attempt(
        &self,
        ctx: &Ctx<'_>,
        bearer: &str,
        attempt: Attempt,
    ) -> Result<Registration, SagaError> {
        let id = attempt.registration.id.clone();
        let attempt = if attempt.is_rolled_back() { self.restart(ctx, bearer, &id).await? } else { attempt };
        match attempt.registration.status {
            RegistrationStatus::Claiming => {}
            RegistrationStatus::Failed => {
                self.release_pending(ctx, bearer, &id).await;
                return Err(SagaError::Refused(failure_of(&attempt)));
            }
            _ => return Ok(attempt.registration),
        }
        let claims: Vec<&Intent> = attempt.pending_claims().collect();
        // The futures are built up front: a closure inside the stream would make the handler's
        // future not `Send` (a higher-ranked lifetime rustc cannot prove general enough).
        let calls: Vec<_> = claims
            .iter()
            .map(|intent| self.serials.claim(bearer, intent.serial_number.as_str(), id.as_str()))
            .collect();
        let answers: Vec<Result<ClaimedSerial, SerialCallError>> =
            stream::iter(calls).buffered(CLAIM_CONCURRENCY).collect().await;

        let refused: Vec<(&Intent, &SerialCallError)> = claims
            .iter()
            .zip(&answers)
            .filter_map(|(intent, answer)| match answer {
                Err(err @ SerialCallError::Refused { .. }) => Some((*intent, err)),
                _ => None,
            })
            .collect();
        if let Some((intent, err)) = refused.first() {
            let failure = refusal(&intent.serial_number, err);
            let not_claimed: Vec<SerialNumber> =
                refused.iter().map(|(i, _)| i.serial_number.clone()).collect();
            return self.fail(ctx, bearer, &id, failure, &not_claimed).await;
        }
        if let Some((intent, Err(err))) = claims.iter().zip(&answers).find(|(_, a)| a.is_err()) {
            return Err(self.postpone(ctx, intent, err.clone()).await);
        }

        // Every serial is claimed: each must fit its line item's SKU (else all are released),
        // and brings its customer tags to its line item.
        let mut registration = attempt.registration.clone();
        for (intent, answer) in claims.iter().zip(&answers) {
            let (Ok(serial), serial_number) = (answer, intent.serial_number.as_str()) else { continue };
            let item = registration.line_items.iter_mut().find(|item| {
                item.serial_number.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(serial_number))
            });
            let Some(item) = item else { continue };
            let (sku, product) = (item.sku.as_deref(), serial.product_sku.as_deref());
            if !sku_fits(sku, product) {
                let (sku, product) = (sku.unwrap_or_default(), product.unwrap_or_default());
                let failure = AttemptFailure::product_mismatch(serial_number, sku, product);
                return self.fail(ctx, bearer, &id, failure, &[]).await;
            }
            item.customer_tags = serial.customer_tags.clone();
        }

        let mut plans = SerialPlans::new();
        for (intent, answer) in claims.iter().zip(answers) {
            let Some(plan_id) = answer.ok().and_then(|claimed| claimed.warranty_plan_id) else { continue };
            match self.serials.warranty_plan(bearer, ctx.org, &plan_id).await {
                Ok(Some(plan)) => plans.insert(&intent.serial_number, plan),
                Ok(None) => {}
                Err(err) => return Err(self.postpone(ctx, intent, err).await),
            }
        }
        match self.store.complete_registration(ctx, &registration, &plans).await {
            Ok(registration) => Ok(registration),
            Err(CompleteError::Failed) => Err(self.failed_under_us(ctx, bearer, &id).await),
            Err(CompleteError::SerialHeld { serial_number }) => {
                // serial-svc says we hold it, our books say another registration does: keep
                // the older record and give this attempt up, releasing its claims.
                let message = format!("serial {serial_number} is held by another registration");
                let failure = AttemptFailure::new("SERIAL_ALREADY_REGISTERED", Some(&serial_number), message);
                self.fail(ctx, bearer, &id, failure, &[]).await
            }
            Err(CompleteError::NotFound) => Err(SagaError::Inconsistent(format!("attempt {id} vanished"))),
            Err(CompleteError::Store(err)) => Err(err.into()),
        }
    }

    /// Fails attempt `id` with `failure`, releases what may have been claimed, and answers the
    /// refusal (or the registration, if another driver completed it first).
    async fn fail(
        &self,
        ctx: &Ctx<'_>,
        bearer: &str,
        id: &RegistrationId,
        failure: AttemptFailure,
        not_claimed: &[SerialNumber],
    ) -> Result<Registration, SagaError> {
        match self.store.fail_registration(ctx, id, &failure, not_claimed).await {
            // Rolled back before this driver's refusal: its claims may postdate the releases.
            Ok(attempt) if attempt.is_rolled_back() => Err(self.failed_under_us(ctx, bearer, id).await),
            Ok(attempt) => {
                self.release_pending(ctx, bearer, id).await;
                Err(SagaError::Refused(failure_of(&attempt)))
            }
            Err(FailError::Completed { .. }) => {
                let registration = self.store.get_registration(ctx.org, id).await?;
                registration
                    .ok_or_else(|| SagaError::Inconsistent(format!("completed attempt {id} vanished")))
            }
            Err(FailError::NotFound) => Err(SagaError::Inconsistent(format!("attempt {id} vanished"))),
            Err(FailError::Store(err)) => Err(err.into()),
        }
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
    attempt.registration.failure.clone().unwrap_or_else(|| {
        AttemptFailure::new("REGISTRATION_FAILED", None, "the registration attempt failed".into())
    })
}
