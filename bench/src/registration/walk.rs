//! A page token positioned deep in the list, obtained the only way a client can: walking
//! `ListRegistrations` page after page. Tokens carry the keyset position and are bound to the
//! filters and order, not to the page size, so the walk takes the largest pages (1000) and the
//! token it ends with serves pages of any size.

use std::time::{Duration, Instant};

use anyhow::ensure;
use regserial::registration::v1::ListRegistrationsRequest;

use super::pair::Pair;
use crate::fixtures::CALL_DEADLINE;
use crate::rpc;

const WALK_PAGE: u64 = 1000;

#[derive(Debug, Clone)]
pub struct Walk {
    /// The next_page_token after `rows` rows, in the default order (newest first).
    pub token: String,
    pub rows: u64,
    pub elapsed: Duration,
}

/// Walks the first `rows` registrations of the default list and returns the token of the page
/// right after them.
pub async fn past(pair: &Pair, rows: u64) -> anyhow::Result<Walk> {
    let started = Instant::now();
    let mut client = regserial::client::registration_service(pair.registration.channel.clone());
    let mut token = String::new();
    let mut walked = 0;
    while walked < rows {
        let size = WALK_PAGE.min(rows - walked);
        let request = ListRegistrationsRequest {
            page_size: size as i32,
            page_token: std::mem::take(&mut token),
            ..Default::default()
        };
        let call = client.list_registrations(rpc::authorized(request, &pair.token)?);
        let page = rpc::call("ListRegistrations", CALL_DEADLINE, call).await?;
        ensure!(
            page.registrations.len() as u64 == size && !page.next_page_token.is_empty(),
            "ListRegistrations after {walked} rows returned {} of {size} registrations (next token {:?})",
            page.registrations.len(),
            page.next_page_token
        );
        walked += size;
        token = page.next_page_token;
        if walked % 100_000 == 0 {
            eprintln!("walked {walked} of {rows} registrations ({:.0?})", started.elapsed());
        }
    }
    Ok(Walk { token, rows: walked, elapsed: started.elapsed() })
}
