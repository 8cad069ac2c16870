//! Reading serials: get, list, validate and history.

use regserial::serial::v1 as pb;
use serde::Serialize;
use tonic::Status;

use super::fields::{Violations, field};
use super::paging::{DEFAULT_EVENTS_PAGE_SIZE, DEFAULT_PAGE_SIZE, cursor, fetch_limit, next_page, page_size};
use super::{Api, Caller, convert, errors};
use crate::domain::{InvalidReason, SerialFilter, SerialNumber, Sku, optional};

/// What a `ListSerials` page token is bound to.
#[derive(Serialize)]
struct SerialsQuery<'a> {
    method: &'static str,
    org: &'a str,
    filter: &'a SerialFilter,
}

/// What a `ListSerialEvents` page token is bound to.
#[derive(Serialize)]
struct EventsQuery<'a> {
    method: &'static str,
    org: &'a str,
    serial: &'a str,
}

impl Api {
    pub async fn inner_get_serial(
        &self,
        caller: &Caller,
        request: pb::GetSerialRequest,
    ) -> Result<pb::Serial, Status> {
        let number = field("serial_number", SerialNumber::parse(&request.serial_number))?;
        match self.store.get_serial(caller.org(), &number).await.map_err(errors::store)? {
            Some(serial) => Ok(convert::serial(serial, caller.now)),
            None => Err(errors::serial_not_found(number.as_str())),
        }
    }

    pub async fn inner_list_serials(
        &self,
        caller: &Caller,
        request: pb::ListSerialsRequest,
    ) -> Result<pb::ListSerialsResponse, Status> {
        let limit = page_size(request.page_size, DEFAULT_PAGE_SIZE)?;
        let mut violations = Violations::default();
        let status = violations.check("status", convert::parse_status_filter(request.status));
        let product_sku = violations.check("product_sku", optional(&request.product_sku, Sku::parse));
        let (Some(status), Some(product_sku)) = (status, product_sku) else {
            return Err(violations.into_status());
        };
        let filter = SerialFilter { status, product_sku };
        let query = SerialsQuery { method: "ListSerials", org: caller.org(), filter: &filter };
        let after: Option<i64> = cursor(&self.tokens, &request.page_token, &query)?;
        let mut rows = self
            .store
            .list_serials(caller.org(), &filter, after, fetch_limit(limit), caller.now)
            .await
            .map_err(errors::store)?;
        let next_page_token = next_page(&self.tokens, &mut rows, limit, &query, |(id, _)| *id);
        let serials = rows.into_iter().map(|(_, serial)| convert::serial(serial, caller.now)).collect();
        Ok(pb::ListSerialsResponse { serials, next_page_token })
    }

    /// Always OK for a well-formed serial number: says whether it can be registered now.
    pub async fn inner_validate_serial(
        &self,
        caller: &Caller,
        request: pb::ValidateSerialRequest,
    ) -> Result<pb::ValidateSerialResponse, Status> {
        let number = field("serial_number", SerialNumber::parse(&request.serial_number))?;
        let found = self.store.get_serial(caller.org(), &number).await.map_err(errors::store)?;
        let Some(serial) = found else {
            let reason = convert::invalid_reason(InvalidReason::NotFound) as i32;
            return Ok(pb::ValidateSerialResponse { valid: false, reason, serial: None });
        };
        let refusal = serial.claim_refusal(None, caller.now);
        Ok(pb::ValidateSerialResponse {
            valid: refusal.is_none(),
            reason: refusal.map_or(pb::InvalidReason::Unspecified, convert::invalid_reason) as i32,
            serial: Some(convert::serial(serial, caller.now)),
        })
    }

    pub async fn inner_list_serial_events(
        &self,
        caller: &Caller,
        request: pb::ListSerialEventsRequest,
    ) -> Result<pb::ListSerialEventsResponse, Status> {
        let number = field("serial_number", SerialNumber::parse(&request.serial_number))?;
        let limit = page_size(request.page_size, DEFAULT_EVENTS_PAGE_SIZE)?;
        let query = EventsQuery { method: "ListSerialEvents", org: caller.org(), serial: number.key() };
        let after: Option<i64> = cursor(&self.tokens, &request.page_token, &query)?;
        let mut events = self
            .store
            .list_serial_events(caller.org(), &number, after, fetch_limit(limit))
            .await
            .map_err(errors::store)?
            .ok_or_else(|| errors::serial_not_found(number.as_str()))?;
        let next_page_token = next_page(&self.tokens, &mut events, limit, &query, |event| event.id);
        Ok(pb::ListSerialEventsResponse {
            events: events.into_iter().map(convert::event).collect(),
            next_page_token,
        })
    }
}
