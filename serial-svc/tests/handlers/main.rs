//! Handler tests without a network: the service traits called directly, with a principal in the
//! request extensions, on a real SQLite store in a temporary directory.

mod support;

mod batch;
mod catalog;
mod paging;
mod requests;
mod scopes;
mod serials;
