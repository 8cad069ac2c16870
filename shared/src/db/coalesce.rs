//! Calls answered together: the calls of one kind that wait at the same moment run as one
//! statement.
//!
//! A statement's own work is often the smaller part of it: a round trip to PostgreSQL, its
//! executor set up over every table and index it touches, its commit; on SQLite two hand-offs
//! to and from sqlx's per-connection thread. So a call joins a queue, and at most
//! [`MAX_RUNNING`] tasks drain it, each taking up to [`MAX_BATCH`] waiting calls of one org into
//! one [`Run`] of the service's. Under light load a batch is one call.
//!
//! [`Batcher`] carries any call (a write's whole input, say); [`Coalescer`] is the one for point
//! reads. Nothing is cached: each call is answered by a statement that started after it was
//! made, so a read sees every write committed before it was asked, as its own statement would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::oneshot;

use super::{Db, StoreError};

/// Statements of one queue running at once: enough that a batch is being collected while others
/// run, few enough to leave pool connections (8 by default) to every other call.
pub const MAX_RUNNING: usize = 4;
/// Most calls answered by one statement.
pub const MAX_BATCH: usize = 128;

/// Runs the calls `jobs` (at least one) of org `org` together, answering each, in order. An
/// error fails every call of the batch alike; a run that can answer some calls and not others
/// returns per-call results as its answers. Owned arguments, so that it can run on a task of
/// its own.
pub type Run<J, A> =
    Arc<dyn Fn(Db, String, Vec<J>) -> BoxFuture<'static, Result<Vec<A>, sqlx::Error>> + Send + Sync>;

/// The answer to one call; a failed statement fails every call it answered alike.
type Answer<A> = Result<A, Arc<sqlx::Error>>;

/// One kind of call's queue. Cheap to clone.
pub struct Batcher<J, A> {
    shared: Arc<Shared<J, A>>,
}

impl<J, A> Clone for Batcher<J, A> {
    fn clone(&self) -> Self {
        Self { shared: self.shared.clone() }
    }
}

struct Shared<J, A> {
    db: Db,
    run: Run<J, A>,
    queue: Mutex<Queue<J, A>>,
}

struct Queue<J, A> {
    waiting: Vec<Waiter<J, A>>,
    /// Drain tasks alive; each ends once it finds the queue empty.
    running: usize,
}

struct Waiter<J, A> {
    org: String,
    job: J,
    reply: oneshot::Sender<Answer<A>>,
}

impl<J: Send + 'static, A: Send + 'static> Batcher<J, A> {
    pub fn new(db: Db, run: Run<J, A>) -> Self {
        let queue = Mutex::new(Queue { waiting: Vec::new(), running: 0 });
        Self { shared: Arc::new(Shared { db, run, queue }) }
    }

    fn queue(&self) -> MutexGuard<'_, Queue<J, A>> {
        self.shared.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `job` of `org` with the calls waiting beside it. The call runs to its end even if
    /// the caller goes away.
    pub async fn call(&self, org: &str, job: J) -> Result<A, StoreError> {
        let (reply, answer) = oneshot::channel();
        let start_drain = {
            let mut queue = self.queue();
            queue.waiting.push(Waiter { org: org.to_owned(), job, reply });
            let start = queue.running < MAX_RUNNING;
            queue.running += usize::from(start);
            start
        };
        if start_drain {
            // Spawned, not run by this call: a caller that goes away must not take the
            // answers of the other calls of its batch with it.
            tokio::spawn(self.clone().drain());
        }
        match answer.await {
            Ok(answer) => answer.map_err(StoreError::Shared),
            // Only if a drain task panicked.
            Err(_) => Err(StoreError::Corrupt("a batch of calls ended without an answer".into())),
        }
    }

    async fn drain(self) {
        let running = Running(&self);
        loop {
            let batch = {
                let mut queue = self.queue();
                if queue.waiting.is_empty() {
                    // Under the lock that found the queue empty: a call queued after this
                    // finds a free slot and starts a task of its own.
                    queue.running -= 1;
                    std::mem::forget(running);
                    return;
                }
                take_batch(&mut queue.waiting)
            };
            self.answer(batch).await;
        }
    }

    async fn answer(&self, batch: Vec<Waiter<J, A>>) {
        let org = batch[0].org.clone();
        let (jobs, replies): (Vec<J>, Vec<_>) = batch.into_iter().map(|w| (w.job, w.reply)).unzip();
        let count = jobs.len();
        match (self.shared.run)(self.shared.db.clone(), org, jobs).await {
            Ok(answers) if answers.len() == count => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    // A caller that went away no longer needs its answer.
                    let _ = reply.send(Ok(answer));
                }
            }
            outcome => {
                let err = match outcome {
                    Err(err) => err,
                    Ok(answers) => {
                        sqlx::Error::Protocol(format!("{} answers to {count} calls", answers.len()))
                    }
                };
                let err = Arc::new(err);
                for reply in replies {
                    let _ = reply.send(Err(err.clone()));
                }
            }
        }
    }
}

