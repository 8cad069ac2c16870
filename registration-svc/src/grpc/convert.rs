//! Proto messages <-> domain values: timestamps, registrations and their enums, the draft a
//! request's `Registration` is parsed from, and a `tonic::Status` as a `google.rpc.Status`.

use prost::Message;
use prost_types::Timestamp;
use regserial::registration::v1 as pb;
use tonic::Status;

use super::fields::Violations;
use crate::domain::{
    LineItemDraft, RegisteredLineItem, Registration, RegistrationDraft, RegistrationStatus, Warranty,
};

/// Timestamps convert the same way in both services.
pub use shared::convert::{parse_timestamp, timestamp};

/// The input fields of a request's `registration` as a draft for the domain to parse; output
/// only fields (id, number, status, warranty, denial reason, times) are ignored (AIP-203). A
/// timestamp out of range is recorded in `violations` and left out of the draft.
pub fn draft(registration: &pb::Registration, violations: &mut Violations) -> RegistrationDraft {
    let mut time = |name: &str, ts: Option<&Timestamp>| {
        violations.check(name, ts.map(parse_timestamp).transpose()).flatten()
    };
    RegistrationDraft {
        customer_email: registration.customer_email.clone(),
        customer_name: registration.customer_name.clone(),
        customer_phone: registration.customer_phone.clone(),
        channel_name: registration.channel_name.clone(),
        form_slug: registration.form_slug.clone(),
        line_items: registration.line_items.iter().map(line_item_draft).collect(),
        customer_provided_order_number: registration.customer_provided_order_number.clone(),
        purchase_date: time("registration.purchase_date", registration.purchase_date.as_ref()),
        referrer: registration.referrer.clone(),
        email_marketing_consent: registration.email_marketing_consent,
        email_marketing_consent_time: time(
            "registration.email_marketing_consent_time",
            registration.email_marketing_consent_time.as_ref(),
        ),
        custom_fields: registration.custom_fields.clone().into_iter().collect(),
        proof_of_purchase_urls: registration.proof_of_purchase_urls.clone(),
    }
}

fn line_item_draft(item: &pb::LineItem) -> LineItemDraft {
    LineItemDraft {
        sku: item.sku.clone(),
        name: item.name.clone(),
        quantity: item.quantity,
        product_id: item.product_id.clone(),
        variant_id: item.variant_id.clone(),
        source_line_item_id: item.source_line_item_id.clone(),
        image_url: item.image_url.clone(),
        serial_number: item.serial_number.clone(),
    }
}

/// A stored registration as the API shows it.
pub fn registration(registration: Registration) -> pb::Registration {
    pb::Registration {
        customer_tags: registration.customer_tags(),
        id: registration.id.to_string(),
        registration_number: registration.registration_number.unwrap_or_default(),
        status: status(registration.status) as i32,
        customer_email: registration.customer_email,
        customer_name: registration.customer_name.unwrap_or_default(),
        customer_phone: registration.customer_phone.unwrap_or_default(),
        channel_name: registration.channel_name.unwrap_or_default(),
        form_slug: registration.form_slug,
        line_items: registration.line_items.into_iter().map(line_item).collect(),
        customer_provided_order_number: registration.customer_provided_order_number.unwrap_or_default(),
        purchase_date: registration.purchase_date.map(timestamp),
        referrer: registration.referrer.unwrap_or_default(),
        email_marketing_consent: registration.email_marketing_consent,
        email_marketing_consent_time: registration.email_marketing_consent_time.map(timestamp),
        custom_fields: registration.custom_fields,
        proof_of_purchase_urls: registration.proof_of_purchase_urls,
        warranty: registration.warranty.map(warranty),
        denial_reason: registration.denial_reason.unwrap_or_default(),
        create_time: Some(timestamp(registration.create_time)),
        update_time: Some(timestamp(registration.update_time)),
        review_time: registration.review_time.map(timestamp),
        cancel_time: registration.cancel_time.map(timestamp),
    }
}

fn line_item(item: RegisteredLineItem) -> pb::LineItem {
    pb::LineItem {
        sku: item.sku.unwrap_or_default(),
        name: item.name.unwrap_or_default(),
        quantity: item.quantity,
        product_id: item.product_id.unwrap_or_default(),
        variant_id: item.variant_id.unwrap_or_default(),
        source_line_item_id: item.source_line_item_id.unwrap_or_default(),
        image_url: item.image_url.unwrap_or_default(),
        serial_number: item.serial_number.unwrap_or_default(),
        warranty: item.warranty.map(warranty),
    }
}

