//! Reading registrations: get by id, look up by number or held serial, list.

use regserial::registration::v1 as pb;
use regserial::registration::v1::lookup_registration_request::Key;
use serde::Serialize;
use tonic::Status;

use super::fields::{Violations, field, invalid_field};
use super::paging::{bound, page_size, token};
use super::{Api, Caller, convert, errors};
use crate::domain::{
    FilterDraft, Order, PageBound, RegistrationFilter, RegistrationId, RegistrationNumber, SerialNumber,
};

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
    let mut violations = Violations::default();
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

impl Api {
    pub async fn inner_get_registration(
        &self,
        caller: &Caller,
        request: pb::GetRegistrationRequest,
    ) -> Result<pb::Registration, Status> {
        let id = field("id", RegistrationId::parse(&request.id))?;
        match self.store().get_registration(caller.org(), &id).await.map_err(errors::store)? {
            Some(registration) => Ok(convert::registration(registration)),
            None => Err(errors::registration_not_found(&id)),
        }
    }

    pub async fn inner_lookup_registration(
        &self,
        caller: &Caller,
        request: pb::LookupRegistrationRequest,
    ) -> Result<pb::Registration, Status> {
        let found = match request.key {
            Some(Key::RegistrationNumber(raw)) => {
                let number = field("registration_number", RegistrationNumber::parse(&raw))?;
                let found = self.store().lookup_by_number(caller.org(), &number).await;
                found.map_err(errors::store)?.ok_or_else(|| errors::number_not_found(&number))?
            }
            Some(Key::SerialNumber(raw)) => {
                let serial = field("serial_number", SerialNumber::parse(&raw))?;
                let found = self.store().lookup_by_serial(caller.org(), &serial).await;
                found.map_err(errors::store)?.ok_or_else(|| errors::not_held(&serial))?
            }
            None => {
                return Err(invalid_field("registration_number", "is required unless serial_number is set"));
            }
        };
        Ok(convert::registration(found))
    }

    pub async fn inner_list_registrations(
        &self,
        caller: &Caller,
        request: pb::ListRegistrationsRequest,
    ) -> Result<pb::ListRegistrationsResponse, Status> {
        let limit = page_size(request.page_size)?;
        let (filter, order) = parse_query(&request)?;
        let query = ListQuery { method: "ListRegistrations", org: caller.org(), filter: &filter, order };
        let start = bound(&self.tokens, &request.page_token, &query)?;
        let page = self
            .store()
            .list_registrations(caller.org(), &filter, order, start.as_ref(), limit)
            .await
            .map_err(errors::store)?;
        Ok(pb::ListRegistrationsResponse {
            next_page_token: token(&self.tokens, &query, page.next.map(PageBound::After)),
            previous_page_token: token(&self.tokens, &query, page.previous.map(PageBound::Before)),
            registrations: page.registrations.into_iter().map(convert::registration).collect(),
        })
    }
}
