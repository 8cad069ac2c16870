//! `SerialService`, one function per RPC (its scopes are in the table of [`super`]): parse the
//! message into domain values, call the store (or the use case in [`crate::ops`]), map the
//! answer or the error.

use std::pin::Pin;

use chrono::DateTime;
use futures::{Stream, StreamExt};
use regserial::serial::v1 as pb;
use serde::Serialize;
use tonic::{Status, Streaming};

use super::fields::{field, fields, invalid_field};
use super::paging::{
    DEFAULT_EVENTS_PAGE_SIZE, DEFAULT_PAGE_SIZE, PageQuery, cursor, fetch_limit, next_page, page_size,
};
use super::request_key::request_key;
use super::{Answer, Call, convert, errors};
use crate::domain::import::ImportId;
use crate::domain::{
    Claimant, InvalidReason, SerialFilter, SerialNumber, Sku, check_batch_size, optional, parse_reason,
};
use crate::ops::import_serials::{Importer, UploadBroken};
use crate::ops::{batch_create_serials, import_serials, watch_import_job};

pub type ImportJobStream = Pin<Box<dyn Stream<Item = Result<pb::ImportJob, Status>> + Send + 'static>>;

pub(super) async fn batch_create_serials(
    call: Call<'_, pb::BatchCreateSerialsRequest>,
) -> Answer<pb::BatchCreateSerialsResponse> {
    check_batch_size(call.request.serials.len()).map_err(errors::batch_size)?;
    let key = field("request_id", request_key(&call.request))?;
    let items = call.request.serials.iter().enumerate().map(|(i, item)| convert::parse_new_serial(i, item));
    let created = batch_create_serials::create(
        &call.api.store,
        &call.caller.ctx(),
        key.as_ref(),
        items.collect(),
        call.request.atomic,
    )
    .await;
    let outcome = created.map_err(errors::batch)?;
    Ok(pb::BatchCreateSerialsResponse {
        serials: outcome.created.into_iter().map(|serial| convert::serial(serial, call.caller.now)).collect(),
        errors: outcome.errors.into_iter().map(convert::item_error).collect(),
    })
}

pub(super) async fn get_serial(call: Call<'_, pb::GetSerialRequest>) -> Answer<pb::Serial> {
    let number = field("serial_number", SerialNumber::parse(&call.request.serial_number))?;
    let found = call.api.store.get_serial(call.caller.org(), &number).await.map_err(errors::store)?;
    let serial = found.ok_or_else(|| errors::serial_not_found(number.as_str()))?;
    Ok(convert::serial(serial, call.caller.now))
}

pub(super) async fn list_serials(call: Call<'_, pb::ListSerialsRequest>) -> Answer<pb::ListSerialsResponse> {
    let limit = page_size(call.request.page_size, DEFAULT_PAGE_SIZE)?;
    let (status, product_sku) = fields((
        ("status", convert::parse_status_filter(call.request.status)),
        ("product_sku", optional(&call.request.product_sku, Sku::parse)),
    ))?;
    let filter = SerialFilter { status, product_sku };
    let query = PageQuery {
        method: "ListSerials",
        org: call.caller.org(),
        filters: SerialsFilter { filter: &filter },
    };
    let after: Option<i64> = cursor(&call.api.tokens, &call.request.page_token, &query)?;
    let listed = call
        .api
        .store
        .list_serials(call.caller.org(), &filter, after, fetch_limit(limit), call.caller.now)
        .await;
    let mut rows = listed.map_err(errors::store)?;
    let next_page_token = next_page(&call.api.tokens, &mut rows, limit, &query, |(id, _)| *id);
    let serials = rows.into_iter().map(|(_, serial)| convert::serial(serial, call.caller.now)).collect();
    Ok(pb::ListSerialsResponse { serials, next_page_token })
}

/// `ListSerials`' filters in its page tokens.
#[derive(Serialize)]
struct SerialsFilter<'a> {
    filter: &'a SerialFilter,
}

