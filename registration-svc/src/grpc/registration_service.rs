//! `RegistrationService`: one function per RPC (the table in `grpc/mod.rs` gives each its
//! scopes). Each parses the message into domain values, naming every bad field, calls one use
//! case in [`crate::ops`] (or, for reads and updates, the store method of its name), and maps
//! the answer.

use futures::{StreamExt, stream};
use regserial::registration::v1 as pb;
use regserial::registration::v1::batch_create_registrations_result::Result as Outcome;
use regserial::registration::v1::lookup_registration_request::Key;
use serde::Serialize;
use tonic::Status;

use super::fields::{Violations, field, invalid_field};
use super::paging::{bound, page_size, token};
use super::request_key::request_key;
use super::{Answer, Api, Call, Caller, DOMAIN, convert, errors};
use crate::domain::{
    FilterDraft, MAX_BATCH, MAX_LONG_TEXT, NewRegistration, Order, PageBound, RegistrationFilter,
    RegistrationId, RegistrationNumber, RegistrationPatch, SerialNumber, Text,
};

/// How many creations of a batch run at once: each mostly waits on serial-svc, so a few overlap
/// well, while a bound keeps one batch from taking every database connection.
const BATCH_CONCURRENCY: usize = 8;

pub(super) async fn create_registration(
    call: Call<'_, pb::CreateRegistrationRequest>,
) -> Answer<pb::Registration> {
    create(call.api, &call.caller, call.request, "").await
}

/// Each request succeeds or fails alone; the results come back in the requests' order.
pub(super) async fn batch_create_registrations(
    call: Call<'_, pb::BatchCreateRegistrationsRequest>,
) -> Answer<pb::BatchCreateRegistrationsResponse> {
    match call.request.requests.len() {
        0 => return Err(errors::batch_empty()),
        count if count > MAX_BATCH => return Err(errors::batch_too_large(count)),
        _ => {}
    }
    let (api, caller) = (call.api, &call.caller);
    let results: Vec<pb::BatchCreateRegistrationsResult> =
        stream::iter(call.request.requests.into_iter().enumerate())
            .map(|(index, item)| async move {
                let outcome = match create(api, caller, item, &format!("requests[{index}]")).await {
                    Ok(registration) => Outcome::Registration(registration),
                    Err(status) => Outcome::Error(convert::rpc_status(&status)),
                };
                pb::BatchCreateRegistrationsResult { result: Some(outcome) }
            })
            .buffered(BATCH_CONCURRENCY)
            .collect()
            .await;
    let failed = results.iter().filter(|r| matches!(r.result, Some(Outcome::Error(_)))).count();
    tracing::debug!(org = caller.org(), created = results.len() - failed, failed, "registrations created");
    Ok(pb::BatchCreateRegistrationsResponse { results })
}

pub(super) async fn get_registration(call: Call<'_, pb::GetRegistrationRequest>) -> Answer<pb::Registration> {
    let id = field("id", RegistrationId::parse(&call.request.id))?;
    match call.api.store().get_registration(call.caller.org(), &id).await.map_err(errors::store)? {
        Some(registration) => Ok(convert::registration(registration)),
        None => Err(errors::registration_not_found(&id)),
    }
}

pub(super) async fn lookup_registration(
    call: Call<'_, pb::LookupRegistrationRequest>,
) -> Answer<pb::Registration> {
    let found = match call.request.key {
        Some(Key::RegistrationNumber(raw)) => {
            let number = field("registration_number", RegistrationNumber::parse(&raw))?;
            let found = call.api.store().lookup_by_number(call.caller.org(), &number).await;
            found.map_err(errors::store)?.ok_or_else(|| errors::number_not_found(&number))?
        }
        Some(Key::SerialNumber(raw)) => {
            let serial = field("serial_number", SerialNumber::parse(&raw))?;
            let found = call.api.store().lookup_by_serial(call.caller.org(), &serial).await;
            found.map_err(errors::store)?.ok_or_else(|| errors::not_held(&serial))?
        }
        None => {
            return Err(invalid_field("registration_number", "is required unless serial_number is set"));
        }
    };
    Ok(convert::registration(found))
}

pub(super) async fn list_registrations(
    call: Call<'_, pb::ListRegistrationsRequest>,
) -> Answer<pb::ListRegistrationsResponse> {
    let limit = page_size(call.request.page_size)?;
    let (filter, order) = parse_query(&call.request)?;
    let query = ListQuery { method: "ListRegistrations", org: call.caller.org(), filter: &filter, order };
    let start = bound(&call.api.tokens, &call.request.page_token, &query)?;
    let page = call
        .api
        .store()
        .list_registrations(call.caller.org(), &filter, order, start.as_ref(), limit)
        .await
        .map_err(errors::store)?;
    Ok(pb::ListRegistrationsResponse {
        next_page_token: token(&call.api.tokens, &query, page.next.map(PageBound::After)),
        previous_page_token: token(&call.api.tokens, &query, page.previous.map(PageBound::Before)),
        registrations: page.registrations.into_iter().map(convert::registration).collect(),
    })
}

pub(super) async fn update_registration(
    call: Call<'_, pb::UpdateRegistrationRequest>,
) -> Answer<pb::Registration> {
    let mut violations = Violations::new(DOMAIN);
    let key = violations.check("request_id", request_key(&call.request));
    let Some(registration) = &call.request.registration else {
        violations.add("registration", "is required");
        return Err(violations.into_status());
    };
    let id = violations.check("registration.id", RegistrationId::parse(&registration.id));
    let mask = call.request.update_mask.as_ref().map(|mask| mask.paths.as_slice()).unwrap_or_default();
    let draft = convert::draft(registration, &mut violations);
    let patch = RegistrationPatch::parse(&draft, mask).map_err(|errors| violations.extend(errors)).ok();
    let ((key, id), patch) = violations.finish(key.zip(id).zip(patch))?;
    let updated = call
        .api
        .store()
        .update_registration(&call.caller.ctx(), key.as_ref(), &id, &patch)
        .await
        .map_err(|err| errors::update(err, &id))?;
    Ok(convert::registration(updated))
}

