//! `ResetSerial`: the registration holding a serial is canceled with its customer's data
//! erased, and its serials released (as for a cancel, see `review`).

use super::Saga;
use crate::domain::{Ctx, Registration, RequestKey, ResetError, SerialNumber};

impl Saga {
    /// The registration holding `serial` canceled, its customer's data erased, and its serials
    /// released with the caller's `bearer`.
    pub async fn reset(
        &self,
        ctx: &Ctx<'_>,
        bearer: &str,
        key: Option<&RequestKey>,
        serial: &SerialNumber,
    ) -> Result<Registration, ResetError> {
        let reset = self.store.reset_serial(ctx, key, serial).await?;
        Ok(self.released(ctx, bearer, reset).await)
    }
}
