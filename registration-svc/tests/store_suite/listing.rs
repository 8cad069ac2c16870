//! `ListRegistrations`: filters, order, keyset paging both ways.

use std::collections::HashSet;

use registration_svc::domain::{
    Email, FormSlug, Order, PageBound, RegistrationFilter, RegistrationNumber, RegistrationStatus, Text,
};
use registration_svc::store::Store;

use super::*;

fn ids(page: &[Registration]) -> Vec<RegistrationId> {
    page.iter().map(|r| r.id.clone()).collect()
}

/// The first serial of each registration listed with `filter`, oldest first.
async fn list(store: &Store, filter: &RegistrationFilter) -> Vec<String> {
    let page = store.list_registrations(ORG, filter, Order::Asc, None, 100).await.unwrap();
    page.registrations.iter().map(|r| r.line_items[0].serial_number.clone().unwrap()).collect()
}

pub async fn list_filters_by_each_field_and_shows_only_public_states(store: Store) {
    register(&store, at(1), &["SN-1"]).await;
    let other = RegistrationDraft {
        customer_email: "grace@example.com".into(),
        channel_name: "store".into(),
        form_slug: "Warranty".into(),
        ..draft(&["SN-2"])
    };
    register_at(&store, &ctx(at(2)), &NewRegistration::parse(&other).unwrap()).await;
    let c = register(&store, at(3), &["SN-3"]).await;
    store.approve_registration(&ctx(at(4)), None, &c.id).await.unwrap();
    begin(&store, &ctx(at(5)), &new_registration(&["SN-4"])).await;
    let failed = begin(&store, &ctx(at(6)), &new_registration(&["SN-5"])).await.attempt.id;
    store.fail_attempt(&ctx(at(6)), &failed, &failure("X", "SN-5"), &[]).await.unwrap();

    assert_eq!(
        list(&store, &RegistrationFilter::default()).await,
        ["SN-1", "SN-2", "SN-3"],
        "attempts are not listed"
    );
    let email = RegistrationFilter {
        customer_email: Some(Email::parse("ADA@example.COM").unwrap()),
        ..Default::default()
    };
    assert_eq!(list(&store, &email).await, ["SN-1", "SN-3"]);
    let channel =
        RegistrationFilter { channel_name: Text::parse("store", 50).unwrap(), ..Default::default() };
    assert_eq!(list(&store, &channel).await, ["SN-2"]);
    let form = RegistrationFilter { form_slug: FormSlug::parse("warranty").unwrap(), ..Default::default() };
    assert_eq!(list(&store, &form).await, ["SN-2"]);
    let number = RegistrationNumber::parse("acme-reg-00003").unwrap();
    let numbered = RegistrationFilter { registration_number: Some(number), ..Default::default() };
    assert_eq!(list(&store, &numbered).await, ["SN-3"]);
    let approved = RegistrationFilter { status: Some(RegistrationStatus::Approved), ..Default::default() };
    assert_eq!(list(&store, &approved).await, ["SN-3"]);
    let both = RegistrationFilter { status: Some(RegistrationStatus::Pending), ..email.clone() };
    assert_eq!(list(&store, &both).await, ["SN-1"]);
}

/// Two filters and a cursor: the cursor's parameters follow the filters' in each statement.
pub async fn filtered_pages_follow_each_other_both_ways(store: Store) {
    let other = |serial: &str| RegistrationDraft {
        customer_email: "grace@example.com".into(),
        channel_name: "store".into(),
        ..draft(&[serial])
    };
    let mut wanted = Vec::new();
    for i in 0..7 {
        let mine = register(&store, at(10 * i), &[&format!("ADA-{i}")]).await;
        register_at(
            &store,
            &ctx(at(10 * i + 1)),
            &NewRegistration::parse(&other(&format!("G-{i}"))).unwrap(),
        )
        .await;
        if i == 3 {
            store.approve_registration(&ctx(at(100)), None, &mine.id).await.unwrap();
        } else {
            wanted.push(mine.id);
        }
    }
    let filter = RegistrationFilter {
        customer_email: Some(Email::parse("ada@example.com").unwrap()),
        status: Some(RegistrationStatus::Pending),
        ..Default::default()
    };
    for order in [Order::Asc, Order::Desc] {
        let expected =
            if order == Order::Asc { wanted.clone() } else { wanted.iter().rev().cloned().collect() };
        let mut pages = vec![store.list_registrations(ORG, &filter, order, None, 2).await.unwrap()];
        while let Some(next) = pages.last().and_then(|p| p.next.clone()) {
            let page = store.list_registrations(ORG, &filter, order, Some(&PageBound::After(next)), 2).await;
            pages.push(page.unwrap());
        }
        let seen: Vec<_> = pages.iter().flat_map(|p| ids(&p.registrations)).collect();
        assert_eq!(seen, expected, "{order:?}: every match once, in order, nothing else");
        let back = PageBound::Before(pages[2].previous.clone().unwrap());
        let before = store.list_registrations(ORG, &filter, order, Some(&back), 2).await.unwrap();
        assert_eq!(ids(&before.registrations), ids(&pages[1].registrations), "{order:?}: back one page");
    }
}

