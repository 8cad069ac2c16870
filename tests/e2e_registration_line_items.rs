//! What a line item brings to its registration: a serial to claim or none (a non-serialized
//! product), a SKU that must fit its serial's product, and its serial's customer tags; end to
//! end over real gRPC, on SQLite and on PostgreSQL.

mod support;

use regserial::registration::v1::lookup_registration_request::Key;
use regserial::registration::v1::*;
use regserial::serial::v1::SerialStatus;
use shared::testing::TestDb;
use support::ORG;
use support::grpc::{Failure, expect_err};
use support::registration::*;
use tonic::Code;

shared::per_backend!(
    a_registration_may_mix_serialized_and_non_serialized_line_items,
    a_registration_without_serials_claims_nothing_and_needs_no_serial_svc,
    a_line_item_whose_sku_is_not_its_serials_product_is_refused_claiming_nothing,
    a_swap_to_a_serial_of_another_product_is_refused_and_changes_nothing,
    a_registration_carries_its_serials_customer_tags_and_lists_filter_on_one,
);

/// Creates product `sku` (no plan) and `serials` of it in [`ORG`]; `sku` empty: serials of no
/// product.
async fn add_product_serials(pair: &Pair, sku: &str, serials: &[&str]) {
    use regserial::serial::v1::{BatchCreateSerialsRequest, CreateProductRequest, Product, Serial};
    let mut c = pair.serials(ORG);
    if !sku.is_empty() {
        let product = Product { sku: sku.into(), name: sku.into(), ..Default::default() };
        c.catalog
            .create_product(CreateProductRequest { product: Some(product), ..Default::default() })
            .await
            .unwrap();
    }
    let serials = serials
        .iter()
        .map(|n| Serial { serial_number: (*n).into(), product_sku: sku.into(), ..Default::default() })
        .collect();
    let batch = BatchCreateSerialsRequest { serials, atomic: true, ..Default::default() };
    c.serials.batch_create_serials(batch).await.expect("create serials");
}

/// FAILED_PRECONDITION `SERIAL_PRODUCT_MISMATCH` naming `serial`, the line item's `sku` and the
/// serial's `product`.
fn assert_mismatch(failure: &Failure, serial: &str, sku: &str, product: &str) {
    assert_eq!(
        (failure.code, failure.reason.as_str()),
        (Code::FailedPrecondition, "SERIAL_PRODUCT_MISMATCH"),
        "{failure:?}"
    );
    assert!(failure.has_precondition_failure, "{failure:?}");
    let named = |key: &str| failure.metadata.get(key).map(String::as_str);
    assert_eq!(
        (named("serial_number"), named("sku"), named("product_sku")),
        (Some(serial), Some(sku), Some(product))
    );
}

/// A line item of a non-serialized product.
fn unserialized(sku: &str) -> LineItem {
    LineItem { sku: sku.into(), name: "Gift mug".into(), quantity: 2, ..Default::default() }
}

