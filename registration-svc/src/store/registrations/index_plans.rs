//! The plans of the statements that must read an index, on both backends: each list filter
//! reads its own index in keyset order, and the background workers read their partial indexes.
//! A page or a worker round that scans the table instead grows with the org (the list), or with
//! every registration ever written (the workers), and nothing else would notice: a list
//! statement reworded, a filter added without its index, or a worker's condition no longer
//! implying its index's predicate (which a partial index needs to be usable at all).

use shared::testing::{Param, assert_reads_index, assert_reads_none_of};

use super::{reads::list_statement, review};
use crate::domain::{FilterDraft, RegistrationFilter, RegistrationStatus};
use crate::store::attempts::rollback;
use crate::store::{ServiceStore, Store, creation_sql, intents};

/// Each filter alone, with the index its list must read. (A number matches one row at most,
/// through the number's unique index, whichever plan reads it.)
fn filters() -> Vec<(RegistrationFilter, &'static str)> {
    let draft = |set: fn(&mut FilterDraft)| {
        let mut draft = FilterDraft::default();
        set(&mut draft);
        RegistrationFilter::parse(&draft, None).expect("a valid filter")
    };
    let status = RegistrationFilter { status: Some(RegistrationStatus::Denied), ..Default::default() };
    vec![
        (RegistrationFilter::default(), "registrations_by_time"),
        (draft(|d| d.customer_email = "Ann@Example.com".into()), "registrations_by_email"),
        (draft(|d| d.channel_name = "web".into()), "registrations_by_channel"),
        (draft(|d| d.form_slug = "warranty".into()), "registrations_by_form"),
        (status, "registrations_by_status"),
        (draft(|d| d.customer_tag = "vip".into()), "registration_tags_by_tag"),
    ]
}

async fn each_statement_reads_its_index(store: Store) {
    let db = store.db();
    for (filter, index) in filters() {
        for upwards in [true, false] {
            let (sql, values) = list_statement(db, &filter, upwards);
            let mut params = vec![Param::Text("acme")];
            params.extend(values.into_iter().map(Param::Text));
            params.extend([Param::Int(0), Param::Text(""), Param::Int(51)]);
            assert_reads_index(db, &sql, &params, index).await;
        }
    }
    let round = [Param::Int(0), Param::Int(0), Param::Int(100)];
    let workers = [
        (db.pick(intents::LEASE_INTENTS_POSTGRES, intents::LEASE_INTENTS_SQLITE), "intents_due"),
        (db.pick(rollback::LEASE_ATTEMPTS_POSTGRES, rollback::LEASE_ATTEMPTS_SQLITE), "attempts_open"),
        (db.pick(review::OVERDUE_POSTGRES, review::OVERDUE_SQLITE), "registrations_pending"),
    ];
    for (sql, index) in workers {
        let params = if sql.contains("$3") { &round[..] } else { &round[1..] };
        assert_reads_index(db, sql, params, index).await;
    }
}

/// The completion finds its attempt by primary key, never through `attempts_open` or
/// `intents_due` nor by org. The partial indexes' rows the statistics usually count as none
/// (attempts are open for milliseconds), so a plan through them looks cheapest; but after
/// serial-svc has been away thousands of attempts wait open, and such a plan reads every one of
/// them for each completion (measured on the earlier `registrations_claiming`: 150 ms for a
/// batch of completions with 50,000 waiting, against well under 1 ms by primary key). By org
/// (`attempts_by_request`) it reads every attempt the org ever made: the plan an earlier
/// statement, which completed a batch of attempts, took for each completion, at 5 ms of
/// PostgreSQL's CPU with 4,000 attempts. (SQLite completes by a script of statements on the
/// attempt's id; the other writes of an attempt lock it by primary key first and then change
/// it by id alone.)
async fn the_completion_finds_its_attempt_by_primary_key(store: Store) {
    let db = store.db();
    if matches!(db, shared::db::Db::Postgres(_)) {
        let params = [
            Param::Text("acme"),
            Param::Text("attempt"),
            Param::Int(0),
            Param::Text("ACME"),
            Param::Text("{}"),
        ];
        let sql = creation_sql::COMPLETE_POSTGRES;
        assert_reads_index(db, sql, &params, "attempts_pkey").await;
        assert_reads_none_of(db, sql, &params, &["attempts_open", "intents_due", "attempts_by_request"])
            .await;
    }
}

shared::per_backend!(setup = shared::testing::migrated::<Store>; each_statement_reads_its_index, the_completion_finds_its_attempt_by_primary_key);
