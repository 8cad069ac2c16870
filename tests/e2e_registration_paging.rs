//! ListRegistrations paging end to end: forwards through next_page_token and backwards through
//! previous_page_token, in both orders, while other tasks keep creating registrations; tokens
//! bound to their query; on SQLite and on PostgreSQL.

mod support;

use std::collections::HashSet;

use prost_types::Timestamp;
use regserial::registration::v1::*;
use shared::testing::TestDb;
use support::ORG;
use support::grpc::expect_err;
use support::registration::*;
use tonic::Code;

shared::per_backend!(
    pages_walked_both_ways_cover_every_registration_once_during_concurrent_creation,
    a_page_token_is_bound_to_its_query,
);

const SEEDED: usize = 45;
const PAGE: i32 = 7;

/// Creates one registration per serial in `numbers`, in batches of up to 100.
async fn seed(pair: &Pair, c: &mut Registrations, numbers: &[String]) {
    add_serials(pair, ORG, &numbers.iter().map(String::as_str).collect::<Vec<_>>()).await;
    for chunk in numbers.chunks(100) {
        let requests = chunk
            .iter()
            .map(|n| create_request(registration(&format!("{}@example.com", n.to_lowercase()), &[n]), None))
            .collect();
        let results = c.batch_create_registrations(BatchCreateRegistrationsRequest { requests }).await;
        let results = results.unwrap().into_inner().results;
        let created = results
            .iter()
            .filter(|r| matches!(r.result, Some(batch_create_registrations_result::Result::Registration(_))))
            .count();
        assert_eq!(created, chunk.len(), "{results:?}");
    }
}

fn key(r: &Registration) -> (i64, i32) {
    let t = r.create_time.unwrap_or(Timestamp { seconds: 0, nanos: 0 });
    (t.seconds, t.nanos)
}

/// Checks that `pages`, concatenated in list order, hold no registration twice, are sorted as
/// `ascending` says, and contain every id of `before`.
fn check_walk(what: &str, pages: &[Vec<Registration>], ascending: bool, before: &HashSet<String>) {
    let all: Vec<&Registration> = pages.iter().flatten().collect();
    let mut seen = HashSet::new();
    for r in &all {
        assert!(seen.insert(r.id.clone()), "{what}: {} listed twice", r.id);
    }
    for pair in all.windows(2) {
        let (a, b) = (key(pair[0]), key(pair[1]));
        assert!(if ascending { a <= b } else { a >= b }, "{what}: out of order {a:?} then {b:?}");
    }
    let missing: Vec<_> = before.iter().filter(|id| !seen.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{what}: registrations that existed before the walk are missing: {missing:?}"
    );
    for page in pages {
        assert!(page.len() <= PAGE as usize, "{what}: a page over page_size");
    }
}