async fn a_registration_may_mix_serialized_and_non_serialized_line_items(db: TestDb) {
    let pair = Pair::with_serials(db, &["MIX-1", "MIX-2", "MIX-3"]).await;
    let mut c = pair.registrations(ORG);

    let mut new = registration("ada@example.com", &["MIX-1"]);
    new.line_items.insert(0, unserialized("MUG"));
    new.line_items.push(unserialized("CASE"));
    let created =
        c.create_registration(create_request(new, Some(&new_request_id()))).await.unwrap().into_inner();
    assert_eq!(created.status(), RegistrationStatus::Pending);
    let items: Vec<_> =
        created.line_items.iter().map(|i| (i.sku.as_str(), i.serial_number.as_str(), i.quantity)).collect();
    assert_eq!(items, [("MUG", "", 2), (SKU, "MIX-1", 1), ("CASE", "", 2)], "in the request's order");
    assert_eq!(created.line_items[0].warranty, None, "a non-serialized product has no serial plan");
    let warranty = created.warranty.clone().expect("the serial's plan");
    assert_eq!(warranty.plan_id, PLAN_ID, "the first serialized line item's warranty");
    assert_eq!(claim_of(&pair, ORG, "MIX-1").await, (SerialStatus::Registered, created.id.clone()));
    assert_eq!(get(&mut c, &created.id).await, created);
    let lookup = LookupRegistrationRequest { key: Some(Key::SerialNumber("mix-1".into())) };
    assert_eq!(c.lookup_registration(lookup).await.unwrap().into_inner().id, created.id);

    let swap = SwapSerialRequest {
        serial_number: "MIX-1".into(),
        new_serial_number: "MIX-2".into(),
        request_id: new_request_id(),
    };
    let swapped = c.swap_serial(swap).await.unwrap().into_inner();
    let serials: Vec<_> = swapped.line_items.iter().map(|i| i.serial_number.as_str()).collect();
    assert_eq!(serials, ["", "MIX-2", ""]);
    assert_eq!(swapped.warranty.map(|w| w.plan_id), Some(PLAN_ID.to_owned()));
    wait_for_release(&pair, ORG, "MIX-1").await;
    assert_invariants(&pair, ORG).await;

    // Reset and cancel release the serials and pass over the line items without one.
    let reset = ResetSerialRequest { serial_number: "MIX-2".into(), request_id: new_request_id() };
    let reset = c.reset_serial(reset).await.unwrap().into_inner();
    assert_eq!((reset.status(), reset.line_items.len()), (RegistrationStatus::Canceled, 3));
    wait_for_release(&pair, ORG, "MIX-2").await;
    let mut mixed = registration("bob@example.com", &["MIX-3"]);
    mixed.line_items.push(unserialized("MUG"));
    let second = c.create_registration(create_request(mixed, None)).await.unwrap().into_inner();
    let deny =
        DenyRegistrationRequest { id: second.id.clone(), reason: "no receipt".into(), ..Default::default() };
    assert_eq!(c.deny_registration(deny).await.unwrap().into_inner().status(), RegistrationStatus::Denied);
    wait_for_release(&pair, ORG, "MIX-3").await;
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn a_registration_without_serials_claims_nothing_and_needs_no_serial_svc(db: TestDb) {
    let mut pair = Pair::start(db).await;
    seed_catalog(&pair, ORG).await;
    let mut c = pair.registrations(ORG);
    pair.stop_serial().await;

    let new = Registration {
        line_items: vec![unserialized("MUG"), unserialized("CASE")],
        ..registration("ada@example.com", &[])
    };
    let request = create_request(new, Some(&new_request_id()));
    let created =
        c.create_registration(request.clone()).await.expect("no serial: nothing to claim").into_inner();
    assert_eq!(created.status(), RegistrationStatus::Pending);
    assert!(!created.registration_number.is_empty());
    assert!(created.line_items.iter().all(|i| i.serial_number.is_empty() && i.warranty.is_none()));
    assert_eq!(created.warranty, None);
    let again = c.create_registration(request).await.expect("a replay").into_inner();
    assert_eq!(again, created, "a retry with the request_id answers the first");
    let listed = list_all(&mut c, ListRegistrationsRequest::default()).await.unwrap();
    assert_eq!(listed, std::slice::from_ref(&created));
    let cancel = CancelRegistrationRequest { id: created.id.clone(), request_id: new_request_id() };
    let canceled = c.cancel_registration(cancel).await.expect("nothing to release").into_inner();
    assert_eq!(canceled.status(), RegistrationStatus::Canceled);
    pair.start_serial().await;
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn a_line_item_whose_sku_is_not_its_serials_product_is_refused_claiming_nothing(db: TestDb) {
    let pair = Pair::with_serials(db, &["FIT-1", "FIT-2"]).await;
    add_product_serials(&pair, "", &["ANY-1"]).await;
    let mut c = pair.registrations(ORG);

    let mut wrong = registration("ada@example.com", &["FIT-1", "FIT-2"]);
    wrong.line_items[1].sku = "SAW".into();
    let request = create_request(wrong, Some(&new_request_id()));
    let refused = expect_err(c.create_registration(request.clone()).await);
    assert_mismatch(&refused, "FIT-2", "SAW", SKU);
    for serial in ["FIT-1", "FIT-2"] {
        wait_for_release(&pair, ORG, serial).await;
    }
    assert_mismatch(&expect_err(c.create_registration(request).await), "FIT-2", "SAW", SKU);
    // SKUs are identifiers, compared as written: the case counts, as in serial-svc.
    let mut lowercase = registration("ada@example.com", &["FIT-1"]);
    lowercase.line_items[0].sku = SKU.to_lowercase();
    let refused = expect_err(c.create_registration(create_request(lowercase, None)).await);
    assert_mismatch(&refused, "FIT-1", &SKU.to_lowercase(), SKU);
    assert!(list_all(&mut c, ListRegistrationsRequest::default()).await.unwrap().is_empty());
    assert_invariants(&pair, ORG).await;

    // No SKU on the line item, or no product on the serial: nothing to compare.
    let mut no_sku = registration("ada@example.com", &["FIT-1"]);
    no_sku.line_items[0].sku.clear();
    c.create_registration(create_request(no_sku, None)).await.expect("a line item without a sku fits");
    let mut any = registration("bob@example.com", &["ANY-1", "FIT-2"]);
    any.line_items[0].sku = "WHATEVER".into();
    c.create_registration(create_request(any, None)).await.expect("a serial without a product fits");
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn a_swap_to_a_serial_of_another_product_is_refused_and_changes_nothing(db: TestDb) {
    let pair = Pair::with_serials(db, &["SWP-1", "SWP-2"]).await;
    add_product_serials(&pair, "SAW", &["SAW-1"]).await;
    let mut c = pair.registrations(ORG);
    let held = register(&mut c, "ada@example.com", &["SWP-1"]).await;

    let swap = SwapSerialRequest {
        serial_number: "SWP-1".into(),
        new_serial_number: "SAW-1".into(),
        request_id: new_request_id(),
    };
    assert_mismatch(&expect_err(c.swap_serial(swap.clone()).await), "SAW-1", SKU, "SAW");
    wait_for_release(&pair, ORG, "SAW-1").await;
    assert_eq!(get(&mut c, &held.id).await.line_items, held.line_items, "the line item keeps its serial");
    assert_eq!(claim_of(&pair, ORG, "SWP-1").await, (SerialStatus::Registered, held.id.clone()));
    assert_mismatch(&expect_err(c.swap_serial(swap).await), "SAW-1", SKU, "SAW");
    let fits = SwapSerialRequest {
        serial_number: "SWP-1".into(),
        new_serial_number: "SWP-2".into(),
        request_id: new_request_id(),
    };
    c.swap_serial(fits).await.expect("a serial of the same product fits");
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

/// Creates serials of product [`SKU`] in [`ORG`], each with its customer tags.
async fn add_tagged_serials(pair: &Pair, serials: &[(&str, &[&str])]) {
    use regserial::serial::v1::{BatchCreateSerialsRequest, Serial};
    let serials = serials
        .iter()
        .map(|(n, tags)| Serial {
            serial_number: (*n).into(),
            product_sku: SKU.into(),
            customer_tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            ..Default::default()
        })
        .collect();
    let batch = BatchCreateSerialsRequest { serials, atomic: true, ..Default::default() };
    pair.serials(ORG).serials.batch_create_serials(batch).await.expect("create serials");
}

/// The ids of every registration tagged `tag`, newest first, one per page.
async fn tagged(c: &mut Registrations, tag: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut page_token = String::new();
    loop {
        let list = ListRegistrationsRequest {
            customer_tag: tag.into(),
            page_size: 1,
            page_token,
            ..Default::default()
        };
        let page = c.list_registrations(list).await.unwrap().into_inner();
        ids.extend(page.registrations.iter().map(|r| r.id.clone()));
        if page.next_page_token.is_empty() {
            return ids;
        }
        page_token = page.next_page_token;
    }
}

async fn a_registration_carries_its_serials_customer_tags_and_lists_filter_on_one(db: TestDb) {
    let pair = Pair::start(db).await;
    seed_catalog(&pair, ORG).await;
    add_tagged_serials(
        &pair,
        &[
            ("TAG-1", &["vip", "beta"]),
            ("TAG-2", &["beta", "fleet"]),
            ("TAG-3", &["vip"]),
            ("TAG-4", &["gold"]),
        ],
    )
    .await;
    add_serials(&pair, ORG, &["PLAIN-1"]).await;
    let mut c = pair.registrations(ORG);

    let mut new = registration("ada@example.com", &["TAG-1"]);
    new.line_items.push(unserialized("MUG"));
    new.line_items.extend(registration("", &["TAG-2"]).line_items);
    let first = c.create_registration(create_request(new, None)).await.unwrap().into_inner();
    assert_eq!(first.customer_tags, ["vip", "beta", "fleet"], "once each, in line item order");
    assert_eq!(get(&mut c, &first.id).await.customer_tags, first.customer_tags);
    let second = register(&mut c, "bob@example.com", &["TAG-3"]).await;
    assert_eq!(second.customer_tags, ["vip"]);
    let plain = register(&mut c, "cy@example.com", &["PLAIN-1"]).await;
    assert!(plain.customer_tags.is_empty());

    assert_eq!(tagged(&mut c, "vip").await, [second.id.clone(), first.id.clone()], "paged, newest first");
    assert_eq!(tagged(&mut c, "fleet").await, [first.id.as_str()]);
    assert!(tagged(&mut c, "VIP").await.is_empty(), "tags match exactly");
    let page = ListRegistrationsRequest { customer_tag: "vip".into(), page_size: 1, ..Default::default() };
    let token = c.list_registrations(page.clone()).await.unwrap().into_inner().next_page_token;
    let other = ListRegistrationsRequest { customer_tag: "beta".into(), page_token: token, ..page };
    assert_eq!(
        expect_err(c.list_registrations(other).await).code,
        Code::InvalidArgument,
        "a token is bound to its tag"
    );
    let too_long = ListRegistrationsRequest { customer_tag: "t".repeat(65), ..Default::default() };
    let refused = expect_err(c.list_registrations(too_long).await);
    assert_eq!(
        (refused.code, refused.fields.as_slice()),
        (Code::InvalidArgument, ["customer_tag".to_owned()].as_slice())
    );

    let swap = SwapSerialRequest {
        serial_number: "TAG-1".into(),
        new_serial_number: "TAG-4".into(),
        request_id: new_request_id(),
    };
    let swapped = c.swap_serial(swap).await.unwrap().into_inner();
    assert_eq!(swapped.customer_tags, ["gold", "beta", "fleet"], "a swap recomputes the tags");
    assert_eq!(tagged(&mut c, "vip").await, [second.id.as_str()]);
    assert_eq!(tagged(&mut c, "gold").await, [first.id.as_str()]);
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}
