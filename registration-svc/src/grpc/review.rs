//! The review workflow: approve, deny, cancel. Deny and cancel release the serials: the store
//! writes the releases with the change, and the saga carries them out at once.

use regserial::registration::v1 as pb;
use tonic::Status;

use super::fields::Violations;
use super::request_key::request_key;
use super::{Api, Caller, convert, errors};
use crate::domain::{MAX_LONG_TEXT, Registration, RegistrationId, Text};

impl Api {
    pub async fn inner_approve_registration(
        &self,
        caller: &Caller,
        request: pb::ApproveRegistrationRequest,
    ) -> Result<pb::Registration, Status> {
        let mut violations = Violations::default();
        let key = violations.check("request_id", request_key(&request));
        let id = violations.check("id", RegistrationId::parse(&request.id));
        let (key, id) = violations.finish(key.zip(id))?;
        let approved = self
            .store()
            .approve_registration(&caller.ctx(), key.as_ref(), &id)
            .await
            .map_err(|err| errors::transition(err, &id, "approve"))?;
        Ok(convert::registration(approved))
    }

    pub async fn inner_deny_registration(
        &self,
        caller: &Caller,
        request: pb::DenyRegistrationRequest,
    ) -> Result<pb::Registration, Status> {
        let mut violations = Violations::default();
        let key = violations.check("request_id", request_key(&request));
        let id = violations.check("id", RegistrationId::parse(&request.id));
        let reason = violations.check("reason", Text::parse(&request.reason, MAX_LONG_TEXT));
        let ((key, id), reason) = violations.finish(key.zip(id).zip(reason))?;
        let denied = self
            .store()
            .deny_registration(&caller.ctx(), key.as_ref(), &id, reason.as_ref())
            .await
            .map_err(|err| errors::transition(err, &id, "deny"))?;
        Ok(self.released(caller, denied).await)
    }

    pub async fn inner_cancel_registration(
        &self,
        caller: &Caller,
        request: pb::CancelRegistrationRequest,
    ) -> Result<pb::Registration, Status> {
        let mut violations = Violations::default();
        let key = violations.check("request_id", request_key(&request));
        let id = violations.check("id", RegistrationId::parse(&request.id));
        let (key, id) = violations.finish(key.zip(id))?;
        let canceled = self
            .store()
            .cancel_registration(&caller.ctx(), key.as_ref(), &id)
            .await
            .map_err(|err| errors::transition(err, &id, "cancel"))?;
        Ok(self.released(caller, canceled).await)
    }

    /// `registration` (which just stopped holding its serials) once the saga released them,
    /// best effort: what fails stays pending for the recovery worker, and the change stands.
    pub(super) async fn released(&self, caller: &Caller, registration: Registration) -> pb::Registration {
        self.saga.release_pending(&caller.ctx(), caller.bearer(), &registration.id).await;
        convert::registration(registration)
    }
}
