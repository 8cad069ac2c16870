//! `CreateRegistration` and `BatchCreateRegistrations`: parse the registration, then let the
//! saga claim its serials and store it.

use futures::{StreamExt, stream};
use regserial::registration::v1 as pb;
use regserial::registration::v1::batch_create_registrations_result::Result as Outcome;
use tonic::Status;

use super::fields::Violations;
use super::request_key::request_key;
use super::{Api, Caller, convert, errors};
use crate::domain::NewRegistration;

/// Most creations in one `BatchCreateRegistrations`.
pub const MAX_BATCH: usize = 100;
/// How many creations of a batch run at once: each mostly waits on serial-svc, so a few overlap
/// well, while a bound keeps one batch from taking every database connection.
const BATCH_CONCURRENCY: usize = 8;

impl Api {
    pub async fn inner_create_registration(
        &self,
        caller: &Caller,
        request: pb::CreateRegistrationRequest,
    ) -> Result<pb::Registration, Status> {
        self.create(caller, request, "").await
    }

    /// Each request succeeds or fails alone; the results come back in the requests' order.
    pub async fn inner_batch_create_registrations(
        &self,
        caller: &Caller,
        request: pb::BatchCreateRegistrationsRequest,
    ) -> Result<pb::BatchCreateRegistrationsResponse, Status> {
        match request.requests.len() {
            0 => return Err(errors::batch_empty()),
            count if count > MAX_BATCH => return Err(errors::batch_too_large(count)),
            _ => {}
        }
        let results: Vec<pb::BatchCreateRegistrationsResult> =
            stream::iter(request.requests.into_iter().enumerate())
                .map(|(index, item)| async move {
                    let outcome = match self.create(caller, item, &format!("requests[{index}]")).await {
                        Ok(registration) => Outcome::Registration(registration),
                        Err(status) => Outcome::Error(convert::rpc_status(&status)),
                    };
                    pb::BatchCreateRegistrationsResult { result: Some(outcome) }
                })
                .buffered(BATCH_CONCURRENCY)
                .collect()
                .await;
        let failed = results.iter().filter(|r| matches!(r.result, Some(Outcome::Error(_)))).count();
        tracing::debug!(
            org = caller.org(),
            created = results.len() - failed,
            failed,
            "registrations created"
        );
        Ok(pb::BatchCreateRegistrationsResponse { results })
    }

    /// One creation; `prefix` locates `request` in a batch, so its errors name fields from the
    /// top of the call (`requests[3].registration.customer_email`).
    async fn create(
        &self,
        caller: &Caller,
        request: pb::CreateRegistrationRequest,
        prefix: &str,
    ) -> Result<pb::Registration, Status> {
        let mut violations = Violations::within(prefix);
        let key = violations.check("request_id", request_key(&request));
        let new = match &request.registration {
            None => {
                violations.add("registration", "is required");
                None
            }
            Some(registration) => {
                let draft = convert::draft(registration, &mut violations);
                NewRegistration::parse(&draft).map_err(|errors| violations.extend(errors)).ok()
            }
        };
        let (key, new) = violations.finish(key.zip(new))?;
        let registration = self
            .saga
            .create(&caller.ctx(), caller.bearer(), key.as_ref(), &new)
            .await
            .map_err(|err| errors::create(err, prefix))?;
        Ok(convert::registration(registration))
    }
}
