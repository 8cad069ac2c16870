//! registration-svc: product registrations (customers, line items, review workflow, ownership)
//! and the saga that claims their serials from serial-svc.
//!
//! Layers point one way: [`domain`] holds values that cannot hold bad data, the registration
//! state machine and one error enum per operation; [`store`] is the only module with SQL, on
//! PostgreSQL or SQLite. The gRPC adapters ([`grpc`]), the serial-svc client and the recovery
//! worker are built on top of [`store::Store`].

pub mod app;
pub mod domain;
pub mod grpc;
pub mod saga;
pub mod serial_client;
pub mod serial_tls;
pub mod store;
