//! `ListRegistrations`: filters, order, and keyset cursors that page both ways.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::email::Email;
use super::field::{FieldError, Fields};
use super::identifier::RegistrationId;
use super::number::RegistrationNumber;
use super::registration::Registration;
use super::status::RegistrationStatus;
use super::text::{FormSlug, MAX_SHORT_TEXT, Text};

/// The filters as the request carries them: empty strings filter nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterDraft {
    pub customer_email: String,
    pub channel_name: String,
    pub registration_number: String,
    pub form_slug: String,
    pub customer_tag: String,
}

/// Longest customer tag, in characters (serial-svc's limit).
pub const MAX_CUSTOMER_TAG_LEN: usize = 64;

/// `ListRegistrations` filters; every one that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationFilter {
    /// Matched case-insensitively.
    pub customer_email: Option<Email>,
    /// Matched exactly.
    pub channel_name: Option<Text>,
    /// Matched case-insensitively (numbers are uppercase).
    pub registration_number: Option<RegistrationNumber>,
    pub form_slug: Option<FormSlug>,
    pub status: Option<RegistrationStatus>,
    /// One of the registration's customer tags, matched exactly (case included). Left out of
    /// the serialized filter when unset, so that page tokens issued before it existed still
    /// match their query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_tag: Option<Text>,
}

impl RegistrationFilter {
    /// Parses the filters (named as the request's top-level fields); `status` comes typed.
    pub fn parse(draft: &FilterDraft, status: Option<RegistrationStatus>) -> Result<Self, Vec<FieldError>> {
        let mut fields = Fields::default();
        let optional = |raw: &str| !raw.trim().is_empty();
        let customer_email = if optional(&draft.customer_email) {
            fields.check("customer_email", Email::parse(&draft.customer_email)).map(Some)
        } else {
            Some(None)
        };
        let channel_name = fields.check("channel_name", Text::parse(&draft.channel_name, MAX_SHORT_TEXT));
        let registration_number = if optional(&draft.registration_number) {
            fields
                .check("registration_number", RegistrationNumber::parse(&draft.registration_number))
                .map(Some)
        } else {
            Some(None)
        };
        let form_slug = fields.check("form_slug", FormSlug::parse(&draft.form_slug));
        let customer_tag =
            fields.check("customer_tag", Text::parse(&draft.customer_tag, MAX_CUSTOMER_TAG_LEN));
        fields.finish(|| {
            Some(Self {
                customer_email: customer_email?,
                channel_name: channel_name?,
                registration_number: registration_number?,
                form_slug: form_slug?,
                status,
                customer_tag: customer_tag?,
            })
        })
    }
}

/// List order by create time (ties broken by id, the same way).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Order {
    Asc,
    /// Newest first: the default.
    #[default]
    Desc,
}

/// An `order_by` other than `create_time [asc|desc]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be \"create_time asc\" or \"create_time desc\", got {0:?}")]
pub struct OrderError(pub String);

impl Order {
    /// `""` is the default (desc); `create_time` alone is ascending (AIP-132).
    pub fn parse(raw: &str) -> Result<Self, OrderError> {
        let words: Vec<String> = raw.split_whitespace().map(str::to_ascii_lowercase).collect();
        match words.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            [] => Ok(Self::Desc),
            ["create_time"] | ["create_time", "asc"] => Ok(Self::Asc),
            ["create_time", "desc"] => Ok(Self::Desc),
            _ => Err(OrderError(raw.to_owned())),
        }
    }
}

/// A position in a list: the create time and id of a registration (the keyset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub create_time: DateTime<Utc>,
    pub id: RegistrationId,
}

impl Registration {
    /// The registration's position in lists.
    pub fn cursor(&self) -> Cursor {
        Cursor { create_time: self.create_time, id: self.id.clone() }
    }
}

/// Where a page starts, relative to the requested order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PageBound {
    /// The rows after this cursor (a `next_page_token`).
    After(Cursor),
    /// The rows just before this cursor (a `previous_page_token`).
    Before(Cursor),
}

/// One page, always in the requested order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationPage {
    pub registrations: Vec<Registration>,
    /// Pass as [`PageBound::After`] for the next page; `None` on the last.
    pub next: Option<Cursor>,
    /// Pass as [`PageBound::Before`] for the previous page; `None` on the first.
    pub previous: Option<Cursor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_by_accepts_create_time_in_either_direction() {
        assert_eq!(Order::parse(""), Ok(Order::Desc));
        assert_eq!(Order::parse("create_time desc"), Ok(Order::Desc));
        assert_eq!(Order::parse("  CREATE_TIME   ASC "), Ok(Order::Asc));
        assert_eq!(Order::parse("create_time"), Ok(Order::Asc));
        assert!(Order::parse("update_time desc").is_err());
        assert!(Order::parse("create_time sideways").is_err());
    }

    #[test]
    fn filters_are_parsed_and_named_by_their_request_field() {
        let draft = FilterDraft {
            customer_email: "Ada@Example.com".into(),
            registration_number: "acme-reg-00001".into(),
            ..FilterDraft::default()
        };
        let filter = RegistrationFilter::parse(&draft, Some(RegistrationStatus::Pending)).unwrap();
        assert_eq!(filter.customer_email.unwrap().key(), "ada@example.com");
        assert_eq!(filter.registration_number.unwrap().as_str(), "ACME-REG-00001");
        assert_eq!(filter.channel_name, None);
        let bad = FilterDraft {
            customer_email: "x".into(),
            form_slug: "a b".into(),
            customer_tag: "t".repeat(65),
            ..FilterDraft::default()
        };
        let errors = RegistrationFilter::parse(&bad, None).unwrap_err();
        assert_eq!(
            errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            ["customer_email", "form_slug", "customer_tag"]
        );
        let tagged = FilterDraft { customer_tag: " VIP ".into(), ..FilterDraft::default() };
        let tagged = RegistrationFilter::parse(&tagged, None).unwrap();
        assert_eq!(tagged.customer_tag.as_ref().map(Text::as_str), Some("VIP"), "trimmed, case kept");
    }

    #[test]
    fn an_unset_tag_filter_serializes_as_before_it_existed() {
        let filter = serde_json::to_string(&RegistrationFilter::default()).unwrap();
        assert!(!filter.contains("customer_tag"), "{filter}");
    }
}
