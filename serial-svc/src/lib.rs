//! serial-svc: serial numbers of every organization (uniqueness, validity windows, claims,
//! revocation, history) and the product catalog they refer to.
//!
//! Layers point one way: [`grpc`] adapters parse requests into [`domain`] values and call the
//! [`store`], the only module with SQL.

pub mod app;
pub mod domain;
pub mod grpc;
pub mod ops;
pub mod store;
