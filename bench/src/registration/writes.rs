//! What one `CreateRegistration` costs registration-svc's PostgreSQL database, counted by
//! PostgreSQL itself: creations one at a time, and the database's commits
//! (`pg_stat_database.xact_commit`) and row writes (`n_tup_ins + n_tup_upd + n_tup_del` of
//! `pg_stat_user_tables`, summed over the tables) before and after.
//!
//! Backends report their statistics asynchronously (an idle one within about ten seconds), and
//! the recovery worker commits a few times a second whatever happens: so the reading after the
//! run waits for the reports, and an idle window of the same length right after, read the same
//! way, gives the background that is subtracted. The worker writes no row while there is
//! nothing to recover, so the row writes are exact; the commits are within a few background
//! commits of the run's, divided by the number of creations.

use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::{Connection, PgConnection};

use super::pair::Pair;
use super::workload::{self, SerialPool};

/// Creations in the run.
pub const CREATIONS: u64 = 1_000;
/// How long a backend may keep its statistics before reporting them, plus a margin.
const REPORT_DELAY: Duration = Duration::from_secs(12);

/// Per creation, on average.
#[derive(Debug, Clone, Copy)]
pub struct Writes {
    pub creations: u64,
    pub commits: f64,
    pub rows: f64,
    /// Of `rows`, the `registration_tags` rows: one per customer tag of the serial (the bench's
    /// serials carry one), not part of the bare creation.
    pub tag_rows: f64,
    /// Rows of `registrations` updated during the whole run (not per creation).
    pub registrations_updated: i64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    commits: i64,
    rows: i64,
    tag_rows: i64,
    registrations_updated: i64,
}

impl std::ops::Sub for Counters {
    type Output = Counters;

    fn sub(self, before: Counters) -> Counters {
        Counters {
            commits: self.commits - before.commits,
            rows: self.rows - before.rows,
            tag_rows: self.tag_rows - before.tag_rows,
            registrations_updated: self.registrations_updated - before.registrations_updated,
        }
    }
}

async fn read(conn: &mut PgConnection) -> anyhow::Result<Counters> {
    let (commits, rows, tag_rows, registrations_updated): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()), \
         (SELECT COALESCE(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint FROM pg_stat_user_tables), \
         (SELECT COALESCE(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint FROM pg_stat_user_tables \
         WHERE relname = 'registration_tags'), \
         (SELECT COALESCE(sum(n_tup_upd), 0)::bigint FROM pg_stat_user_tables WHERE relname = 'registrations')",
    )
    .fetch_one(&mut *conn)
    .await
    .context("cannot read pg_stat")?;
    Ok(Counters { commits, rows, tag_rows, registrations_updated })
}

/// [`CREATIONS`] creations one at a time on serials of `pool`, counted as the module says.
pub async fn per_creation(pair: &Pair, pool: &SerialPool) -> anyhow::Result<Writes> {
    let mut conn = PgConnection::connect(&pair.registration_database_url)
        .await
        .context("cannot connect to registration-svc's database")?;
    let mut client = regserial::client::registration_service(pair.registration.channel.clone());
    let bearer = workload::bearer(&pair.token)?;
    tokio::time::sleep(REPORT_DELAY).await;
    let start = Instant::now();
    let before = read(&mut conn).await?;
    for number in 0..CREATIONS {
        let request = workload::new_registration(number, pool.serial(number)?);
        workload::create_registration(&mut client, &bearer, request).await?;
    }
    tokio::time::sleep(REPORT_DELAY).await;
    let after = read(&mut conn).await?;
    tokio::time::sleep(start.elapsed()).await;
    let idle = read(&mut conn).await?;
    conn.close().await.ok();
    let (run, background) = (after - before, idle - after);
    let n = CREATIONS as f64;
    Ok(Writes {
        creations: CREATIONS,
        commits: (run.commits - background.commits) as f64 / n,
        rows: (run.rows - background.rows) as f64 / n,
        tag_rows: (run.tag_rows - background.tag_rows) as f64 / n,
        registrations_updated: run.registrations_updated,
    })
}
