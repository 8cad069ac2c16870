//! The saga's backlog, for the `registration_claim_attempts_open` gauge.

use shared::db::StoreError;

use super::{Store, on_reader};

/// Attempts still CLAIMING: counted on the partial index `registrations_claiming`.
const OPEN_ATTEMPTS: &str = "SELECT COUNT(*) FROM registrations WHERE status = 'claiming'";

impl Store {
    /// Creation attempts not finished: being claimed, or left open for the recovery worker.
    pub async fn count_open_attempts(&self) -> Result<i64, StoreError> {
        let count: i64 = on_reader!(&self.db, c => sqlx::query_scalar(OPEN_ATTEMPTS).fetch_one(c))?;
        Ok(count)
    }
}