fn warranty(warranty: Warranty) -> pb::Warranty {
    pb::Warranty {
        plan_id: warranty.plan_id,
        plan_name: warranty.plan_name,
        coverage_start: Some(timestamp(warranty.coverage_start)),
        coverage_end: Some(timestamp(warranty.coverage_end)),
    }
}

pub fn status(status: RegistrationStatus) -> pb::RegistrationStatus {
    match status {
        RegistrationStatus::Pending => pb::RegistrationStatus::Pending,
        RegistrationStatus::Approved => pb::RegistrationStatus::Approved,
        RegistrationStatus::Denied => pb::RegistrationStatus::Denied,
        RegistrationStatus::Expired => pb::RegistrationStatus::Expired,
        RegistrationStatus::Canceled => pb::RegistrationStatus::Canceled,
    }
}

/// A `status` filter: unspecified means no filter; `Err` for a value the API does not define.
pub fn parse_status_filter(raw: i32) -> Result<Option<RegistrationStatus>, String> {
    match pb::RegistrationStatus::try_from(raw) {
        Ok(pb::RegistrationStatus::Unspecified) => Ok(None),
        Ok(pb::RegistrationStatus::Pending) => Ok(Some(RegistrationStatus::Pending)),
        Ok(pb::RegistrationStatus::Approved) => Ok(Some(RegistrationStatus::Approved)),
        Ok(pb::RegistrationStatus::Denied) => Ok(Some(RegistrationStatus::Denied)),
        Ok(pb::RegistrationStatus::Expired) => Ok(Some(RegistrationStatus::Expired)),
        Ok(pb::RegistrationStatus::Canceled) => Ok(Some(RegistrationStatus::Canceled)),
        Err(_) => Err(format!("unknown registration status {raw}")),
    }
}

/// `status` as the `google.rpc.Status` a batch result carries, with its details.
pub fn rpc_status(status: &Status) -> tonic_types::pb::Status {
    // A `Status` built with details carries them as an encoded `google.rpc.Status`.
    let details = tonic_types::pb::Status::decode(status.details()).map(|s| s.details).unwrap_or_default();
    tonic_types::pb::Status { code: status.code() as i32, message: status.message().to_owned(), details }
}

#[cfg(test)]
mod tests {
    use tonic_types::{RpcStatusExt, StatusExt};

    use super::*;
    use crate::grpc::DOMAIN;

    #[test]
    fn a_bad_timestamp_is_named_and_left_out_of_the_draft() {
        let registration = pb::Registration {
            customer_email: "ada@example.com".into(),
            purchase_date: Some(Timestamp { seconds: 0, nanos: 2_000_000_000 }),
            ..Default::default()
        };
        let mut violations = Violations::within(DOMAIN, "requests[1]");
        let draft = draft(&registration, &mut violations);
        assert_eq!((draft.customer_email.as_str(), draft.purchase_date), ("ada@example.com", None));
        let status = violations.finish(Some(())).unwrap_err();
        let fields = status.get_error_details().bad_request().unwrap().field_violations.clone();
        assert_eq!(fields[0].field, "requests[1].registration.purchase_date");
    }

    #[test]
    fn a_status_keeps_its_details_as_a_google_rpc_status() {
        let status = shared::status::not_found("d", "SERIAL_NOT_FOUND", "serial_number", "SN-1");
        let rpc = rpc_status(&status);
        assert_eq!((rpc.code, rpc.message.as_str()), (tonic::Code::NotFound as i32, status.message()));
        assert_eq!(rpc.get_details_error_info().unwrap().reason, "SERIAL_NOT_FOUND");
        assert!(rpc.get_details_resource_info().is_some());
        let plain = rpc_status(&Status::internal("boom"));
        assert!(plain.details.is_empty());
    }

    #[test]
    fn unknown_status_filters_are_refused() {
        assert_eq!(parse_status_filter(0), Ok(None));
        assert_eq!(parse_status_filter(2), Ok(Some(RegistrationStatus::Approved)));
        assert!(parse_status_filter(42).is_err());
    }
}
