//! Customer tags: each line item keeps its serial's tags, the registration shows them once each
//! in line item order, lists filter on one tag through the keyset, and a swap recomputes them.

use registration_svc::domain::{FilterDraft, Order, PageBound, RegistrationFilter, RegistrationStatus};
use registration_svc::store::Store;

use super::*;

/// Registers `serials` at `now` as if serial-svc granted every claim, each serial with its tags.
async fn register_tagged(store: &Store, now: DateTime<Utc>, serials: &[(&str, &[&str])]) -> Registration {
    let numbers: Vec<&str> = serials.iter().map(|(serial, _)| *serial).collect();
    let mut attempt = begin(store, &ctx(now), &new_registration(&numbers)).await.registration;
    for (item, (_, tags)) in attempt.line_items.iter_mut().zip(serials) {
        item.customer_tags = tags.iter().map(|t| (*t).to_owned()).collect();
    }
    store.complete_registration(&ctx(now), &attempt, &SerialPlans::new()).await.unwrap()
}

fn tagged(tag: &str) -> RegistrationFilter {
    RegistrationFilter::parse(&FilterDraft { customer_tag: tag.into(), ..FilterDraft::default() }, None)
        .unwrap()
}

/// The ids listed with `filter`, newest first, `limit` a page, following the pages forward.
async fn listed(store: &Store, filter: &RegistrationFilter, limit: u32) -> Vec<RegistrationId> {
    let mut ids = Vec::new();
    let mut bound = None;
    loop {
        let page = store.list_registrations(ORG, filter, Order::Desc, bound.as_ref(), limit).await.unwrap();
        ids.extend(page.registrations.iter().map(|r| r.id.clone()));
        match page.next {
            Some(next) => bound = Some(PageBound::After(next)),
            None => return ids,
        }
    }
}

pub async fn a_registration_shows_its_serials_tags_once_each_and_lists_by_tag(store: Store) {
    let first =
        register_tagged(&store, at(1), &[("SN-1", &["vip", "beta"]), ("SN-2", &["beta", "fleet"])]).await;
    assert_eq!(first.customer_tags(), ["vip", "beta", "fleet"]);
    assert_eq!(first.line_items[1].customer_tags, ["beta", "fleet"]);
    let read = store.get_registration(ORG, &first.id).await.unwrap().unwrap();
    assert_eq!(read, first, "the tags are stored as answered");
    let second = register_tagged(&store, at(2), &[("SN-3", &["vip"])]).await;
    let untagged = register(&store, at(3), &["SN-4"]).await;
    assert!(untagged.customer_tags().is_empty());
    let mixed = begin(&store, &ctx(at(4)), &new_registration(&["", "SN-5"])).await.registration;
    let mut mixed_tagged = mixed.clone();
    mixed_tagged.line_items[1].customer_tags = vec!["vip".into()];
    let mixed = store.complete_registration(&ctx(at(4)), &mixed_tagged, &SerialPlans::new()).await.unwrap();
    assert_eq!(mixed.customer_tags(), ["vip"]);

    assert_eq!(
        listed(&store, &tagged("vip"), 1).await,
        [mixed.id.clone(), second.id.clone(), first.id.clone()]
    );
    assert_eq!(listed(&store, &tagged("fleet"), 10).await, std::slice::from_ref(&first.id));
    assert!(listed(&store, &tagged("VIP"), 10).await.is_empty(), "tags match exactly");
    assert!(listed(&store, &tagged("nobody"), 10).await.is_empty());
    // Backwards from the oldest, and with another filter.
    let oldest = first.cursor();
    let back =
        store.list_registrations(ORG, &tagged("vip"), Order::Desc, Some(&PageBound::Before(oldest)), 1).await;
    assert_eq!(
        back.unwrap().registrations.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        std::slice::from_ref(&second.id)
    );
    store.deny_registration(&ctx(at(5)), None, &second.id, None).await.unwrap();
    let denied = RegistrationFilter { status: Some(RegistrationStatus::Denied), ..tagged("vip") };
    assert_eq!(listed(&store, &denied, 10).await, std::slice::from_ref(&second.id));
    let beta = RegistrationFilter { status: Some(RegistrationStatus::Denied), ..tagged("beta") };
    assert!(listed(&store, &beta, 10).await.is_empty());
}

pub async fn a_swap_recomputes_the_registrations_tags(store: Store) {
    let r = register_tagged(&store, at(1), &[("OLD-1", &["vip", "beta"]), ("KEEP-2", &["beta"])]).await;
    let swap = store.begin_swap(&ctx(at(2)), None, &sn("OLD-1"), &sn("NEW-1")).await.unwrap().into_inner();
    let facts = SerialFacts { customer_tags: vec!["fleet".into()], ..SerialFacts::default() };
    let done = store.complete_swap(&ctx(at(3)), swap.claim.id, None, &facts).await.unwrap();
    assert_eq!(done.customer_tags(), ["fleet", "beta"]);
    assert_eq!(store.get_registration(ORG, &r.id).await.unwrap().unwrap().customer_tags(), ["fleet", "beta"]);
    assert!(listed(&store, &tagged("vip"), 10).await.is_empty(), "the old serial's tag is gone");
    assert_eq!(listed(&store, &tagged("fleet"), 10).await, std::slice::from_ref(&r.id));
    assert_eq!(listed(&store, &tagged("beta"), 10).await, std::slice::from_ref(&r.id));
    let swap = store.begin_swap(&ctx(at(4)), None, &sn("NEW-1"), &sn("NEW-2")).await.unwrap().into_inner();
    let done = store.complete_swap(&ctx(at(5)), swap.claim.id, None, &SerialFacts::default()).await.unwrap();
    assert_eq!(done.customer_tags(), ["beta"], "a serial without tags brings none");
    assert!(listed(&store, &tagged("fleet"), 10).await.is_empty());
}
