//! `ResetSerial`: the registration holding a serial loses its customer's data, becomes
//! CANCELED and releases every serial it held, so the serial can be registered again.

use futures::TryFutureExt;

use crate::domain::{Ctx, Registration, RequestKey, ResetError, SerialNumber, Transition};
use crate::store::{
    Store, load, on_tx,
    release::{from_states, holder, lock, release_holdings},
    request_keys::begin_write,
    rows::micros,
};

/// Erases the customer's data: email, name, phone, order number, referrer, marketing consent,
/// custom fields and proof-of-purchase URLs.
const RESET: &str = "UPDATE registrations SET status = $3, cancel_time = $4, update_time = $4, \
     customer_email = '', customer_email_key = '', customer_name = NULL, customer_phone = NULL, \
     order_number = NULL, referrer = NULL, email_marketing_consent = FALSE, email_marketing_consent_time = NULL, \
     custom_fields = '{}', proof_urls = '[]' \
     WHERE org_id = $1 AND id = $2 AND status IN ($5, $6)";

impl Store {
    /// Resets the registration of the org that holds `serial`.
    pub async fn reset_serial(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        serial: &SerialNumber,
    ) -> Result<Registration, ResetError> {
        let mut write = begin_write!(&self.db, ctx, key);
        let tx = &mut write.tx;
        let id = holder(tx, ctx.org, serial).await?.ok_or(ResetError::NotHeld)?;
        lock(tx, ctx.org, &id).await?;
        // Under the lock: a swap may have moved the serial away while we waited.
        if holder(tx, ctx.org, serial).await?.as_ref() != Some(&id) {
            return Err(ResetError::NotHeld);
        }
        let (from_a, from_b) = from_states(Transition::Reset);
        let reset = on_tx!(tx, c => sqlx::query(RESET)
            .bind(ctx.org)
            .bind(id.as_str())
            .bind(Transition::Reset.target().as_str())
            .bind(micros(ctx.now))
            .bind(from_a)
            .bind(from_b)
            .execute(c).map_ok(|r| r.rows_affected()))?;
        if reset == 0 {
            return Err(ResetError::NotHeld);
        }
        release_holdings(tx, ctx.org, &id, ctx.now).await?;
        let registration = load::existing(tx, ctx.org, &id).await?;
        write.commit(&registration).await?;
        Ok(registration)
    }
}
