//! Use cases with more than one step: the order of the steps, what runs in the background, what
//! is retried. Handlers in [`crate::grpc`] call them; they speak to [`crate::store`].

pub mod import;
