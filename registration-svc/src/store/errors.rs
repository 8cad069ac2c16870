//! Database failures as the domain's errors: the one place where a `sqlx::Error` becomes an
//! operation's `Store` variant, so that `domain` knows nothing of sqlx.

use crate::domain::{
    AbortSwapError, BeginError, CompleteError, CompleteSwapError, FailError, IntentError, ResetError,
    RestartError, SwapError, TransitionError, UpdateError,
};

/// Database failures become the `Store` variant.
macro_rules! database_conversions {
    ($($name:ident),*) => {$(
        impl From<sqlx::Error> for $name {
            fn from(err: sqlx::Error) -> Self {
                Self::Store(shared::db::StoreError::Database(err))
            }
        }
    )*};
}

database_conversions!(
    BeginError,
    CompleteError,
    FailError,
    IntentError,
    UpdateError,
    TransitionError,
    SwapError,
    CompleteSwapError,
    AbortSwapError,
    ResetError,
    RestartError
);
