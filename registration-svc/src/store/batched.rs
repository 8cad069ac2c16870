//! PostgreSQL's completions, many attempts in one statement ([`creation_sql::COMPLETE_POSTGRES`]).
//!
//! A completion takes its org's counter row to number the registration and holds it until its
//! commit: one at a time, an org's completions queued behind each other's WAL flushes, across
//! every replica; and each paid the set-up, locks and commit of a statement over five tables
//! and a dozen indexes. So the completions that wait at the same moment go through a
//! [`Batcher`] and are written by one statement, numbered in one step. A batch that fails (a
//! serial held by another registration, a deadlock with another replica's batch) is written
//! again one attempt at a time, so that each gets its own answer.
//!
//! Begins were batched the same way and measured no faster (README, Benchmarks): each begin
//! inserts rows of its own, with no shared row to queue on.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::FutureExt;
use futures::future::join_all;
use shared::db::coalesce::{Batcher, Run};
use shared::db::{Db, is_unavailable};
use sqlx::PgPool;

use super::creation_sql::{COMPLETE_POSTGRES, Completion};
use crate::domain::RegistrationNumber;

/// Each completion's number, or `None` if the attempt was not open.
pub(super) type Completed = Result<Option<String>, sqlx::Error>;

/// The completion queue of one store.
pub(super) type Completions = Batcher<Completion, Completed>;

pub(super) fn completions(db: &Db) -> Completions {
    let run: Run<Completion, Completed> = Arc::new(|db, org, jobs| together_or_alone(db, org, jobs).boxed());
    Batcher::new(db.clone(), run)
}

/// `jobs` (of `org`) completed by one statement; if that fails, or two are of one attempt, by
/// one statement each. A database that cannot be reached fails them all at once: one at a time
/// they would only wait for it again, each.
async fn together_or_alone(
    db: Db,
    org: String,
    jobs: Vec<Completion>,
) -> Result<Vec<Completed>, sqlx::Error> {
    let Db::Postgres(pool) = &db else {
        return Err(sqlx::Error::Configuration("batched completions are PostgreSQL's".into()));
    };
    let distinct = jobs.iter().map(|job| job.id.as_str()).collect::<HashSet<_>>().len() == jobs.len();
    if distinct && jobs.len() > 1 {
        match complete(pool, &org, &jobs).await {
            Ok(numbers) => return Ok(numbers.into_iter().map(Ok).collect()),
            Err(err) if is_unavailable(&err) => return Err(err),
            Err(_) => {}
        }
    }
    let alone = jobs.chunks(1).map(|job| complete(pool, &org, job));
    let numbers = join_all(alone).await.into_iter();
    Ok(numbers.map(|one| one.map(|mut one| one.pop().flatten())).collect())
}

/// Completes `jobs` (distinct attempts of `org`) in one statement: each one's number, in order.
async fn complete(pool: &PgPool, org: &str, jobs: &[Completion]) -> Result<Vec<Option<String>>, sqlx::Error> {
    let batch = serde_json::to_string(jobs).map_err(|err| sqlx::Error::Encode(Box::new(err)))?;
    let prefix = RegistrationNumber::prefix_for(org);
    let rows: Vec<(String, String)> =
        sqlx::query_as(COMPLETE_POSTGRES).bind(org).bind(&batch).bind(prefix).fetch_all(pool).await?;
    let mut numbers: HashMap<String, String> = rows.into_iter().collect();
    Ok(jobs.iter().map(|job| numbers.remove(&job.id)).collect())
}
