//! The database failure both services carry in their operation errors, and which of them are
//! worth a retry.

use std::sync::Arc;

/// A database failure: the cause is logged, never sent to the caller.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// The failure of a statement that answered several callers at once (the SQLite writer's
    /// group commit).
    #[error("database error")]
    Shared(#[source] Arc<sqlx::Error>),
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// The database could not be reached, refused connections or is shutting down: the call is
    /// worth retrying later (UNAVAILABLE), unlike a bug or bad data (INTERNAL).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Database(err) => is_unavailable(err),
            Self::Shared(err) => is_unavailable(err),
            Self::Corrupt(_) => false,
        }
    }

    /// Whether a unique constraint refused the write.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Database(sqlx::Error::Database(db)) if db.is_unique_violation())
    }
}

/// Whether `err` means the database is unreachable, refusing connections or shutting down,
/// rather than a bug or bad data.
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            // 08: connection exceptions; 57P: operator intervention (shutdown, terminated
            // backend); 53300: too many connections.
            db.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c == "53300")
                || db.message().contains("not currently accepting connections")
        }
        _ => false,
    }
}

/// The same `request_id` came with a different request.
#[derive(Debug, thiserror::Error)]
#[error("request_id was already used for a different request")]
pub struct RequestIdReused;
