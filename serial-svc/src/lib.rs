//! serial-svc: serial numbers of every organization (uniqueness, validity windows, claims,
//! revocation, history) and the product catalog they refer to.
//!
//! Layers point one way: [`grpc`] adapters (one file per proto service) parse requests into
//! [`domain`] values and call a use case: the steps of those with several in [`ops`], one file
//! each, the others a method of the [`store`], the only module with SQL. `domain` names neither
//! tonic nor sqlx.

pub mod app;
pub mod domain;
pub mod grpc;
pub mod ops;
pub mod store;
