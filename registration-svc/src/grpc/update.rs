//! `UpdateRegistration`: the customer and custom fields an update mask names.

use regserial::registration::v1 as pb;
use tonic::Status;

use super::fields::Violations;
use super::request_key::request_key;
use super::{Api, Caller, convert, errors};
use crate::domain::{RegistrationId, RegistrationPatch};

impl Api {
    pub async fn inner_update_registration(
        &self,
        caller: &Caller,
        request: pb::UpdateRegistrationRequest,
    ) -> Result<pb::Registration, Status> {
        let mut violations = Violations::default();
        let key = violations.check("request_id", request_key(&request));
        let Some(registration) = &request.registration else {
            violations.add("registration", "is required");
            return Err(violations.into_status());
        };
        let id = violations.check("registration.id", RegistrationId::parse(&registration.id));
        let mask = request.update_mask.as_ref().map(|mask| mask.paths.as_slice()).unwrap_or_default();
        let draft = convert::draft(registration, &mut violations);
        let patch = RegistrationPatch::parse(&draft, mask).map_err(|errors| violations.extend(errors)).ok();
        let ((key, id), patch) = violations.finish(key.zip(id).zip(patch))?;
        let updated = self
            .store()
            .update_registration(&caller.ctx(), key.as_ref(), &id, &patch)
            .await
            .map_err(|err| errors::update(err, &id))?;
        Ok(convert::registration(updated))
    }
}
