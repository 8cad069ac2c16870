//! A registration to create, parsed from the request.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::email::Email;
use super::field::{FieldError, Fields, Problem};
use super::identifier::{RegistrationId, SerialNumber};
use super::line_item::{LineItem, LineItemDraft};
use super::registration::{RegisteredLineItem, Registration};
use super::status::RegistrationStatus;
use super::text::{FormSlug, HttpUrl, MAX_LONG_TEXT, MAX_SHORT_TEXT, Text};

/// Most line items in one registration.
pub const MAX_LINE_ITEMS: usize = 50;
/// Most creations in one `BatchCreateRegistrations`.
pub const MAX_BATCH: usize = 100;
/// Most custom fields on one registration.
pub const MAX_CUSTOM_FIELDS: usize = 50;
/// Longest custom field key, in characters.
pub const MAX_CUSTOM_FIELD_KEY_LEN: usize = 64;
/// Longest custom field value, in characters.
pub const MAX_CUSTOM_FIELD_VALUE_LEN: usize = MAX_LONG_TEXT;
/// Most proof-of-purchase URLs on one registration.
pub const MAX_PROOF_URLS: usize = 10;
/// Longest phone number, in characters.
pub const MAX_PHONE_LEN: usize = 40;

/// A registration as the request carries it (the gRPC layer copies the proto fields, timestamps
/// already converted): empty strings are absent fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrationDraft {
    pub customer_email: String,
    pub customer_name: String,
    pub customer_phone: String,
    pub channel_name: String,
    pub form_slug: String,
    pub line_items: Vec<LineItemDraft>,
    pub customer_provided_order_number: String,
    pub purchase_date: Option<DateTime<Utc>>,
    pub referrer: String,
    pub email_marketing_consent: bool,
    pub email_marketing_consent_time: Option<DateTime<Utc>>,
    pub custom_fields: HashMap<String, String>,
    pub proof_of_purchase_urls: Vec<String>,
}

/// Custom fields: at most 50, keys 1-64 characters, values up to 2000, both trimmed and free of
/// control characters but tab and line breaks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomFields(BTreeMap<String, String>);

impl CustomFields {
    /// Parses the map, naming problems under `field`.
    pub fn parse(raw: &HashMap<String, String>, field: &str) -> Result<Self, Vec<FieldError>> {
        let mut fields = Fields::default();
        if raw.len() > MAX_CUSTOM_FIELDS {
            let count = Problem::Count { len: raw.len(), min: 0, max: MAX_CUSTOM_FIELDS };
            return Err(vec![FieldError::new(field, count)]);
        }
        let mut map = BTreeMap::new();
        for (key, value) in raw {
            let parsed_key = Text::parse(key, MAX_CUSTOM_FIELD_KEY_LEN).ok().flatten();
            let Some(parsed_key) = parsed_key else {
                let len = key.chars().count();
                fields.add(field, Problem::Key { len, max: MAX_CUSTOM_FIELD_KEY_LEN });
                continue;
            };
            if let Some(value) = fields.check(field, Text::parse_value(value, MAX_CUSTOM_FIELD_VALUE_LEN)) {
                map.insert(parsed_key.as_str().to_owned(), value);
            }
        }
        fields.finish(|| Some(Self(map)))
    }

    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }
}

/// Proof-of-purchase URLs: at most 10 http(s) URLs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProofUrls(Vec<HttpUrl>);

impl ProofUrls {
    /// Parses the list, naming problems `field[i]`; empty entries are refused.
    pub fn parse(raw: &[String], field: &str) -> Result<Self, Vec<FieldError>> {
        if raw.len() > MAX_PROOF_URLS {
            let count = Problem::Count { len: raw.len(), min: 0, max: MAX_PROOF_URLS };
            return Err(vec![FieldError::new(field, count)]);
        }
        let mut fields = Fields::default();
        let urls: Vec<Option<HttpUrl>> = raw
            .iter()
            .enumerate()
            .map(|(i, url)| match fields.check(format!("{field}[{i}]"), HttpUrl::parse(url)) {
                Some(None) => {
                    fields.add(format!("{field}[{i}]"), Problem::Required);
                    None
                }
                parsed => parsed.flatten(),
            })
            .collect();
        fields.finish(|| urls.into_iter().collect::<Option<Vec<_>>>().map(Self))
    }

