//! The review workflow and reset: approve, deny, cancel, reset. Each is one store transition;
//! deny, cancel and reset end the registration's hold on its serials, so the store writes
//! their releases with the change, and they are carried out here at once, best effort: what
//! fails stays pending for the recovery worker, and the change stands.

use super::Saga;
use crate::domain::{
    Ctx, Registration, RegistrationId, RequestKey, ResetError, SerialNumber, Text, TransitionError,
};

impl Saga {
    /// PENDING -> APPROVED.
    pub async fn approve(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        id: &RegistrationId,
    ) -> Result<Registration, TransitionError> {
        self.store.approve_registration(ctx, key, id).await
    }

    /// PENDING -> DENIED with `reason`; the serials released with the caller's `bearer`.
    pub async fn deny(
        &self,
        ctx: &Ctx<'_>,
        bearer: &str,
        key: Option<&RequestKey>,
        id: &RegistrationId,
        reason: Option<&Text>,
    ) -> Result<Registration, TransitionError> {
        let denied = self.store.deny_registration(ctx, key, id, reason).await?;
        Ok(self.released(ctx, bearer, denied).await)
    }

    /// PENDING or APPROVED -> CANCELED; the serials released with the caller's `bearer`.
    pub async fn cancel(
        &self,
        ctx: &Ctx<'_>,
        bearer: &str,
        key: Option<&RequestKey>,
        id: &RegistrationId,
    ) -> Result<Registration, TransitionError> {
        let canceled = self.store.cancel_registration(ctx, key, id).await?;
        Ok(self.released(ctx, bearer, canceled).await)
    }

    /// The registration holding `serial` canceled, its customer's data erased, and its serials
    /// released with the caller's `bearer`.
    pub async fn reset(
        &self,
        ctx: &Ctx<'_>,
        bearer: &str,
        key: Option<&RequestKey>,
        serial: &SerialNumber,
    ) -> Result<Registration, ResetError> {
        let reset = self.store.reset_serial(ctx, key, serial).await?;
        Ok(self.released(ctx, bearer, reset).await)
    }

    /// `registration`, which just stopped holding its serials, once they were released.
    async fn released(&self, ctx: &Ctx<'_>, bearer: &str, registration: Registration) -> Registration {
        self.release_pending(ctx, bearer, &registration.id).await;
        registration
    }
}
