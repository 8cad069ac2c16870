//! Bulk import of serials from CSV: the incremental reader, the header and row rules, and the
//! job's state machine. The steps of an upload are in [`crate::ops::import_serials`].

pub mod csv;
#[cfg(test)]
mod csv_properties;
mod job;
mod row;

pub use job::{
    CancelError, Ending, HEARTBEAT, ImportBatch, ImportId, ImportJob, ImportStoreError, JobState,
    MAX_KEPT_ERRORS, Started, WatchError, stale_after,
};
pub use row::{Column, Header, HeaderError, RowError, RowReason, parse_time};
