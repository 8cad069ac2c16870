//! One conformance suite for the store, run on SQLite and on PostgreSQL: each test gets a fresh
//! database of each kind. The harness is `shared::per_backend!`, as for every test
//! that runs on both.

mod store_suite;

use registration_svc::store::{ServiceStore, Store};

use store_suite::*;

shared::per_backend!(
    setup = shared::testing::migrated::<Store>;
    // creation
    begin_writes_only_a_hidden_open_attempt_holding_the_request,
    complete_makes_the_attempt_pending_with_a_number_holdings_and_warranties,
    completing_twice_changes_nothing_and_uses_one_number,
    a_failed_attempt_burns_no_number_and_releases_what_may_be_claimed,
    complete_and_fail_each_refuse_an_attempt_the_other_ended,
    numbers_are_sequential_per_org_with_the_org_prefix,
    numbers_grow_past_five_digits_without_losing_one,
    a_serial_held_by_another_registration_is_refused_at_completion,
    a_registration_without_serials_is_pending_at_once_and_owes_serial_svc_nothing,
    a_mixed_registration_claims_and_holds_only_its_serials,
    // request keys
    a_request_key_replays_the_attempt_it_began_in_its_current_state,
    a_request_key_with_another_request_is_refused,
    a_review_replays_its_first_answer,
    a_failed_mutation_does_not_keep_its_request_key,
    purge_forgets_old_request_keys,
    // reads
    lookup_finds_by_number_in_any_case_and_by_held_serial,
    point_reads_in_flight_together_each_get_their_own_answer,
    another_org_gets_nothing,
    list_filters_by_each_field_and_shows_only_public_states,
    filtered_pages_follow_each_other_both_ways,
    paging_covers_every_row_once_both_ways_in_both_orders_while_rows_are_added,
    // review
    approve_and_deny_move_only_from_pending,
    deny_releases_the_serials_and_keeps_the_reason,
    cancel_moves_from_pending_or_approved_and_releases_the_serials,
    expire_waits_for_the_review_period,
    the_expiry_sweep_takes_overdue_registrations_oldest_first_in_batches,
    // update
    update_changes_only_the_named_fields,
    // swap
    swap_moves_the_line_item_and_the_holding_to_the_new_serial,
    swap_refuses_what_cannot_be_swapped,
    an_aborted_swap_changes_nothing_but_releasing_the_new_serial,
    a_swap_cannot_complete_once_its_registration_stopped_holding,
    a_swap_request_key_replays_the_swap_in_its_current_state,
    a_swap_to_a_serial_of_another_product_is_refused_and_writes_nothing,
    // customer tags
    a_registration_shows_its_serials_tags_once_each_and_lists_by_tag,
    a_swap_recomputes_the_registrations_tags,
    // reset
    reset_erases_the_customer_cancels_and_releases_every_serial,
    // intents and the recovery worker
    due_releases_are_leased_once_until_the_lease_passes,
    failed_tries_back_off_and_keep_their_error,
    recording_done_closes_releases_but_not_swap_claims,
    // attempts left open
    stale_attempts_are_leased_most_overdue_first_once_their_lease_passes,
    a_retry_of_an_open_attempt_renews_its_lease,
    a_rolled_back_attempt_restarts_only_once_its_releases_are_done,
    a_refused_attempt_never_restarts,
    releases_are_written_again_only_while_the_attempt_is_failed_or_moved,
    // races
    concurrent_reviews_of_one_registration_leave_one_consistent_outcome,
    concurrent_completions_get_distinct_sequential_numbers,
    concurrent_completions_of_two_orgs_number_each_org_and_refuse_only_held_serials,
    concurrent_begins_sharing_request_keys_begin_each_key_once,
    a_creation_and_a_review_racing_on_one_request_id_take_it_once,
    concurrent_complete_and_fail_of_one_attempt_have_one_winner,
    concurrent_leases_never_share_an_intent,
    a_swap_racing_a_cancel_leaves_no_serial_held_or_unreleased,
);

/// PostgreSQL only (the database is switched off with `ALTER DATABASE … ALLOW_CONNECTIONS`):
/// completions in flight together while the database refuses connections all fail as
/// unavailable, write nothing, and complete with contiguous numbers once it is back.
///
/// Once it is back, a completion may still fail as unavailable: the pool does not ping a
/// connection before handing it out (`shared::db::connect`), so one that was idle when its
/// backend was terminated fails its next statement and is dropped. Like the service's callers,
/// the test retries those; each such connection fails once, so a pool of 8 needs at most 9 tries.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_completions_in_flight_during_an_outage_fail_unavailable_and_complete_after() {
    use futures::future::join_all;
    use registration_svc::domain::{CompleteError, SerialPlans};
    use sqlx::{Connection, PgConnection};

    let Some(db) = shared::testing::TestDb::postgres().await else { return };
    const POOL: u32 = 8;
    let pool = shared::db::connect(&db.url, POOL).await.expect("connect");
    let store = Store::new(pool.clone());
    store.migrate().await.expect("migrations apply");
    let mut attempts = Vec::new();
    for i in 0..12 {
        attempts.push(begin(&store, &ctx(t0()), &new_registration(&[&format!("SN-{i}")])).await.registration);
    }
    // Every connection of the pool open and idle when the backends are terminated, so that the
    // completions after the outage meet stale connections on every run, not only by chance.
    let shared::db::Db::Postgres(pg) = &pool else { unreachable!("a PostgreSQL test database") };
    let held = join_all((0..POOL).map(|_| pg.acquire())).await;
    assert!(held.iter().all(Result::is_ok), "the pool fills: {held:?}");
    drop(held);
    let name = db.url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    let admin_url = std::env::var(shared::testing::POSTGRES_URL_ENV)
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let mut admin = PgConnection::connect(&admin_url).await.expect("admin connection");
    let allow = |allow: bool| sqlx::AssertSqlSafe(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {allow}"));
    sqlx::query(allow(false)).execute(&mut admin).await.unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(&name)
        .execute(&mut admin)
        .await
        .unwrap();

    let complete_all = |attempts: Vec<registration_svc::domain::Registration>| {
        join_all(attempts.into_iter().map(|attempt| {
            let store = store.clone();
            tokio::spawn(async move {
                store.complete_registration(&ctx(at(1)), &attempt, &SerialPlans::new()).await
            })
        }))
    };
    for done in complete_all(attempts.clone()).await {
        match done.unwrap() {
            Err(CompleteError::Store(err)) => assert!(err.is_unavailable(), "{err:?}"),
            other => panic!("the database is down: {other:?}"),
        }
    }

    sqlx::query(allow(true)).execute(&mut admin).await.unwrap();
    let mut numbers = Vec::new();
    let mut pending = attempts;
    for _ in 0..=POOL {
        if pending.is_empty() {
            break;
        }
        let mut failed = Vec::new();
        for (attempt, done) in pending.iter().zip(complete_all(pending.clone()).await) {
            match done.unwrap() {
                Ok(done) => numbers.push(done.registration_number.unwrap()),
                Err(CompleteError::Store(err)) if err.is_unavailable() => failed.push(attempt.clone()),
                Err(err) => panic!("the database is back: {err:?}"),
            }
        }
        pending = failed;
    }
    assert!(pending.is_empty(), "each stale connection fails one statement, then the pool replaces it");
    numbers.sort();
    let expected: Vec<String> = (1..=12).map(|n| format!("ACME-REG-{n:05}")).collect();
    assert_eq!(numbers, expected, "nothing was written during the outage: numbers start at 1");
}
