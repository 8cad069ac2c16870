//! `UpdateRegistration`: the customer and custom fields a [`RegistrationPatch`] names.

use futures::TryFutureExt;

use crate::domain::{Ctx, Registration, RegistrationId, RegistrationPatch, RequestKey, Text, UpdateError};
use crate::store::{
    Store, load, on_tx,
    request_keys::begin_write,
    rows::{micros, to_json},
};

/// Each field is set only when its flag (the odd parameters from $4) is true.
const UPDATE: &str = "UPDATE registrations SET update_time = $3, \
     customer_email = CASE WHEN $4 THEN CAST($5 AS TEXT) ELSE customer_email END, \
     customer_email_key = CASE WHEN $4 THEN CAST($6 AS TEXT) ELSE customer_email_key END, \
     customer_name = CASE WHEN $7 THEN CAST($8 AS TEXT) ELSE customer_name END, \
     customer_phone = CASE WHEN $9 THEN CAST($10 AS TEXT) ELSE customer_phone END, \
     order_number = CASE WHEN $11 THEN CAST($12 AS TEXT) ELSE order_number END, \
     email_marketing_consent = CASE WHEN $13 THEN CAST($14 AS BOOLEAN) ELSE email_marketing_consent END, \
     email_marketing_consent_time = CASE WHEN $15 THEN CAST($16 AS BIGINT) ELSE email_marketing_consent_time END, \
     custom_fields = CASE WHEN $17 THEN CAST($18 AS TEXT) ELSE custom_fields END, \
     proof_urls = CASE WHEN $19 THEN CAST($20 AS TEXT) ELSE proof_urls END \
     WHERE org_id = $1 AND id = $2 AND status IN ('pending', 'approved', 'denied', 'expired', 'canceled')";

fn text(value: &Option<Option<Text>>) -> Option<&str> {
    value.as_ref().and_then(|t| t.as_ref()).map(Text::as_str)
}

impl Store {
    /// Changes the fields `patch` names, in any public state; the rest stays as it is.
    pub async fn update_registration(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        id: &RegistrationId,
        patch: &RegistrationPatch,
    ) -> Result<Registration, UpdateError> {
        let mut write = begin_write!(&self.db, ctx, key);
        let custom_fields = patch.custom_fields.as_ref().map(|f| to_json(f.as_map())).transpose()?;
        let proof_urls = patch.proof_of_purchase_urls.as_ref().map(to_json).transpose()?;
        let consent_time = patch.email_marketing_consent_time.flatten().map(micros);
        let updated = on_tx!(&mut write.tx, c => sqlx::query(UPDATE)
            .bind(ctx.org)
            .bind(id.as_str())
            .bind(micros(ctx.now))
            .bind(patch.customer_email.is_some())
            .bind(patch.customer_email.as_ref().map(|e| e.as_str()))
            .bind(patch.customer_email.as_ref().map(|e| e.key()))
            .bind(patch.customer_name.is_some())
            .bind(text(&patch.customer_name))
            .bind(patch.customer_phone.is_some())
            .bind(text(&patch.customer_phone))
            .bind(patch.customer_provided_order_number.is_some())
            .bind(text(&patch.customer_provided_order_number))
            .bind(patch.email_marketing_consent.is_some())
            .bind(patch.email_marketing_consent.unwrap_or(false))
            .bind(patch.email_marketing_consent_time.is_some())
            .bind(consent_time)
            .bind(custom_fields.is_some())
            .bind(custom_fields.as_deref())
            .bind(proof_urls.is_some())
            .bind(proof_urls.as_deref())
            .execute(c).map_ok(|r| r.rows_affected()))?;
        if updated == 0 {
            return Err(UpdateError::NotFound);
        }
        let registration = load::existing(&mut write.tx, ctx.org, id).await?;
        write.commit(&registration).await?;
        Ok(registration)
    }
}