/// Always OK for a well-formed serial number: says whether it can be registered now.
pub(super) async fn validate_serial(
    call: Call<'_, pb::ValidateSerialRequest>,
) -> Answer<pb::ValidateSerialResponse> {
    let number = field("serial_number", SerialNumber::parse(&call.request.serial_number))?;
    let found = call.api.store.get_serial(call.caller.org(), &number).await.map_err(errors::store)?;
    let Some(serial) = found else {
        let reason = convert::invalid_reason(InvalidReason::NotFound) as i32;
        return Ok(pb::ValidateSerialResponse { valid: false, reason, serial: None });
    };
    let refusal = serial.claim_refusal(None, call.caller.now);
    Ok(pb::ValidateSerialResponse {
        valid: refusal.is_none(),
        reason: refusal.map_or(pb::InvalidReason::Unspecified, convert::invalid_reason) as i32,
        serial: Some(convert::serial(serial, call.caller.now)),
    })
}

pub(super) async fn claim_serial(call: Call<'_, pb::ClaimSerialRequest>) -> Answer<pb::Serial> {
    let (key, number, claimant) = fields((
        ("request_id", request_key(&call.request)),
        ("serial_number", SerialNumber::parse(&call.request.serial_number)),
        ("claimant", Claimant::parse(&call.request.claimant)),
    ))?;
    let claimed = call.api.store.claim_serial(&call.caller.ctx(), key.as_ref(), &number, &claimant).await;
    Ok(convert::serial(claimed.map_err(|err| errors::claim(err, &number))?, call.caller.now))
}

pub(super) async fn release_serial(call: Call<'_, pb::ReleaseSerialRequest>) -> Answer<pb::Serial> {
    let (key, number, claimant, replaced_by) = fields((
        ("request_id", request_key(&call.request)),
        ("serial_number", SerialNumber::parse(&call.request.serial_number)),
        ("claimant", Claimant::parse(&call.request.claimant)),
        ("replaced_by", optional(&call.request.replaced_by, SerialNumber::parse)),
    ))?;
    let ctx = call.caller.ctx();
    let released =
        call.api.store.release_serial(&ctx, key.as_ref(), &number, &claimant, replaced_by.as_ref()).await;
    Ok(convert::serial(released.map_err(|err| errors::release(err, &number))?, call.caller.now))
}

pub(super) async fn allocate_serial(call: Call<'_, pb::AllocateSerialRequest>) -> Answer<pb::Serial> {
    let (key, sku, claimant) = fields((
        ("request_id", request_key(&call.request)),
        ("product_sku", optional(&call.request.product_sku, Sku::parse)),
        ("claimant", optional(&call.request.claimant, Claimant::parse)),
    ))?;
    let ctx = call.caller.ctx();
    let allocated = call.api.store.allocate_serial(&ctx, key.as_ref(), sku.as_ref(), claimant.as_ref()).await;
    Ok(convert::serial(allocated.map_err(|err| errors::allocate(err, sku.as_ref()))?, call.caller.now))
}

pub(super) async fn revoke_serial(call: Call<'_, pb::RevokeSerialRequest>) -> Answer<pb::Serial> {
    let (key, number, reason) = fields((
        ("request_id", request_key(&call.request)),
        ("serial_number", SerialNumber::parse(&call.request.serial_number)),
        ("reason", parse_reason(&call.request.reason)),
    ))?;
    let revoked = call.api.store.revoke_serial(&call.caller.ctx(), key.as_ref(), &number, reason).await;
    Ok(convert::serial(revoked.map_err(|err| errors::revoke(err, &number))?, call.caller.now))
}

pub(super) async fn list_serial_events(
    call: Call<'_, pb::ListSerialEventsRequest>,
) -> Answer<pb::ListSerialEventsResponse> {
    let number = field("serial_number", SerialNumber::parse(&call.request.serial_number))?;
    let limit = page_size(call.request.page_size, DEFAULT_EVENTS_PAGE_SIZE)?;
    let query = PageQuery {
        method: "ListSerialEvents",
        org: call.caller.org(),
        filters: EventsFilter { serial: number.key() },
    };
    let after: Option<i64> = cursor(&call.api.tokens, &call.request.page_token, &query)?;
    let listed =
        call.api.store.list_serial_events(call.caller.org(), &number, after, fetch_limit(limit)).await;
    let mut events =
        listed.map_err(errors::store)?.ok_or_else(|| errors::serial_not_found(number.as_str()))?;
    let next_page_token = next_page(&call.api.tokens, &mut events, limit, &query, |event| event.id);
    let events = events.into_iter().map(convert::event).collect();
    Ok(pb::ListSerialEventsResponse { events, next_page_token })
}