/// The rows in `order`.
fn sorted(mut rows: Vec<Registration>, order: Order) -> Vec<RegistrationId> {
    rows.sort_by(|a, b| (a.create_time, &a.id).cmp(&(b.create_time, &b.id)));
    if order == Order::Desc {
        rows.reverse();
    }
    ids(&rows)
}

/// Every registration of the org, in `order`.
async fn everything(store: &Store, order: Order) -> Vec<RegistrationId> {
    let page =
        store.list_registrations(ORG, &RegistrationFilter::default(), order, None, 1000).await.unwrap();
    assert_eq!(page.next, None);
    sorted(page.registrations, order)
}

/// `seen` holds each of `expected` exactly once and no row twice, in `order`.
fn check_walk(seen: &[Registration], expected: &[RegistrationId], order: Order) {
    let seen_ids = ids(seen);
    let distinct: HashSet<_> = seen_ids.iter().collect();
    assert_eq!(distinct.len(), seen_ids.len(), "no row twice");
    for id in expected {
        assert!(distinct.contains(id), "{id} was skipped");
    }
    assert_eq!(seen_ids, sorted(seen.to_vec(), order), "rows come in the requested order");
}

pub async fn paging_covers_every_row_once_both_ways_in_both_orders_while_rows_are_added(store: Store) {
    let filter = RegistrationFilter::default();
    let mut added = 0;
    for i in 0..11 {
        register(&store, at(10 * i), &[&format!("P-{i}")]).await;
    }
    for order in [Order::Asc, Order::Desc] {
        // Forwards, adding a row between pages.
        let expected = everything(&store, order).await;
        let mut pages = vec![store.list_registrations(ORG, &filter, order, None, 3).await.unwrap()];
        assert_eq!(pages[0].previous, None, "the first page has nothing before it");
        while let Some(next) = pages.last().and_then(|p| p.next.clone()) {
            added += 1;
            register(&store, at(1000 + added), &[&format!("ADDED-{added}")]).await;
            let page = store
                .list_registrations(ORG, &filter, order, Some(&PageBound::After(next)), 3)
                .await
                .unwrap();
            assert!(page.previous.is_some());
            pages.push(page);
        }
        let seen: Vec<_> = pages.iter().flat_map(|p| p.registrations.clone()).collect();
        check_walk(&seen, &expected, order);
        // A previous token leads back to exactly the page before.
        let back = PageBound::Before(pages[1].previous.clone().unwrap());
        let before = store.list_registrations(ORG, &filter, order, Some(&back), 3).await.unwrap();
        assert_eq!(ids(&before.registrations), ids(&pages[0].registrations));
        // Rows added during the walk are newer: in desc order they now sit before the first page.
        assert_eq!(before.previous.is_some(), order == Order::Desc);
        assert_eq!(before.next, pages[0].next);

        // Backwards from the last page, adding a row between pages.
        let last = pages.pop().unwrap();
        let expected: Vec<_> = everything(&store, order)
            .await
            .into_iter()
            .filter(|id| !last.registrations.iter().any(|r| &r.id == id))
            .collect();
        let mut back_pages = Vec::new();
        let mut previous = last.previous.clone();
        while let Some(cursor) = previous {
            added += 1;
            register(&store, at(1000 + added), &[&format!("ADDED-{added}")]).await;
            let page =
                store.list_registrations(ORG, &filter, order, Some(&PageBound::Before(cursor)), 3).await;
            let page = page.unwrap();
            assert!(page.next.is_some(), "a page before another has a next page");
            previous = page.previous.clone();
            back_pages.push(page);
        }
        let seen: Vec<_> = back_pages.iter().rev().flat_map(|p| p.registrations.clone()).collect();
        // Every row that existed when the walk began is seen (rows added meanwhile may be too).
        check_walk(&seen, &expected, order);
    }
}
