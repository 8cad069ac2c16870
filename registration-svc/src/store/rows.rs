//! Row types shared by both backends, and their conversion to domain values.

use chrono::{DateTime, Utc};
use serde::{Serialize, de::DeserializeOwned};

use crate::domain::{
    Intent, IntentKind, IntentState, RegisteredLineItem, Registration, RegistrationId, RegistrationStatus,
    SerialNumber, StoreError, Warranty,
};

/// The columns of a `registrations` row, in [`RegistrationRow`]'s order, for `concat!`.
macro_rules! registration_columns {
    () => {
        "id, org_id, registration_number, status, customer_email, customer_name, customer_phone, \
         channel_name, form_slug, order_number, purchase_date, referrer, email_marketing_consent, \
         email_marketing_consent_time, custom_fields, proof_urls, warranty, denial_reason, create_time, \
         update_time, review_time, cancel_time"
    };
}

/// The columns of an `intents` row, in [`IntentRow`]'s order.
macro_rules! intent_columns {
    () => {
        "id, org_id, registration_id, kind, serial_number, replaces, replaced_by, state, attempts, \
         next_attempt_time, last_error, failure, create_time, update_time"
    };
}

/// A registration's line items as one JSON array text column `items`, in position order, each
/// an object of [`LineItemRow`]'s fields: lets a read fetch a registration and its line items
/// in one statement (one round trip, one snapshot, no transaction). Correlated with the outer
/// `registrations` row. An item's warranty (a JSON text column) is embedded as JSON, not as a
/// string holding JSON, so a read parses it once; so are its customer tags (a JSON array).
macro_rules! items_postgres {
    () => {
        "COALESCE((SELECT json_agg(json_build_object('sku', i.sku, 'name', i.name, 'quantity', i.quantity, \
         'product_id', i.product_id, 'variant_id', i.variant_id, 'source_line_item_id', i.source_line_item_id, \
         'image_url', i.image_url, 'serial_number', i.serial_number, 'warranty', i.warranty::json, \
         'customer_tags', i.customer_tags::json) ORDER BY i.position) \
         FROM line_items i WHERE i.registration_id = registrations.id), '[]')::text AS items"
    };
}
macro_rules! items_sqlite {
    () => {
        "(SELECT json_group_array(json_object('sku', i.sku, 'name', i.name, 'quantity', i.quantity, \
         'product_id', i.product_id, 'variant_id', i.variant_id, 'source_line_item_id', i.source_line_item_id, \
         'image_url', i.image_url, 'serial_number', i.serial_number, 'warranty', json(i.warranty), \
         'customer_tags', json(i.customer_tags)) ORDER BY i.position) \
         FROM line_items i WHERE i.registration_id = registrations.id) AS items"
    };
}

/// The `[postgres, sqlite]` statements reading one registration with its line items, by
/// `$where` (`$1` is always the org).
macro_rules! registration_with_items {
    ($where:literal) => {
        [
            concat!(
                "SELECT ",
                $crate::store::rows::registration_columns!(),
                ", ",
                $crate::store::rows::items_postgres!(),
                " FROM registrations WHERE org_id = $1 AND ",
                $where
            ),
            concat!(
                "SELECT ",
                $crate::store::rows::registration_columns!(),
                ", ",
                $crate::store::rows::items_sqlite!(),
                " FROM registrations WHERE org_id = $1 AND ",
                $where
            ),
        ]
    };
}

pub(crate) use {
    intent_columns, items_postgres, items_sqlite, registration_columns, registration_with_items,
};

pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn time(us: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {us} out of range")))
}

pub(crate) fn opt_time(us: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    us.map(time).transpose()
}

/// `value` as the JSON text stored in a column.
pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|err| StoreError::Corrupt(format!("value not serializable: {err}")))
}

/// The value of a JSON text column; `what` names it in the error (built only on an error: a
/// read decodes several columns per row).
pub(crate) fn from_json<T: DeserializeOwned>(
    text: &str,
    what: impl FnOnce() -> String,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|err| StoreError::Corrupt(format!("{}: {err}", what())))
}

