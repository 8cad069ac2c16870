//! Reading one serial by number (`GetSerial`, `ValidateSerial`), with the lookups that wait at
//! the same moment answered by one statement.
//!
//! The index probe is cheap; the statement around it is not: a round trip to PostgreSQL, or on
//! SQLite two hand-offs to and from sqlx's per-connection thread (measured at over half of
//! serial-svc's CPU under `GetSerial` load). So a lookup joins a queue, and at most
//! [`MAX_RUNNING`] tasks drain it, each taking every waiting lookup of one org (up to
//! [`MAX_BATCH`]) into one `serial_key = ANY(…)` / `IN (json_each(…))` statement. Under light
//! load a batch is one lookup and runs the plain single-key statement.
//!
//! Nothing is cached: each lookup is answered by a statement that started after it was asked,
//! so it sees every write committed before it was asked, as its own statement would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use shared::db::Db;
use tokio::sync::oneshot;

use super::rows::{SerialRow, serial_columns};
use super::serials::BY_KEY;
use crate::domain::StoreError;

/// Statements of coalesced lookups running at once: enough that a batch is being collected while
/// others run (2 measured no better, within this machine's noise), few enough to leave pool
/// connections (8 by default) to every other call.
const MAX_RUNNING: usize = 4;
/// Most lookups answered by one statement.
const MAX_BATCH: usize = 128;

const BY_KEYS_POSTGRES: &str =
    concat!("SELECT ", serial_columns!(), " FROM serials WHERE org_id = $1 AND serial_key = ANY($2)");
const BY_KEYS_SQLITE: &str = concat!(
    "SELECT ",
    serial_columns!(),
    " FROM serials WHERE org_id = $1 AND serial_key IN (SELECT value FROM json_each($2))"
);

/// The answer to one lookup; a failed statement fails every lookup it answered alike.
type Answer = Result<Option<SerialRow>, Arc<sqlx::Error>>;

/// The lookup queue of one [`super::Store`]. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Lookups {
    shared: Arc<Shared>,
}

struct Shared {
    db: Db,
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Waiter>,
    /// Drain tasks alive; each ends once it finds the queue empty.
    running: usize,
}

struct Waiter {
    org: String,
    key: String,
    reply: oneshot::Sender<Answer>,
}

impl Lookups {
    pub(crate) fn new(db: Db) -> Self {
        Self { shared: Arc::new(Shared { db, queue: Mutex::default() }) }
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.shared.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The row of serial `key` (the lowercase serial number) in `org`.
    pub(crate) async fn get(&self, org: &str, key: &str) -> Result<Option<SerialRow>, StoreError> {
        let (reply, answer) = oneshot::channel();
        let start_drain = {
            let mut queue = self.queue();
            queue.waiting.push(Waiter { org: org.to_owned(), key: key.to_owned(), reply });
            let start = queue.running < MAX_RUNNING;
            queue.running += usize::from(start);
            start
        };
        if start_drain {
            // Spawned, not run by this call: a caller that goes away must not take the
            // answers of the other lookups of its batch with it.
            tokio::spawn(self.clone().drain());
        }
        match answer.await {
            Ok(answer) => answer.map_err(StoreError::Shared),
            // Only if a drain task panicked: ask alone.
            Err(_) => fetch(&self.shared.db, org, &[key])
                .await
                .map(|rows| rows.into_iter().next())
                .map_err(Into::into),
        }
    }

    async fn drain(self) {
        let _running = Running(&self);
        loop {
            let batch = {
                let mut queue = self.queue();
                if queue.waiting.is_empty() {
                    return;
                }
                take_batch(&mut queue.waiting)
            };
            self.answer(batch).await;
        }
    }

    async fn answer(&self, batch: Vec<Waiter>) {
        let mut keys: Vec<&str> = batch.iter().map(|waiter| waiter.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        let fetched = fetch(&self.shared.db, &batch[0].org, &keys).await;
        match fetched {
            Ok(rows) => {
                let found: HashMap<String, SerialRow> =
                    rows.into_iter().map(|row| (row.serial_number.to_ascii_lowercase(), row)).collect();
                for waiter in batch {
                    // A caller that went away no longer needs its answer.
                    let _ = waiter.reply.send(Ok(found.get(&waiter.key).cloned()));
                }
            }
            Err(err) => {
                let err = Arc::new(err);
                for waiter in batch {
                    let _ = waiter.reply.send(Err(err.clone()));
                }
            }
        }
    }
}

/// Counts a drain task as running until it ends, panics included.
struct Running<'a>(&'a Lookups);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.queue().running -= 1;
    }
}

/// Removes from `waiting`, oldest first, up to [`MAX_BATCH`] lookups of the oldest one's org.
fn take_batch(waiting: &mut Vec<Waiter>) -> Vec<Waiter> {
    let org = waiting[0].org.clone();
    let (mut batch, mut rest) = (Vec::new(), Vec::new());
    for waiter in waiting.drain(..) {
        if batch.len() < MAX_BATCH && waiter.org == org { batch.push(waiter) } else { rest.push(waiter) }
    }
    *waiting = rest;
    batch
}

/// The rows of `keys` (at least one, no repeats) in `org`, in one statement.
async fn fetch(db: &Db, org: &str, keys: &[&str]) -> Result<Vec<SerialRow>, sqlx::Error> {
    if let [key] = keys {
        return super::on_reader!(db, c => sqlx::query_as(BY_KEY).bind(org).bind(*key).fetch_all(c));
    }
    match db {
        Db::Postgres(pool) => sqlx::query_as(BY_KEYS_POSTGRES).bind(org).bind(keys).fetch_all(pool).await,
        Db::Sqlite(pools) => {
            let keys = serde_json::to_string(keys).map_err(|err| sqlx::Error::Encode(Box::new(err)))?;
            sqlx::query_as(BY_KEYS_SQLITE).bind(org).bind(keys).fetch_all(&pools.reader).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiter(org: &str, key: &str) -> Waiter {
        Waiter { org: org.into(), key: key.into(), reply: oneshot::channel().0 }
    }

    #[test]
    fn a_batch_takes_the_oldest_org_in_order_and_leaves_the_rest_queued() {
        let mut waiting = vec![waiter("a", "1"), waiter("b", "2"), waiter("a", "3")];
        let batch = take_batch(&mut waiting);
        assert_eq!(batch.iter().map(|w| w.key.as_str()).collect::<Vec<_>>(), ["1", "3"]);
        assert_eq!(waiting.iter().map(|w| w.key.as_str()).collect::<Vec<_>>(), ["2"]);
        let mut many: Vec<_> = (0..MAX_BATCH + 1).map(|i| waiter("a", &i.to_string())).collect();
        assert_eq!(take_batch(&mut many).len(), MAX_BATCH);
        assert_eq!(many.len(), 1);
    }
}