/// Stops counting a drain task that panicked (a normal end does so under the queue's lock).
struct Running<'a, J, A>(&'a Batcher<J, A>);

impl<J, A> Drop for Running<'_, J, A> {
    fn drop(&mut self) {
        let mut queue = self.0.shared.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        queue.running -= 1;
    }
}

/// Removes from `waiting`, oldest first, up to [`MAX_BATCH`] calls of the oldest one's org.
fn take_batch<J, A>(waiting: &mut Vec<Waiter<J, A>>) -> Vec<Waiter<J, A>> {
    let org = waiting[0].org.clone();
    let (mut batch, mut rest) = (Vec::new(), Vec::new());
    for waiter in waiting.drain(..) {
        if waiter.org == org && batch.len() < MAX_BATCH {
            batch.push(waiter);
        } else {
            rest.push(waiter);
        }
    }
    *waiting = rest;
    batch
}

/// Reads the rows of `keys` (distinct, at least one) in org `org` in one statement, each with
/// the key it answers; a key may match no row.
pub type Fetch<R> = fn(Db, String, Vec<String>) -> BoxFuture<'static, Result<Vec<(String, R)>, sqlx::Error>>;

/// A point read's `[postgres, sqlite]` statements, `$1` the org: `one` for a batch of one key
/// (`$2` the key), `many` for more (`$2` an array on PostgreSQL, a JSON array of strings on
/// SQLite). PostgreSQL plans an `= ANY($2)` statement again at every run when its array holds
/// one key (the plan it would keep is costed for a longer array), and planning is most of a
/// point read there; a one-key statement runs a kept plan, as SQLite's always do.
#[derive(Clone, Copy, Debug)]
pub struct KeyedStatements {
    pub one: [&'static str; 2],
    pub many: [&'static str; 2],
}

/// The rows `statements` read for `keys` (distinct, at least one) of `org`, on the read pool.
pub async fn read_keys<R>(
    db: &Db,
    org: &str,
    keys: &[String],
    statements: KeyedStatements,
) -> Result<Vec<R>, sqlx::Error>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + Send
        + Unpin,
{
    let ([one_postgres, one_sqlite], [many_postgres, many_sqlite]) = (statements.one, statements.many);
    match (db, keys) {
        (Db::Postgres(pool), [key]) => sqlx::query_as(one_postgres).bind(org).bind(key).fetch_all(pool).await,
        (Db::Sqlite(pools), [key]) => {
            sqlx::query_as(one_sqlite).bind(org).bind(key).fetch_all(&pools.reader).await
        }
        (Db::Postgres(pool), _) => sqlx::query_as(many_postgres).bind(org).bind(keys).fetch_all(pool).await,
        (Db::Sqlite(pools), _) => {
            let keys = serde_json::to_string(keys).map_err(|err| sqlx::Error::Encode(Box::new(err)))?;
            sqlx::query_as(many_sqlite).bind(org).bind(keys).fetch_all(&pools.reader).await
        }
    }
}

/// Point reads by key: a [`Batcher`] whose batch reads each distinct key once.
pub struct Coalescer<R>(Batcher<String, Option<R>>);

impl<R> Clone for Coalescer<R> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<R: Clone + Send + 'static> Coalescer<R> {
    pub fn new(db: Db, fetch: Fetch<R>) -> Self {
        let run: Run<String, Option<R>> = Arc::new(move |db, org, keys: Vec<String>| {
            let mut distinct = keys.clone();
            distinct.sort_unstable();
            distinct.dedup();
            fetch(db, org, distinct)
                .map(move |rows| {
                    let found: HashMap<String, R> = rows?.into_iter().collect();
                    Ok(keys.iter().map(|key| found.get(key).cloned()).collect())
                })
                .boxed()
        });
        Self(Batcher::new(db, run))
    }

    /// The row of `key` in `org`, if there is one.
    pub async fn get(&self, org: &str, key: &str) -> Result<Option<R>, StoreError> {
        self.0.call(org, key.to_owned()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiter(org: &str, key: &str) -> Waiter<String, ()> {
        Waiter { org: org.into(), job: key.into(), reply: oneshot::channel().0 }
    }

    fn keys(waiters: &[Waiter<String, ()>]) -> Vec<&str> {
        waiters.iter().map(|w| w.job.as_str()).collect()
    }

    #[test]
    fn a_batch_takes_the_oldest_org_in_order_and_leaves_the_rest_queued() {
        let mut waiting = vec![waiter("a", "1"), waiter("b", "2"), waiter("a", "3")];
        let batch = take_batch(&mut waiting);
        assert_eq!(keys(&batch), ["1", "3"]);
        assert_eq!(keys(&waiting), ["2"]);
    }

    #[test]
    fn a_batch_is_bounded_and_the_rest_waits_in_order() {
        let mut many: Vec<_> = (0..MAX_BATCH + 2).map(|i| waiter("a", &i.to_string())).collect();
        let batch = take_batch(&mut many);
        assert_eq!(batch.len(), MAX_BATCH);
        assert_eq!(keys(&many), [MAX_BATCH.to_string(), (MAX_BATCH + 1).to_string()]);
    }
}
