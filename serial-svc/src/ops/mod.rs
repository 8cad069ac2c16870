//! Use cases with more than one step, one file each: the order of the steps, what runs in the
//! background, what is retried. Handlers in [`crate::grpc`] call them; they speak to
//! [`crate::store`]. An RPC that is one transaction (a claim, a revocation, a catalog entry, a
//! read) has no file here: its steps are the store method of its name, its rules in
//! [`crate::domain`].

pub mod batch_create_serials;
pub mod import_serials;
pub mod watch_import_job;
