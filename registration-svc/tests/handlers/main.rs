//! Handler tests without a network: the service trait called directly, with a principal in the
//! request extensions, on a real store, once on SQLite and once on PostgreSQL (like the store
//! conformance suite). serial-svc is unreachable: registrations that must exist are made
//! through the store.

mod support;

mod create;
mod paging;
mod reads;
mod requests;
mod review;
mod scopes;
mod serials;
mod update;

use shared::testing::TestDb;

/// Instantiates every listed test (`module::name`) once per backend.
macro_rules! handler_tests {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::TestDb::sqlite();
                    super::$module::$name(super::support::harness(db).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = super::TestDb::postgres().await else { return };
                    super::$module::$name(super::support::harness(db).await).await;
                }
            )*
        }
    };
}

handler_tests!(
    // create
    create::a_registration_without_line_items_is_refused_naming_line_items,
    create::a_quantity_below_one_is_refused_naming_the_line_item,
    create::a_serial_twice_in_one_registration_is_refused_naming_the_repeat,
    create::an_invalid_or_missing_email_is_refused_naming_customer_email,
    create::every_bad_field_of_a_creation_is_reported_at_once,
    create::a_creation_while_serial_svc_is_unreachable_is_unavailable_and_shows_nothing,
    create::a_batch_over_100_requests_is_too_large,
    create::each_batch_item_fails_alone_with_fields_named_from_the_request,
    // reads
    reads::get_returns_every_field_of_the_registration,
    reads::lookup_finds_by_number_or_held_serial_and_needs_one_of_them,
    reads::another_orgs_registration_is_not_found_by_id_number_or_serial,
    reads::malformed_ids_and_attempts_in_progress_are_refused,
    // paging
    paging::pages_follow_each_other_both_ways_in_either_order,
    paging::a_tampered_page_token_is_refused,
    paging::a_page_token_used_with_other_filters_order_or_org_is_refused,
    paging::list_arguments_are_checked_and_large_pages_capped,
    paging::filters_select_the_registrations_listed,
    // review
    review::approve_moves_only_a_pending_registration,
    review::deny_keeps_the_reason_and_stops_holding_the_serials,
    review::cancel_moves_only_from_pending_or_approved,
    review::reviews_of_another_orgs_registration_are_not_found,
    review::a_deny_reason_over_2000_characters_is_refused,
    // update
    update::update_changes_only_the_masked_fields,
    update::a_mask_naming_status_serials_or_unknown_fields_is_refused_on_update_mask,
    update::an_update_needs_a_valid_registration_of_the_org,
    // request ids
    requests::a_replayed_approval_returns_the_first_answer,
    requests::the_same_request_id_with_another_request_is_refused_as_reused,
    requests::a_request_id_that_is_not_a_uuid_is_an_invalid_field,
    // scopes
    scopes::a_reader_may_read_but_neither_write_nor_review,
    scopes::a_writer_cannot_review_and_a_reviewer_cannot_write,
    scopes::serial_scopes_do_not_grant_registrations,
    scopes::a_request_without_a_principal_is_unauthenticated,
    // serials
    serials::swap_and_reset_name_their_bad_serial_numbers,
    serials::swap_refusals_before_serial_svc_is_called,
    serials::a_second_swap_while_one_is_in_flight_is_aborted,
    serials::reset_erases_the_customer_and_stops_holding_the_serial,
);