    pub fn as_slice(&self) -> &[HttpUrl] {
        &self.0
    }
}

/// A valid registration to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRegistration {
    pub customer_email: Email,
    pub customer_name: Option<Text>,
    pub customer_phone: Option<Text>,
    pub channel_name: Option<Text>,
    pub form_slug: FormSlug,
    /// 1 to [`MAX_LINE_ITEMS`], no serial twice (case-insensitively); any of them may have no
    /// serial (a non-serialized product).
    pub line_items: Vec<LineItem>,
    pub customer_provided_order_number: Option<Text>,
    pub purchase_date: Option<DateTime<Utc>>,
    pub referrer: Option<Text>,
    pub email_marketing_consent: bool,
    pub email_marketing_consent_time: Option<DateTime<Utc>>,
    pub custom_fields: CustomFields,
    pub proof_of_purchase_urls: ProofUrls,
}

/// `registration.customer_email`, required.
pub(crate) fn customer_email(fields: &mut Fields, raw: &str) -> Option<Email> {
    if raw.trim().is_empty() {
        fields.add("registration.customer_email", Problem::Required);
        return None;
    }
    fields.check("registration.customer_email", Email::parse(raw))
}

/// An optional text field `registration.<field>` of at most `max` characters.
pub(crate) fn text(fields: &mut Fields, field: &str, raw: &str, max: usize) -> Option<Option<Text>> {
    fields.check(format!("registration.{field}"), Text::parse(raw, max))
}

impl NewRegistration {
    /// Whether any line item has a serial to claim: one without needs no saga.
    pub fn claims_serials(&self) -> bool {
        self.line_items.iter().any(|item| item.serial_number.is_some())
    }

    /// The serials to claim, in line item order.
    pub fn serial_numbers(&self) -> impl Iterator<Item = &SerialNumber> {
        self.line_items.iter().filter_map(|item| item.serial_number.as_ref())
    }

    /// The registration this asks for, as attempt `id` of `org` writes it at `now` once every
    /// serial is claimed: PENDING, its number still to be assigned, no warranty and no customer
    /// tags yet (the claimed serials bring them).
    pub fn requested(&self, id: &RegistrationId, org: &str, now: DateTime<Utc>) -> Registration {
        let owned = |value: &Option<Text>| value.as_ref().map(|t| t.as_str().to_owned());
        let line_items = self
            .line_items
            .iter()
            .map(|item| RegisteredLineItem {
                sku: owned(&item.sku),
                name: owned(&item.name),
                quantity: item.quantity,
                product_id: owned(&item.product_id),
                variant_id: owned(&item.variant_id),
                source_line_item_id: owned(&item.source_line_item_id),
                image_url: item.image_url.as_ref().map(|u| u.as_str().to_owned()),
                serial_number: item.serial_number.as_ref().map(|s| s.as_str().to_owned()),
                warranty: None,
                customer_tags: Vec::new(),
            })
            .collect();
        Registration {
            id: id.clone(),
            org_id: org.to_owned(),
            registration_number: None,
            status: RegistrationStatus::Pending,
            customer_email: self.customer_email.as_str().to_owned(),
            customer_name: owned(&self.customer_name),
            customer_phone: owned(&self.customer_phone),
            channel_name: owned(&self.channel_name),
            form_slug: self.form_slug.as_str().to_owned(),
            line_items,
            customer_provided_order_number: owned(&self.customer_provided_order_number),
            purchase_date: self.purchase_date,
            referrer: owned(&self.referrer),
            email_marketing_consent: self.email_marketing_consent,
            email_marketing_consent_time: self.email_marketing_consent_time,
            custom_fields: self.custom_fields.as_map().clone(),
            proof_of_purchase_urls: self
                .proof_of_purchase_urls
                .as_slice()
                .iter()
                .map(|u| u.as_str().to_owned())
                .collect(),
            warranty: None,
            denial_reason: None,
            create_time: now,
            update_time: now,
            review_time: None,
            cancel_time: None,
        }
    }