fn opt_json<T: DeserializeOwned>(
    text: Option<&str>,
    what: impl FnOnce() -> String,
) -> Result<Option<T>, StoreError> {
    text.map(|t| from_json(t, what)).transpose()
}

pub(crate) fn registration_id(raw: &str) -> Result<RegistrationId, StoreError> {
    RegistrationId::parse(raw).map_err(|_| StoreError::Corrupt(format!("registration id {raw:?}")))
}

pub(crate) fn serial(raw: &str) -> Result<SerialNumber, StoreError> {
    SerialNumber::parse(raw).map_err(|_| StoreError::Corrupt(format!("serial number {raw:?}")))
}

/// The columns of a registration that a completion writes and a read decodes as they are (JSON
/// as text, times in microseconds).
#[derive(Clone, Serialize, sqlx::FromRow)]
pub(crate) struct RegistrationColumns {
    customer_name: Option<String>,
    customer_phone: Option<String>,
    channel_name: Option<String>,
    form_slug: String,
    order_number: Option<String>,
    purchase_date: Option<i64>,
    referrer: Option<String>,
    email_marketing_consent: bool,
    email_marketing_consent_time: Option<i64>,
    custom_fields: String,
    proof_urls: String,
    warranty: Option<String>,
}

impl RegistrationColumns {
    /// `registration`'s columns as a completion writes them, with its `warranty` (JSON text).
    pub fn written(registration: &Registration, warranty: Option<String>) -> Result<Self, StoreError> {
        Ok(Self {
            customer_name: registration.customer_name.clone(),
            customer_phone: registration.customer_phone.clone(),
            channel_name: registration.channel_name.clone(),
            form_slug: registration.form_slug.clone(),
            order_number: registration.customer_provided_order_number.clone(),
            purchase_date: registration.purchase_date.map(micros),
            referrer: registration.referrer.clone(),
            email_marketing_consent: registration.email_marketing_consent,
            email_marketing_consent_time: registration.email_marketing_consent_time.map(micros),
            custom_fields: to_json(&registration.custom_fields)?,
            proof_urls: to_json(&registration.proof_of_purchase_urls)?,
            warranty,
        })
    }
}

#[derive(Clone, sqlx::FromRow)]
pub(crate) struct RegistrationRow {
    pub id: String,
    org_id: String,
    registration_number: Option<String>,
    status: String,
    customer_email: String,
    #[sqlx(flatten)]
    columns: RegistrationColumns,
    denial_reason: Option<String>,
    create_time: i64,
    update_time: i64,
    review_time: Option<i64>,
    cancel_time: Option<i64>,
}

impl RegistrationRow {
    /// The registration, without its line items (see `load`).
    pub fn into_domain(self) -> Result<Registration, StoreError> {
        let id = &self.id;
        let what = |field: &'static str| move || format!("{field} of registration {id}");
        let status = RegistrationStatus::from_db(&self.status)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown status {:?}", self.status)))?;
        let c = self.columns;
        Ok(Registration {
            id: registration_id(&self.id)?,
            registration_number: self.registration_number,
            status,
            customer_email: self.customer_email,
            customer_name: c.customer_name,
            customer_phone: c.customer_phone,
            channel_name: c.channel_name,
            form_slug: c.form_slug,
            line_items: Vec::new(),
            customer_provided_order_number: c.order_number,
            purchase_date: opt_time(c.purchase_date)?,
            referrer: c.referrer,
            email_marketing_consent: c.email_marketing_consent,
            email_marketing_consent_time: opt_time(c.email_marketing_consent_time)?,
            custom_fields: from_json(&c.custom_fields, what("custom_fields"))?,
            proof_of_purchase_urls: from_json(&c.proof_urls, what("proof_urls"))?,
            warranty: opt_json(c.warranty.as_deref(), what("warranty"))?,
            denial_reason: self.denial_reason,
            create_time: time(self.create_time)?,
            update_time: time(self.update_time)?,
            review_time: opt_time(self.review_time)?,
            cancel_time: opt_time(self.cancel_time)?,
            org_id: self.org_id,
        })
    }
}

