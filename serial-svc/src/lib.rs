//! serial-svc
