//! `request_id` replay: the machinery is [`shared::db::request_keys`], shared with the other
//! service; this service's migrations define its `request_keys` table.

pub(crate) use shared::begin_write;

use super::Store;
use crate::domain::StoreError;

impl Store {
    /// Forgets request keys created before `created_before`; returns how many.
    pub async fn purge_request_keys(
        &self,
        created_before: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, StoreError> {
        shared::db::request_keys::purge(&self.db, created_before).await
    }
}
