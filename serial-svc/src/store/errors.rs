//! The one place where a database error becomes an operation's error. Conflicts the caller is
//! told about (a serial, product or plan that exists) are answered by `ON CONFLICT DO NOTHING`
//! in the statements, never by reading a constraint's name; what is left is below: any other
//! failure is the operation's `Store` variant (logged, answered INTERNAL or UNAVAILABLE), and
//! the one constraint a statement is expected to break, `serials_org_key`, is recognised here.

use shared::db::{RequestIdReused, StoreError};

use crate::domain::import::{CancelError, ImportStoreError};
use crate::domain::{
    AllocateError, BatchCreateError, ClaimError, CreatePlanError, CreateProductError, ReleaseError,
    RevokeError,
};

/// The conversions the store's `?` needs for an operation error: a database failure, and (for
/// the operations keyed by `request_id`, before the `;`) the id reused for another request.
macro_rules! operation_errors {
    ($($keyed:ident),* ; $($unkeyed:ident),*) => {
        $(impl From<RequestIdReused> for $keyed {
            fn from(_: RequestIdReused) -> Self {
                Self::RequestIdReused
            }
        })*
        operation_errors!(@database $($keyed,)* $($unkeyed,)*);
    };
    (@database $($name:ident,)*) => {
        $(impl From<sqlx::Error> for $name {
            fn from(err: sqlx::Error) -> Self {
                Self::Store(StoreError::Database(err))
            }
        })*
    };
}

operation_errors!(
    ClaimError, ReleaseError, AllocateError, RevokeError, BatchCreateError, CreateProductError, CreatePlanError;
    ImportStoreError, CancelError
);

/// Whether `err` is a serial that already exists (`serials_org_key`): the COPY of a batch
/// fails on it, and the batch is then inserted around the existing serials.
pub(super) fn is_existing_serial(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(err) if err.is_unique_violation())
}