pub(super) async fn approve_registration(
    call: Call<'_, pb::ApproveRegistrationRequest>,
) -> Answer<pb::Registration> {
    let mut violations = Violations::new(DOMAIN);
    let key = violations.check("request_id", request_key(&call.request));
    let id = violations.check("id", RegistrationId::parse(&call.request.id));
    let (key, id) = violations.finish(key.zip(id))?;
    let approved = call
        .api
        .saga
        .approve(&call.caller.ctx(), key.as_ref(), &id)
        .await
        .map_err(|err| errors::transition(err, &id, "approve"))?;
    Ok(convert::registration(approved))
}

pub(super) async fn deny_registration(
    call: Call<'_, pb::DenyRegistrationRequest>,
) -> Answer<pb::Registration> {
    let mut violations = Violations::new(DOMAIN);
    let key = violations.check("request_id", request_key(&call.request));
    let id = violations.check("id", RegistrationId::parse(&call.request.id));
    let reason = violations.check("reason", Text::parse(&call.request.reason, MAX_LONG_TEXT));
    let ((key, id), reason) = violations.finish(key.zip(id).zip(reason))?;
    let denied = call
        .api
        .saga
        .deny(&call.caller.ctx(), call.caller.bearer(), key.as_ref(), &id, reason.as_ref())
        .await
        .map_err(|err| errors::transition(err, &id, "deny"))?;
    Ok(convert::registration(denied))
}

pub(super) async fn cancel_registration(
    call: Call<'_, pb::CancelRegistrationRequest>,
) -> Answer<pb::Registration> {
    let mut violations = Violations::new(DOMAIN);
    let key = violations.check("request_id", request_key(&call.request));
    let id = violations.check("id", RegistrationId::parse(&call.request.id));
    let (key, id) = violations.finish(key.zip(id))?;
    let canceled = call
        .api
        .saga
        .cancel(&call.caller.ctx(), call.caller.bearer(), key.as_ref(), &id)
        .await
        .map_err(|err| errors::transition(err, &id, "cancel"))?;
    Ok(convert::registration(canceled))
}

pub(super) async fn swap_serial(call: Call<'_, pb::SwapSerialRequest>) -> Answer<pb::Registration> {
    let mut violations = Violations::new(DOMAIN);
    let key = violations.check("request_id", request_key(&call.request));
    let old = violations.check("serial_number", SerialNumber::parse(&call.request.serial_number));
    let new = violations.check("new_serial_number", SerialNumber::parse(&call.request.new_serial_number));
    let ((key, old), new) = violations.finish(key.zip(old).zip(new))?;
    let swapped = call
        .api
        .saga
        .swap(&call.caller.ctx(), call.caller.bearer(), key.as_ref(), &old, &new)
        .await
        .map_err(|err| errors::swap(err, &old, &new))?;
    Ok(convert::registration(swapped))
}

pub(super) async fn reset_serial(call: Call<'_, pb::ResetSerialRequest>) -> Answer<pb::Registration> {
    let mut violations = Violations::new(DOMAIN);
    let key = violations.check("request_id", request_key(&call.request));
    let serial = violations.check("serial_number", SerialNumber::parse(&call.request.serial_number));
    let (key, serial) = violations.finish(key.zip(serial))?;
    let reset = call
        .api
        .saga
        .reset(&call.caller.ctx(), call.caller.bearer(), key.as_ref(), &serial)
        .await
        .map_err(|err| errors::reset(err, &serial))?;
    Ok(convert::registration(reset))
}

/// One creation; `prefix` locates `request` in a batch, so its errors name fields from the
/// top of the call (`requests[3].registration.customer_email`).
async fn create(
    api: &Api,
    caller: &Caller,
    request: pb::CreateRegistrationRequest,
    prefix: &str,
) -> Result<pb::Registration, Status> {
    let mut violations = Violations::within(DOMAIN, prefix);
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
    let registration = api
        .saga
        .create(&caller.ctx(), caller.bearer(), key.as_ref(), &new)
        .await
        .map_err(|err| errors::create(err, prefix))?;
    Ok(convert::registration(registration))
}

/// What a `ListRegistrations` page token is bound to: a token works only for the same org,
/// filters and order (the page size may change between pages).
#[derive(Serialize)]
struct ListQuery<'a> {
    method: &'static str,
    org: &'a str,
    filter: &'a RegistrationFilter,
    order: Order,
}

/// The filters and order of a `ListRegistrations` request, each bad one named.
fn parse_query(request: &pb::ListRegistrationsRequest) -> Result<(RegistrationFilter, Order), Status> {
    let mut violations = Violations::new(DOMAIN);
    let draft = FilterDraft {
        customer_email: request.customer_email.clone(),
        channel_name: request.channel_name.clone(),
        registration_number: request.registration_number.clone(),
        form_slug: request.form_slug.clone(),
        customer_tag: request.customer_tag.clone(),
    };
    let filter = RegistrationFilter::parse(&draft, None).map_err(|errors| violations.extend(errors)).ok();
    let status = violations.check("status", convert::parse_status_filter(request.status));
    let order = violations.check("order_by", Order::parse(&request.order_by));
    let filter = filter.zip(status).map(|(filter, status)| RegistrationFilter { status, ..filter });
    violations.finish(filter.zip(order))
}
