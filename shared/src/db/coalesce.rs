//! Point reads answered together: the lookups of one kind that wait at the same moment are
//! read by one statement.
//!
//! The index probe of a point read is cheap; the statement around it is not: a round trip to
//! PostgreSQL, or on SQLite two hand-offs to and from sqlx's per-connection thread (measured at
//! over half of a service's CPU under read load). So a lookup joins a queue, and at most
//! [`MAX_RUNNING`] tasks drain it, each taking every waiting lookup of one org (up to
//! [`MAX_BATCH`] distinct keys) into one statement, the service's [`Fetch`]. Under light load a
//! batch is one lookup.
//!
//! Nothing is cached: each lookup is answered by a statement that started after it was asked,
//! so it sees every write committed before it was asked, as its own statement would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::future::BoxFuture;
use tokio::sync::oneshot;

use super::{Db, StoreError};

/// Statements of coalesced lookups running at once: enough that a batch is being collected while
/// others run, few enough to leave pool connections (8 by default) to every other call.
pub const MAX_RUNNING: usize = 4;
/// Most distinct keys answered by one statement.
pub const MAX_BATCH: usize = 128;

/// Reads the rows of `keys` (distinct, at least one) in org `org` in one statement, each with
/// the key it answers; a key may match no row. Rows are owned, so that the fetch can run on
/// a task of its own.
pub type Fetch<R> = fn(Db, String, Vec<String>) -> BoxFuture<'static, Result<Vec<(String, R)>, sqlx::Error>>;

/// The answer to one lookup; a failed statement fails every lookup it answered alike.
type Answer<R> = Result<Option<R>, Arc<sqlx::Error>>;

/// One kind of lookup's queue. Cheap to clone.
pub struct Coalescer<R> {
    shared: Arc<Shared<R>>,
}

impl<R> Clone for Coalescer<R> {
    fn clone(&self) -> Self {
        Self { shared: self.shared.clone() }
    }
}

struct Shared<R> {
    db: Db,
    fetch: Fetch<R>,
    queue: Mutex<Queue<R>>,
}

struct Queue<R> {
    waiting: Vec<Waiter<R>>,
    /// Drain tasks alive; each ends once it finds the queue empty.
    running: usize,
}

struct Waiter<R> {
    org: String,
    key: String,
    reply: oneshot::Sender<Answer<R>>,
}

impl<R: Clone + Send + 'static> Coalescer<R> {
    pub fn new(db: Db, fetch: Fetch<R>) -> Self {
        let queue = Mutex::new(Queue { waiting: Vec::new(), running: 0 });
        Self { shared: Arc::new(Shared { db, fetch, queue }) }
    }

    fn queue(&self) -> MutexGuard<'_, Queue<R>> {
        self.shared.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The row of `key` in `org`, if there is one.
    pub async fn get(&self, org: &str, key: &str) -> Result<Option<R>, StoreError> {
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
            Err(_) => {
                let rows = (self.shared.fetch)(self.shared.db.clone(), org.to_owned(), vec![key.to_owned()]);
                Ok(rows.await?.into_iter().find(|(k, _)| k == key).map(|(_, row)| row))
            }
        }
    }

    async fn drain(self) {
        let running = Running(&self);
        loop {
            let batch = {
                let mut queue = self.queue();
                if queue.waiting.is_empty() {
                    // Under the lock that found the queue empty: a lookup queued after this
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

    async fn answer(&self, batch: Vec<Waiter<R>>) {
        let mut keys: Vec<String> = batch.iter().map(|waiter| waiter.key.clone()).collect();
        keys.sort_unstable();
        keys.dedup();
        let org = batch[0].org.clone();
        match (self.shared.fetch)(self.shared.db.clone(), org, keys).await {
            Ok(rows) => {
                let found: HashMap<String, R> = rows.into_iter().collect();
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

/// Stops counting a drain task that panicked (a normal end does so under the queue's lock).
struct Running<'a, R>(&'a Coalescer<R>);

impl<R> Drop for Running<'_, R> {
    fn drop(&mut self) {
        let mut queue = self.0.shared.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        queue.running -= 1;
    }
}

/// Removes from `waiting`, oldest first, the lookups of the oldest one's org, up to
/// [`MAX_BATCH`] distinct keys (repeats of a key taken ride along).
fn take_batch<R>(waiting: &mut Vec<Waiter<R>>) -> Vec<Waiter<R>> {
    let org = waiting[0].org.clone();
    let (mut batch, mut rest) = (Vec::new(), Vec::new());
    let mut keys = std::collections::HashSet::new();
    for waiter in waiting.drain(..) {
        let fits = waiter.org == org && (keys.contains(&waiter.key) || keys.len() < MAX_BATCH);
        if fits {
            keys.insert(waiter.key.clone());
            batch.push(waiter);
        } else {
            rest.push(waiter);
        }
    }
    *waiting = rest;
    batch
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiter(org: &str, key: &str) -> Waiter<()> {
        Waiter { org: org.into(), key: key.into(), reply: oneshot::channel().0 }
    }

    fn keys(waiters: &[Waiter<()>]) -> Vec<&str> {
        waiters.iter().map(|w| w.key.as_str()).collect()
    }

    #[test]
    fn a_batch_takes_the_oldest_org_in_order_and_leaves_the_rest_queued() {
        let mut waiting = vec![waiter("a", "1"), waiter("b", "2"), waiter("a", "3")];
        let batch = take_batch(&mut waiting);
        assert_eq!(keys(&batch), ["1", "3"]);
        assert_eq!(keys(&waiting), ["2"]);
    }

    #[test]
    fn a_batch_is_bounded_by_distinct_keys_and_repeats_ride_along() {
        let mut many: Vec<_> = (0..MAX_BATCH + 1).map(|i| waiter("a", &i.to_string())).collect();
        many.push(waiter("a", "0"));
        let batch = take_batch(&mut many);
        assert_eq!(batch.len(), MAX_BATCH + 1, "the repeat of key 0 rides along");
        assert_eq!(keys(&many), [MAX_BATCH.to_string()]);
    }
}