/// `ListSerialEvents`' filter in its page tokens.
#[derive(Serialize)]
struct EventsFilter<'a> {
    serial: &'a str,
}

pub(super) async fn import_serials(
    mut call: Call<'_, Streaming<pb::ImportSerialsRequest>>,
) -> Answer<pb::ImportJob> {
    let first = match call.request.message().await? {
        Some(first) => first,
        None => return Err(invalid_field("import_id", "is required in the first message")),
    };
    let id = field("import_id", ImportId::parse(&first.import_id))?;
    let chunks = futures::stream::once(async move { Ok(first.csv_chunk) })
        .chain(call.request.map(|message| message.map(|m| m.csv_chunk).map_err(|_| UploadBroken)));
    let importer =
        Importer { org: call.caller.org().to_owned(), actor: call.caller.principal.subject.clone() };
    let answer = import_serials::upload(
        call.api.store.clone(),
        call.api.clock.clone(),
        importer,
        id,
        Box::pin(chunks),
    )
    .await;
    answer.map(convert::import_job).map_err(errors::upload)
}

pub(super) async fn get_import_job(call: Call<'_, pb::GetImportJobRequest>) -> Answer<pb::ImportJob> {
    let id = field("id", ImportId::parse(&call.request.id))?;
    let found = call.api.store.get_import(call.caller.org(), id.as_str()).await.map_err(errors::store)?;
    let job = found.ok_or_else(|| errors::import_job_not_found(id.as_str()))?;
    Ok(convert::import_job(job.seen_at(call.api.clock.now())))
}

pub(super) async fn list_import_jobs(
    call: Call<'_, pb::ListImportJobsRequest>,
) -> Answer<pb::ListImportJobsResponse> {
    let limit = page_size(call.request.page_size, DEFAULT_PAGE_SIZE)?;
    let query = PageQuery { method: "ListImportJobs", org: call.caller.org(), filters: () };
    let after: Option<(i64, String)> = cursor(&call.api.tokens, &call.request.page_token, &query)?;
    let after = after
        .map(|(micros, id)| DateTime::from_timestamp_micros(micros).map(|time| (time, id)))
        .map(|cursor| cursor.ok_or_else(|| invalid_field("page_token", "is not valid")))
        .transpose()?;
    let after = after.as_ref().map(|(time, id)| (*time, id.as_str()));
    let listed = call.api.store.list_imports(call.caller.org(), after, fetch_limit(limit)).await;
    let mut jobs = listed.map_err(errors::store)?;
    let next_page_token = next_page(&call.api.tokens, &mut jobs, limit, &query, |j| {
        (j.create_time.timestamp_micros(), j.id.clone())
    });
    let now = call.api.clock.now();
    let import_jobs = jobs.into_iter().map(|job| convert::import_job(job.seen_at(now))).collect();
    Ok(pb::ListImportJobsResponse { import_jobs, next_page_token })
}

pub(super) async fn watch_import_job(call: Call<'_, pb::WatchImportJobRequest>) -> Answer<ImportJobStream> {
    let id = field("id", ImportId::parse(&call.request.id))?;
    let org = call.caller.org().to_owned();
    let changes =
        watch_import_job::watch(call.api.store.clone(), call.api.clock.clone(), org, id.clone()).await;
    let changes = changes.map_err(|err| errors::watch(err, &id))?;
    Ok(Box::pin(changes.map(move |job| job.map(convert::import_job).map_err(|err| errors::watch(err, &id)))))
}

pub(super) async fn cancel_import_job(call: Call<'_, pb::CancelImportJobRequest>) -> Answer<pb::ImportJob> {
    let id = field("id", ImportId::parse(&call.request.id))?;
    let cancelled = call.api.store.cancel_import(&call.caller.ctx(), id.as_str()).await;
    Ok(convert::import_job(cancelled.map_err(|err| errors::cancel(err, &id))?.seen_at(call.caller.now)))
}
