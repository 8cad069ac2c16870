//! registration-svc: product registrations (customers, line items, review workflow, ownership)
//! and the saga that claims their serials from serial-svc.
//!
//! Layers point one way: [`grpc`] parses a call and hands it to a use case in [`ops`] (the
//! saga drivers and the recovery worker, which reach serial-svc through [`serial_client`]);
//! [`domain`] holds values that cannot hold bad data, the registration state machine and one
//! error enum per operation, with neither SQL nor gRPC; [`store`] is the only module with SQL,
//! on PostgreSQL or SQLite.

pub mod app;
pub mod domain;
pub mod grpc;
pub mod ops;
pub mod serial_client;
pub mod serial_tls;
pub mod store;