/// A registration row with its line items as JSON (see [`items_postgres`]).
#[derive(Clone, sqlx::FromRow)]
pub(crate) struct RegistrationWithItems {
    #[sqlx(flatten)]
    row: RegistrationRow,
    items: String,
}

impl RegistrationWithItems {
    pub fn into_domain(self) -> Result<Registration, StoreError> {
        let items: Vec<LineItemRow> = from_json(&self.items, || format!("line items of {}", self.row.id))?;
        let mut registration = self.row.into_domain()?;
        registration.line_items = items.into_iter().map(LineItemRow::into_domain).collect();
        Ok(registration)
    }
}

/// A line item's columns: as [`items_postgres`] renders them, its warranty (`W`) and customer
/// tags (`T`) JSON values; and as a completion writes them, those two as JSON text (see
/// [`LineItemRow::written`]).
#[derive(Serialize, serde::Deserialize)]
pub(crate) struct LineItemRow<W = Warranty, T = Vec<String>> {
    sku: Option<String>,
    name: Option<String>,
    quantity: i32,
    product_id: Option<String>,
    variant_id: Option<String>,
    source_line_item_id: Option<String>,
    image_url: Option<String>,
    serial_number: Option<String>,
    warranty: Option<W>,
    customer_tags: Option<T>,
}

impl LineItemRow {
    pub fn into_domain(self) -> RegisteredLineItem {
        RegisteredLineItem {
            sku: self.sku,
            name: self.name,
            quantity: self.quantity,
            product_id: self.product_id,
            variant_id: self.variant_id,
            source_line_item_id: self.source_line_item_id,
            image_url: self.image_url,
            serial_number: self.serial_number,
            warranty: self.warranty,
            customer_tags: self.customer_tags.unwrap_or_default(),
        }
    }
}

impl LineItemRow<String, String> {
    /// `item` as a completion writes it, with `warranty` (JSON text) and its customer tags as
    /// JSON text (`None` for none).
    pub fn written(item: &RegisteredLineItem, warranty: Option<String>) -> Result<Self, StoreError> {
        Ok(Self {
            sku: item.sku.clone(),
            name: item.name.clone(),
            quantity: item.quantity,
            product_id: item.product_id.clone(),
            variant_id: item.variant_id.clone(),
            source_line_item_id: item.source_line_item_id.clone(),
            image_url: item.image_url.clone(),
            serial_number: item.serial_number.clone(),
            warranty,
            customer_tags: Some(&item.customer_tags)
                .filter(|tags| !tags.is_empty())
                .map(to_json)
                .transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct IntentRow {
    id: i64,
    org_id: String,
    registration_id: String,
    kind: String,
    serial_number: String,
    replaces: Option<String>,
    replaced_by: Option<String>,
    state: String,
    attempts: i32,
    next_attempt_time: i64,
    last_error: Option<String>,
    failure: Option<String>,
    create_time: i64,
    update_time: i64,
}

impl IntentRow {
    pub fn into_domain(self) -> Result<Intent, StoreError> {
        let kind = IntentKind::from_db(&self.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown intent kind {:?}", self.kind)))?;
        let state = IntentState::from_db(&self.state)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown intent state {:?}", self.state)))?;
        Ok(Intent {
            id: self.id,
            registration_id: registration_id(&self.registration_id)?,
            kind,
            serial_number: serial(&self.serial_number)?,
            replaces: self.replaces.as_deref().map(serial).transpose()?,
            replaced_by: self.replaced_by.as_deref().map(serial).transpose()?,
            state,
            attempts: self.attempts,
            next_attempt_time: time(self.next_attempt_time)?,
            last_error: self.last_error,
            failure: opt_json(self.failure.as_deref(), || format!("failure of intent {}", self.id))?,
            create_time: time(self.create_time)?,
            update_time: time(self.update_time)?,
            org_id: self.org_id,
        })
    }
}

/// Converts a batch of rows, failing on the first unreadable one.
pub(crate) fn all<R, T>(
    rows: Vec<R>,
    convert: impl Fn(R) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows.into_iter().map(convert).collect()
}
