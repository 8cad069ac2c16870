//! The review workflow: approve, deny, cancel (the use cases are in `ops::review`).

use regserial::registration::v1 as pb;
use tonic::Status;

use super::fields::Violations;
use super::request_key::request_key;
use super::{Api, Caller, convert, errors};
use crate::domain::{MAX_LONG_TEXT, RegistrationId, Text};

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
            .saga
            .approve(&caller.ctx(), key.as_ref(), &id)
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
            .saga
            .deny(&caller.ctx(), caller.bearer(), key.as_ref(), &id, reason.as_ref())
            .await
            .map_err(|err| errors::transition(err, &id, "deny"))?;
        Ok(convert::registration(denied))
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
            .saga
            .cancel(&caller.ctx(), caller.bearer(), key.as_ref(), &id)
            .await
            .map_err(|err| errors::transition(err, &id, "cancel"))?;
        Ok(convert::registration(canceled))
    }
}
