//! List paging: page sizes, and signed page tokens that carry a keyset position in either
//! direction and are bound to the query they were issued for, so a token used with other
//! filters or another order is refused.

use serde::Serialize;
use shared::paging::PageTokens;
use tonic::Status;

use super::fields::invalid_fields;
use crate::domain::PageBound;

/// Default and largest page of `ListRegistrations`.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 1000;

/// The page size asked for (`page_size`): 0 means the default, above the maximum is capped
/// (AIP-158), negative is refused.
pub fn page_size(raw: i32) -> Result<u32, Status> {
    shared::paging::page_size(raw, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        .map_err(|violation| invalid_fields(vec![violation]))
}

/// Where the page asked for by `page_token` starts (`None` for the first page); the token must
/// have been issued for the same `query`.
pub fn bound<Q: Serialize>(tokens: &PageTokens, token: &str, query: &Q) -> Result<Option<PageBound>, Status> {
    if token.is_empty() {
        return Ok(None);
    }
    tokens.decode(token, query).map(Some).map_err(|err| invalid_fields(vec![err.violation()]))
}

/// The token of the page at `bound` of `query`, or an empty string when there is no such page.
pub fn token<Q: Serialize>(tokens: &PageTokens, query: &Q, bound: Option<PageBound>) -> String {
    bound.map(|bound| tokens.encode(query, &bound)).unwrap_or_default()
}