async fn pages_walked_both_ways_cover_every_registration_once_during_concurrent_creation(db: TestDb) {
    let pair = Pair::start(db).await;
    seed_catalog(&pair, ORG).await;
    let mut c = pair.registrations(ORG);
    let seeded: Vec<String> = (0..SEEDED).map(|i| format!("PG-{i:03}")).collect();
    seed(&pair, &mut c, &seeded).await;
    let creators_serials: Vec<String> = (0..40).map(|i| format!("NEW-{i:03}")).collect();
    add_serials(&pair, ORG, &creators_serials.iter().map(String::as_str).collect::<Vec<_>>()).await;
    // Besides the background creators, one registration is created between every two pages,
    // so that the walks certainly run across insertions.
    let between: Vec<String> = (0..100).map(|i| format!("MID-{i:03}")).collect();
    add_serials(&pair, ORG, &between.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let mut between = between.into_iter();
    let c2 = c.clone();
    let mut interleave = move || {
        let n = between.next().expect("enough serials to interleave");
        let mut c = c2.clone();
        async move { register(&mut c, &format!("{}@example.com", n.to_lowercase()), &[&n]).await }
    };

    for (round, order) in ["create_time desc", "create_time asc"].into_iter().enumerate() {
        let ascending = order.ends_with("asc");
        let before: HashSet<String> = list_all(&mut c, ListRegistrationsRequest::default())
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert!(before.len() >= SEEDED);
        // Two tasks create 10 registrations each while the walks go on.
        let creators: Vec<_> = (0..2)
            .map(|t| {
                let mut c = c.clone();
                let mine: Vec<String> =
                    creators_serials[round * 20 + t * 10..round * 20 + t * 10 + 10].to_vec();
                tokio::spawn(async move {
                    for n in mine {
                        register(&mut c, &format!("{}@example.com", n.to_lowercase()), &[&n]).await;
                    }
                })
            })
            .collect();

        let query =
            ListRegistrationsRequest { page_size: PAGE, order_by: order.into(), ..Default::default() };
        let mut forward: Vec<Vec<Registration>> = Vec::new();
        let mut token = String::new();
        let last = loop {
            let request = ListRegistrationsRequest { page_token: token.clone(), ..query.clone() };
            let page = c.list_registrations(request).await.unwrap().into_inner();
            if forward.is_empty() {
                assert!(page.previous_page_token.is_empty(), "{order}: the first page has no previous page");
            }
            forward.push(page.registrations.clone());
            assert!(forward.len() < 200, "{order}: the forward walk does not end");
            interleave().await;
            if page.next_page_token.is_empty() {
                break page;
            }
            token = page.next_page_token;
        };
        check_walk(&format!("{order} forwards"), &forward, ascending, &before);
        assert!(forward.len() >= SEEDED / PAGE as usize, "{order}: several pages");

        // Backwards from the last page: pages come newest-walked first, so prepend them.
        let mut backward: Vec<Vec<Registration>> = vec![last.registrations.clone()];
        let mut token = last.previous_page_token.clone();
        assert!(!token.is_empty(), "{order}: the last page has a previous page");
        while !token.is_empty() {
            let request = ListRegistrationsRequest { page_token: token.clone(), ..query.clone() };
            let page = c.list_registrations(request).await.unwrap().into_inner();
            assert!(!page.registrations.is_empty(), "{order}: a previous page is not empty");
            assert!(!page.next_page_token.is_empty(), "{order}: a page before another has a next page");
            backward.insert(0, page.registrations);
            assert!(backward.len() < 200, "{order}: the backward walk does not end");
            interleave().await;
            token = page.previous_page_token;
        }
        check_walk(&format!("{order} backwards"), &backward, ascending, &before);
        for creator in creators {
            creator.await.expect("creator task");
        }
    }
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn a_page_token_is_bound_to_its_query(db: TestDb) {
    let pair = Pair::start(db).await;
    seed_catalog(&pair, ORG).await;
    let mut c = pair.registrations(ORG);
    let numbers: Vec<String> = (0..6).map(|i| format!("TK-{i}")).collect();
    seed(&pair, &mut c, &numbers).await;
    let query = ListRegistrationsRequest { page_size: 2, ..Default::default() };
    let first = c.list_registrations(query.clone()).await.unwrap().into_inner();
    assert_eq!(first.registrations.len(), 2);
    let token = first.next_page_token.clone();
    assert!(!token.is_empty());
    let second = ListRegistrationsRequest { page_token: token.clone(), ..query.clone() };
    let second = c.list_registrations(second).await.unwrap().into_inner();
    assert_eq!(second.registrations.len(), 2);
    assert!(second.registrations.iter().all(|r| !first.registrations.contains(r)));

    let misuses = [
        ListRegistrationsRequest { customer_email: "tk-0@example.com".into(), ..query.clone() },
        ListRegistrationsRequest { channel_name: "web".into(), ..query.clone() },
        ListRegistrationsRequest { status: RegistrationStatus::Pending.into(), ..query.clone() },
        ListRegistrationsRequest { form_slug: "other".into(), ..query.clone() },
        ListRegistrationsRequest { order_by: "create_time asc".into(), ..query.clone() },
    ];
    for misuse in misuses {
        let request = ListRegistrationsRequest { page_token: token.clone(), ..misuse.clone() };
        let err = expect_err(c.list_registrations(request).await);
        assert_eq!((err.code, err.reason.as_str()), (Code::InvalidArgument, "INVALID_FIELD"), "{misuse:?}");
        assert_eq!(err.fields, ["page_token"], "{misuse:?}");
    }
    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let err = expect_err(
        c.list_registrations(ListRegistrationsRequest { page_token: tampered, ..query.clone() }).await,
    );
    assert_eq!((err.code, err.fields.as_slice()), (Code::InvalidArgument, &["page_token".to_owned()][..]));
    let negative = ListRegistrationsRequest { page_size: -1, ..Default::default() };
    let err = expect_err(c.list_registrations(negative).await);
    assert_eq!((err.code, err.fields.as_slice()), (Code::InvalidArgument, &["page_size".to_owned()][..]));
    pair.stop().await;
}