    /// Parses `draft`, reporting every invalid field (named `registration.…`).
    pub fn parse(draft: &RegistrationDraft) -> Result<Self, Vec<FieldError>> {
        let mut fields = Fields::default();
        let customer_email = customer_email(&mut fields, &draft.customer_email);
        let customer_name = text(&mut fields, "customer_name", &draft.customer_name, MAX_SHORT_TEXT);
        let customer_phone = text(&mut fields, "customer_phone", &draft.customer_phone, MAX_PHONE_LEN);
        let channel_name = text(&mut fields, "channel_name", &draft.channel_name, MAX_SHORT_TEXT);
        let form_slug = fields.check("registration.form_slug", FormSlug::parse(&draft.form_slug));
        let order_number = text(
            &mut fields,
            "customer_provided_order_number",
            &draft.customer_provided_order_number,
            MAX_SHORT_TEXT,
        );
        let referrer = text(&mut fields, "referrer", &draft.referrer, MAX_LONG_TEXT);
        let line_items = line_items(&mut fields, &draft.line_items);
        let custom_fields = CustomFields::parse(&draft.custom_fields, "registration.custom_fields")
            .map_err(|errors| fields.extend(errors))
            .ok();
        let proof_urls =
            ProofUrls::parse(&draft.proof_of_purchase_urls, "registration.proof_of_purchase_urls")
                .map_err(|errors| fields.extend(errors))
                .ok();
        fields.finish(|| {
            Some(Self {
                customer_email: customer_email?,
                customer_name: customer_name?,
                customer_phone: customer_phone?,
                channel_name: channel_name?,
                form_slug: form_slug?.unwrap_or_default(),
                line_items: line_items?,
                customer_provided_order_number: order_number?,
                purchase_date: draft.purchase_date,
                referrer: referrer?,
                email_marketing_consent: draft.email_marketing_consent,
                email_marketing_consent_time: draft.email_marketing_consent_time,
                custom_fields: custom_fields?,
                proof_of_purchase_urls: proof_urls?,
            })
        })
    }
}

/// 1 to 50 valid line items, no serial number twice (line items without one are free to repeat).
fn line_items(fields: &mut Fields, drafts: &[LineItemDraft]) -> Option<Vec<LineItem>> {
    if drafts.is_empty() || drafts.len() > MAX_LINE_ITEMS {
        let count = Problem::Count { len: drafts.len(), min: 1, max: MAX_LINE_ITEMS };
        fields.add("registration.line_items", count);
        return None;
    }
    let mut items = Vec::with_capacity(drafts.len());
    let mut first_of: HashMap<String, usize> = HashMap::new();
    for (i, draft) in drafts.iter().enumerate() {
        let path = format!("registration.line_items[{i}]");
        match LineItem::parse(draft, &path) {
            Ok(item) => {
                let Some(serial) = &item.serial_number else {
                    items.push(item);
                    continue;
                };
                let first = *first_of.entry(serial.key().to_owned()).or_insert(i);
                if first != i {
                    let repeated = format!("registration.line_items[{first}].serial_number");
                    fields.add(format!("{path}.serial_number"), Problem::Repeated(repeated));
                }
                items.push(item);
            }
            Err(errors) => fields.extend(errors),
        }
    }
    (items.len() == drafts.len()).then_some(items)
}

#[cfg(test)]
mod tests;
