//! One conformance suite for the store, run on SQLite and on PostgreSQL: each test gets a fresh
//! database of each kind. The harness is `shared::per_backend!`, as for every test
//! that runs on both.

mod store_suite;

use serial_svc::store::Store;

use store_suite::*;

shared::per_backend!(
    setup = shared::testing::migrated::<Store>;
    batch_create_reports_each_failure_and_creates_the_rest,
    atomic_batch_with_one_failure_creates_nothing,
    batch_keeps_every_value_exactly_as_given,
    serial_numbers_are_unique_case_insensitively_and_kept_as_written,
    a_serial_inherits_its_products_warranty_plan,
    claim_moves_an_active_serial_to_its_claimant_once,
    claim_by_a_second_claimant_is_refused,
    claim_refusals_follow_the_validity_window,
    claim_of_a_revoked_serial_is_refused_as_revoked,
    release_is_only_for_the_claimant_and_idempotent,
    release_as_part_of_a_swap_is_recorded_as_swapped,
    revoke_applies_whatever_the_status_and_only_once,
    allocate_hands_out_each_available_serial_once,
    allocate_with_a_claimant_claims_in_the_same_step,
    history_lists_every_change_oldest_first_with_its_actor,
    list_pages_in_creation_order_with_filters,
    another_orgs_serials_are_invisible,
    a_request_key_replays_the_first_answer,
    a_request_key_with_another_request_is_refused,
    a_failed_attempt_does_not_keep_its_request_key,
    purge_forgets_old_request_keys,
    catalog_refuses_duplicates_and_unknown_references,
    catalog_lists_page_in_key_order,
    concurrent_claims_of_one_serial_have_exactly_one_winner,
    concurrent_allocations_never_share_a_serial,
    concurrent_overlapping_batches_create_each_serial_once,
    a_batch_whose_caller_goes_away_is_still_written_whole,
    concurrent_lookups_each_get_their_own_serial,
);
