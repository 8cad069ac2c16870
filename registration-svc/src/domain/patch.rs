//! `UpdateRegistration`: the customer and custom fields an update mask may name.

use chrono::{DateTime, Utc};

use super::email::Email;
use super::field::{FieldError, Fields, Problem};
use super::new_registration::{
    CustomFields, MAX_PHONE_LEN, ProofUrls, RegistrationDraft, customer_email, text,
};
use super::text::{MAX_SHORT_TEXT, Text};

/// A field `UpdateRegistration` may change. Status, serials, line items, the purchase date
/// (the warranty depends on it), channel and form are not among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpdatableField {
    CustomerEmail,
    CustomerName,
    CustomerPhone,
    CustomerProvidedOrderNumber,
    EmailMarketingConsent,
    EmailMarketingConsentTime,
    CustomFields,
    ProofOfPurchaseUrls,
}

impl UpdatableField {
    pub const ALL: [Self; 8] = [
        Self::CustomerEmail,
        Self::CustomerName,
        Self::CustomerPhone,
        Self::CustomerProvidedOrderNumber,
        Self::EmailMarketingConsent,
        Self::EmailMarketingConsentTime,
        Self::CustomFields,
        Self::ProofOfPurchaseUrls,
    ];

    /// The field's name in the `Registration` message, as update masks spell it.
    pub fn path(self) -> &'static str {
        match self {
            Self::CustomerEmail => "customer_email",
            Self::CustomerName => "customer_name",
            Self::CustomerPhone => "customer_phone",
            Self::CustomerProvidedOrderNumber => "customer_provided_order_number",
            Self::EmailMarketingConsent => "email_marketing_consent",
            Self::EmailMarketingConsentTime => "email_marketing_consent_time",
            Self::CustomFields => "custom_fields",
            Self::ProofOfPurchaseUrls => "proof_of_purchase_urls",
        }
    }

    pub fn from_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.path() == path)
    }

    /// Whether `draft` carries a value for the field (proto3: not the default).
    fn is_set(self, draft: &RegistrationDraft) -> bool {
        match self {
            Self::CustomerEmail => !draft.customer_email.trim().is_empty(),
            Self::CustomerName => !draft.customer_name.trim().is_empty(),
            Self::CustomerPhone => !draft.customer_phone.trim().is_empty(),
            Self::CustomerProvidedOrderNumber => !draft.customer_provided_order_number.trim().is_empty(),
            Self::EmailMarketingConsent => draft.email_marketing_consent,
            Self::EmailMarketingConsentTime => draft.email_marketing_consent_time.is_some(),
            Self::CustomFields => !draft.custom_fields.is_empty(),
            Self::ProofOfPurchaseUrls => !draft.proof_of_purchase_urls.is_empty(),
        }
    }
}

/// The changes of an update: `None` leaves a field as it is; `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrationPatch {
    pub customer_email: Option<Email>,
    pub customer_name: Option<Option<Text>>,
    pub customer_phone: Option<Option<Text>>,
    pub customer_provided_order_number: Option<Option<Text>>,
    pub email_marketing_consent: Option<bool>,
    pub email_marketing_consent_time: Option<Option<DateTime<Utc>>>,
    pub custom_fields: Option<CustomFields>,
    pub proof_of_purchase_urls: Option<ProofUrls>,
}

impl RegistrationPatch {
    /// The fields of `draft` that `mask` names (AIP-134): an empty mask means every updatable
    /// field `draft` sets, `*` every updatable field. A path naming anything else is refused
    /// on `update_mask`; values are named `registration.…` like on creation.
    pub fn parse(draft: &RegistrationDraft, mask: &[String]) -> Result<Self, Vec<FieldError>> {
        let mut fields = Fields::default();
        let named: Vec<UpdatableField> = if mask.is_empty() {
            UpdatableField::ALL.into_iter().filter(|f| f.is_set(draft)).collect()
        } else if mask.iter().any(|p| p.trim() == "*") {
            UpdatableField::ALL.to_vec()
        } else {
            mask.iter()
                .filter_map(|path| {
                    let field = UpdatableField::from_path(path.trim());
                    if field.is_none() {
                        fields.add("update_mask", Problem::NotUpdatable(path.trim().to_owned()));
                    }
                    field
                })
                .collect()
        };
        let mut patch = Self::default();
        for field in named {
            match field {
                UpdatableField::CustomerEmail => {
                    patch.customer_email = customer_email(&mut fields, &draft.customer_email);
                }
                UpdatableField::CustomerName => {
                    patch.customer_name =
                        text(&mut fields, field.path(), &draft.customer_name, MAX_SHORT_TEXT);
                }
                UpdatableField::CustomerPhone => {
                    patch.customer_phone =
                        text(&mut fields, field.path(), &draft.customer_phone, MAX_PHONE_LEN);
                }
                UpdatableField::CustomerProvidedOrderNumber => {
                    let raw = &draft.customer_provided_order_number;
                    patch.customer_provided_order_number =
                        text(&mut fields, field.path(), raw, MAX_SHORT_TEXT);
                }
                UpdatableField::EmailMarketingConsent => {
                    patch.email_marketing_consent = Some(draft.email_marketing_consent);
                }
                UpdatableField::EmailMarketingConsentTime => {
                    patch.email_marketing_consent_time = Some(draft.email_marketing_consent_time);
                }
                UpdatableField::CustomFields => {
                    patch.custom_fields =
                        CustomFields::parse(&draft.custom_fields, "registration.custom_fields")
                            .map_err(|errors| fields.extend(errors))
                            .ok();
                }
                UpdatableField::ProofOfPurchaseUrls => {
                    let raw = &draft.proof_of_purchase_urls;
                    patch.proof_of_purchase_urls =
                        ProofUrls::parse(raw, "registration.proof_of_purchase_urls")
                            .map_err(|errors| fields.extend(errors))
                            .ok();
                }
            }
        }
        fields.finish(|| Some(patch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(paths: &[&str]) -> Vec<String> {
        paths.iter().map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn only_the_masked_fields_change_and_an_empty_value_clears() {
        let draft = RegistrationDraft {
            customer_email: "new@example.com".into(),
            customer_name: String::new(),
            customer_phone: "+1 555 0100".into(),
            ..RegistrationDraft::default()
        };
        let patch = RegistrationPatch::parse(&draft, &mask(&["customer_name", "customer_phone"])).unwrap();
        assert_eq!(patch.customer_email, None, "not in the mask");
        assert_eq!(patch.customer_name, Some(None), "cleared");
        assert_eq!(patch.customer_phone.unwrap().unwrap().as_str(), "+1 555 0100");
    }

    #[test]
    fn an_empty_mask_takes_every_set_field_and_a_star_every_field() {
        let draft = RegistrationDraft { customer_name: "Ada".into(), ..RegistrationDraft::default() };
        let patch = RegistrationPatch::parse(&draft, &[]).unwrap();
        assert!(
            patch.customer_name.is_some() && patch.customer_email.is_none() && patch.custom_fields.is_none()
        );
        let errors = RegistrationPatch::parse(&draft, &mask(&["*"])).unwrap_err();
        assert_eq!(errors[0].field, "registration.customer_email", "a star clears nothing required");
    }

    #[test]
    fn paths_outside_the_customer_fields_are_refused_on_the_mask() {
        let errors =
            RegistrationPatch::parse(&RegistrationDraft::default(), &mask(&["status", "line_items"]))
                .unwrap_err();
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0], FieldError::new("update_mask", Problem::NotUpdatable("status".into())));
    }
}
