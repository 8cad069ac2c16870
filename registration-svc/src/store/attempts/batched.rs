//! PostgreSQL's completions, one attempt per statement ([`creation_sql::COMPLETE_POSTGRES`]
//! given a batch of one).
//!
//! Completions that waited at the same moment used to be queued and written by one statement;
//! a same-run A/B found `CreateRegistration` no faster for it (docs/performance.md, "Read
//! coalescing"), so each completion runs its own statement.

use std::collections::HashMap;

use shared::db::{Db, StoreError};
use sqlx::PgPool;

use crate::domain::RegistrationNumber;
use crate::store::creation_sql::{COMPLETE_POSTGRES, Completion};

/// Each completion's number, or `None` if the attempt was not open.
pub(in crate::store) type Completed = Result<Option<String>, sqlx::Error>;

/// The completions of one store. Cheap to clone.
#[derive(Clone)]
pub(in crate::store) struct Completions(Db);

pub(in crate::store) fn completions(db: &Db) -> Completions {
    Completions(db.clone())
}

impl Completions {
    /// Completes `job` of `org` by one statement: its number, or `None` if the attempt was not
    /// CLAIMING; the statement's own failure (a serial held by another registration) is the
    /// inner error.
    pub(in crate::store) async fn call(&self, org: &str, job: Completion) -> Result<Completed, StoreError> {
        let Db::Postgres(pool) = &self.0 else {
            return Err(sqlx::Error::Configuration("these completions are PostgreSQL's".into()).into());
        };
        Ok(complete(pool, org, std::slice::from_ref(&job)).await.map(|mut one| one.pop().flatten()))
    }
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
