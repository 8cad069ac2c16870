//! `ApproveRegistration`, `DenyRegistration`, `CancelRegistration`: each one store transition.
//! Deny and cancel end the registration's hold on its serials, so the store writes their
//! releases with the change, and they are carried out here at once, best effort: what fails
//! stays pending for the recovery worker, and the change stands.

use super::Saga;
use crate::domain::{Ctx, Registration, RegistrationId, RequestKey, Text, TransitionError};

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

    /// `registration`, which just stopped holding its serials, once they were released.
    pub(super) async fn released(
        &self,
        ctx: &Ctx<'_>,
        bearer: &str,
        registration: Registration,
    ) -> Registration {
        self.release_pending(ctx, bearer, &registration.id).await;
        registration
    }
}
