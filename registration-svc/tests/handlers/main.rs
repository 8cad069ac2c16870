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

use create::*;
use paging::*;
use reads::*;
use requests::*;
use review::*;
use scopes::*;
use serials::*;
use support::harness;
use update::*;

shared::per_backend!(
    setup = harness;
    // create
    a_registration_without_line_items_is_refused_naming_line_items,
    a_quantity_below_one_is_refused_naming_the_line_item,
    a_serial_twice_in_one_registration_is_refused_naming_the_repeat,
    an_invalid_or_missing_email_is_refused_naming_customer_email,
    every_bad_field_of_a_creation_is_reported_at_once,
    a_creation_while_serial_svc_is_unreachable_is_unavailable_and_shows_nothing,
    a_batch_over_100_requests_is_too_large,
    each_batch_item_fails_alone_with_fields_named_from_the_request,
    // reads
    get_returns_every_field_of_the_registration,
    lookup_finds_by_number_or_held_serial_and_needs_one_of_them,
    another_orgs_registration_is_not_found_by_id_number_or_serial,
    malformed_ids_and_attempts_in_progress_are_refused,
    // paging
    pages_follow_each_other_both_ways_in_either_order,
    a_tampered_page_token_is_refused,
    a_page_token_used_with_other_filters_order_or_org_is_refused,
    list_arguments_are_checked_and_large_pages_capped,
    filters_select_the_registrations_listed,
    // review
    approve_moves_only_a_pending_registration,
    deny_keeps_the_reason_and_stops_holding_the_serials,
    cancel_moves_only_from_pending_or_approved,
    reviews_of_another_orgs_registration_are_not_found,
    a_deny_reason_over_2000_characters_is_refused,
    // update
    update_changes_only_the_masked_fields,
    a_mask_naming_status_serials_or_unknown_fields_is_refused_on_update_mask,
    an_update_needs_a_valid_registration_of_the_org,
    // request ids
    a_replayed_approval_returns_the_first_answer,
    the_same_request_id_with_another_request_is_refused_as_reused,
    a_request_id_that_is_not_a_uuid_is_an_invalid_field,
    // scopes
    a_reader_may_read_but_neither_write_nor_review,
    a_writer_cannot_review_and_a_reviewer_cannot_write,
    serial_scopes_do_not_grant_registrations,
    a_request_without_a_principal_is_unauthenticated,
    // serials
    swap_and_reset_name_their_bad_serial_numbers,
    swap_refusals_before_serial_svc_is_called,
    a_second_swap_while_one_is_in_flight_is_aborted,
    reset_erases_the_customer_and_stops_holding_the_serial,
);
