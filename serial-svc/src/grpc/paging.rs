//! List paging: page sizes, and signed page tokens bound to the method and its filters, so a
//! token used with other filters is refused.

use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::paging::PageTokens;
use tonic::Status;

use super::fields::invalid_fields;

/// Default and largest page of most lists.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 1000;
/// Default page of `ListSerialEvents`.
pub const DEFAULT_EVENTS_PAGE_SIZE: u32 = 100;

/// What a list's page token is bound to: the method, the org and the list's filters (a struct
/// whose fields are written beside `method` and `org`, or `()` for none).
#[derive(Serialize)]
pub struct PageQuery<'a, F> {
    pub method: &'static str,
    pub org: &'a str,
    #[serde(flatten)]
    pub filters: F,
}

/// The page size asked for (`page_size`), with the default for 0.
pub fn page_size(raw: i32, default: u32) -> Result<u32, Status> {
    shared::paging::page_size(raw, default, MAX_PAGE_SIZE)
        .map_err(|violation| invalid_fields(vec![violation]))
}

/// The cursor carried by `page_token` (`None` for the first page); the token must have been
/// issued for the same `query`.
pub fn cursor<Q: Serialize, C: DeserializeOwned>(
    tokens: &PageTokens,
    token: &str,
    query: &Q,
) -> Result<Option<C>, Status> {
    if token.is_empty() {
        return Ok(None);
    }
    tokens.decode(token, query).map(Some).map_err(|err| invalid_fields(vec![err.violation()]))
}

/// Cuts `items` (fetched with one extra) to `limit`, and returns the token of the next page, or
/// an empty string on the last page.
pub fn next_page<T, Q: Serialize, C: Serialize>(
    tokens: &PageTokens,
    items: &mut Vec<T>,
    limit: u32,
    query: &Q,
    cursor_of: impl Fn(&T) -> C,
) -> String {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if items.len() <= limit {
        return String::new();
    }
    items.truncate(limit);
    items.last().map(|last| tokens.encode(query, &cursor_of(last))).unwrap_or_default()
}

/// How many rows to fetch for a page of `limit`: one more, to learn whether a next page exists.
pub fn fetch_limit(limit: u32) -> u32 {
    limit.saturating_add(1)
}
