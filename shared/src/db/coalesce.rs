//! Calls answered together: the calls of one kind that wait at the same moment run as one
//! statement.
//!
//! A statement's own work is often the smaller part of it: a round trip to PostgreSQL, its
//! executor set up over every table and index it touches, its commit; on SQLite two hand-offs
//! to and from sqlx's per-connection thread. So a call joins a queue, and at most
//! [`MAX_RUNNING`] tasks drain it, each taking up to [`MAX_BATCH`] waiting calls of one org into
//! one [`Run`] of the service's. Under light load a batch is one call.
//!
//! An org has one batch in flight at a time: its calls that arrive meanwhile wait for that
//! statement and then go together, rather than a few at a time on several connections that each
//! wake a PostgreSQL backend (or a SQLite thread), plan, lock and commit. Measured on
//! PostgreSQL, point reads went from 0.40–0.52 of Health/Check with up to four batches an org to
//! 0.61–0.64 with one (SQLite 0.54–0.58 to 0.58–0.66); an org's completions took turns on its
//! counter row anyway. Other orgs' batches run beside it, up to [`MAX_RUNNING`].
//!
//! [`Batcher`] carries any call (a write's whole input, say); [`Coalescer`] is the one for point
//! reads. Nothing is cached: each call is answered by a statement that started after it was
//! made, so a read sees every write committed before it was asked, as its own statement would.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::future::BoxFuture;
use tokio::sync::oneshot;

use super::{Db, StoreError};

mod keyed;

pub use keyed::{Coalescer, Fetch, KeyedStatements, read_keys};

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
    /// Drain tasks alive; each ends once no waiting call may start a batch.
    running: usize,
    /// The orgs with a batch in flight (or about to be taken by a drain task).
    in_flight: HashSet<String>,
}

struct Waiter<J, A> {
    org: String,
    job: J,
    reply: oneshot::Sender<Answer<A>>,
}

impl<J, A> Queue<J, A> {
    /// The org of the oldest waiting call whose org has no batch in flight, now in flight.
    fn start_next(&mut self) -> Option<String> {
        let org = self.waiting.iter().find(|w| !self.in_flight.contains(&w.org))?.org.clone();
        self.in_flight.insert(org.clone());
        Some(org)
    }
}

impl<J: Send + 'static, A: Send + 'static> Batcher<J, A> {
    pub fn new(db: Db, run: Run<J, A>) -> Self {
        let queue = Mutex::new(Queue { waiting: Vec::new(), running: 0, in_flight: HashSet::new() });
        Self { shared: Arc::new(Shared { db, run, queue }) }
    }

    fn queue(&self) -> MutexGuard<'_, Queue<J, A>> {
        self.shared.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `job` of `org` with the calls waiting beside it. The call runs to its end even if
    /// the caller goes away.
    pub async fn call(&self, org: &str, job: J) -> Result<A, StoreError> {
        let (reply, answer) = oneshot::channel();
        let start = {
            let mut queue = self.queue();
            queue.waiting.push(Waiter { org: org.to_owned(), job, reply });
            // A call that may not start a batch now is taken by the drain task that ends its
            // org's batch in flight, or the next one free.
            let free = queue.running < MAX_RUNNING && !queue.in_flight.contains(org);
            let start = free.then(|| queue.start_next()).flatten();
            queue.running += usize::from(start.is_some());
            start
        };
        if let Some(org) = start {
            // Spawned, not run by this call: a caller that goes away must not take the
            // answers of the other calls of its batch with it.
            tokio::spawn(self.clone().drain(org));
        }
        match answer.await {
            Ok(answer) => answer.map_err(StoreError::Shared),
            // Only if a drain task panicked.
            Err(_) => Err(StoreError::Corrupt("a batch of calls ended without an answer".into())),
        }
    }

    /// Runs batches, of `org` first (counted in flight by the caller), then of the oldest
    /// waiting call that may start one, until there is none. The next org is chosen under the
    /// lock that ends the batch before, and its batch taken once this task's turn comes again.
    async fn drain(self, org: String) {
        let mut running = Running { batcher: &self, org };
        loop {
            // Calls already made whose tasks have not run yet (a connection's next requests,
            // say) join this batch rather than the next: under load, one statement per call
            // taken as it came cost GetSerial a sixth of its throughput on SQLite (a statement
            // is two thread hand-offs there; a round trip on PostgreSQL).
            tokio::task::yield_now().await;
            let batch = take_batch(&mut self.queue().waiting, &running.org);
            if !batch.is_empty() {
                self.answer(&running.org, batch).await;
            }
            let next = {
                let mut queue = self.queue();
                queue.in_flight.remove(&running.org);
                let Some(next) = queue.start_next() else {
                    // Under the lock that found nothing to start: a call queued after this sees
                    // the free slot and starts a task of its own.
                    queue.running -= 1;
                    std::mem::forget(running);
                    return;
                };
                next
            };
            running.org = next;
        }
    }

    async fn answer(&self, org: &str, batch: Vec<Waiter<J, A>>) {
        let (jobs, replies): (Vec<J>, Vec<_>) = batch.into_iter().map(|w| (w.job, w.reply)).unzip();
        let count = jobs.len();
        match (self.shared.run)(self.shared.db.clone(), org.to_owned(), jobs).await {
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

/// Stops counting a drain task that panicked, and its org's batch (a normal end does so under
/// the queue's lock).
struct Running<'a, J, A> {
    batcher: &'a Batcher<J, A>,
    /// The org whose batch the task runs.
    org: String,
}

impl<J, A> Drop for Running<'_, J, A> {
    fn drop(&mut self) {
        let mut queue = self.batcher.shared.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        queue.in_flight.remove(&self.org);
        queue.running -= 1;
    }
}

/// Removes from `waiting`, oldest first, up to [`MAX_BATCH`] calls of `org`.
fn take_batch<J, A>(waiting: &mut Vec<Waiter<J, A>>, org: &str) -> Vec<Waiter<J, A>> {
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

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;

    fn waiter(org: &str, key: &str) -> Waiter<String, ()> {
        Waiter { org: org.into(), job: key.into(), reply: oneshot::channel().0 }
    }

    fn keys(waiters: &[Waiter<String, ()>]) -> Vec<&str> {
        waiters.iter().map(|w| w.job.as_str()).collect()
    }

    fn queue(waiting: Vec<Waiter<String, ()>>) -> Queue<String, ()> {
        Queue { waiting, running: 0, in_flight: HashSet::new() }
    }

    #[test]
    fn a_batch_takes_its_orgs_calls_in_order_and_leaves_the_rest_queued() {
        let mut waiting = vec![waiter("a", "1"), waiter("b", "2"), waiter("a", "3")];
        let batch = take_batch(&mut waiting, "a");
        assert_eq!(keys(&batch), ["1", "3"]);
        assert_eq!(keys(&waiting), ["2"]);
    }

    #[test]
    fn a_batch_is_bounded_and_the_rest_waits_in_order() {
        let mut many: Vec<_> = (0..MAX_BATCH + 2).map(|i| waiter("a", &i.to_string())).collect();
        let batch = take_batch(&mut many, "a");
        assert_eq!(batch.len(), MAX_BATCH);
        assert_eq!(keys(&many), [MAX_BATCH.to_string(), (MAX_BATCH + 1).to_string()]);
    }

    #[test]
    fn an_org_with_a_batch_in_flight_waits_and_the_oldest_other_org_goes_next() {
        let mut queue = queue(vec![waiter("a", "1"), waiter("b", "2"), waiter("a", "3")]);
        assert_eq!(queue.start_next().as_deref(), Some("a"));
        assert_eq!(queue.start_next().as_deref(), Some("b"));
        assert_eq!(queue.start_next(), None, "a and b each have their batch in flight");
        queue.in_flight.remove("a");
        assert_eq!(queue.start_next().as_deref(), Some("a"));
    }

    /// A batcher whose run records each batch's `(org, jobs)` and holds batches of org `a`
    /// until `release` has a permit.
    async fn recording() -> (
        Batcher<u32, u32>,
        Arc<Mutex<Vec<(String, Vec<u32>)>>>,
        Arc<tokio::sync::Semaphore>,
        tempfile::TempDir,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let db = super::super::connect(&format!("sqlite://{}", dir.path().join("t.db").display()), 1)
            .await
            .unwrap();
        let batches = Arc::new(Mutex::new(Vec::new()));
        let release = Arc::new(tokio::sync::Semaphore::new(0));
        let (seen, gate) = (batches.clone(), release.clone());
        let run: Run<u32, u32> = Arc::new(move |_db, org, jobs: Vec<u32>| {
            seen.lock().unwrap().push((org.clone(), jobs.clone()));
            let gate = gate.clone();
            async move {
                if org == "a" {
                    gate.acquire().await.unwrap().forget();
                }
                Ok(jobs.iter().map(|job| job * 10).collect())
            }
            .boxed()
        });
        (Batcher::new(db, run), batches, release, dir)
    }

    async fn until(batches: &Mutex<Vec<(String, Vec<u32>)>>, count: usize) {
        while batches.lock().unwrap().len() < count {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn calls_made_before_the_batch_is_taken_join_it() {
        let (batcher, batches, _release, _dir) = recording().await;
        // Call 1 starts a drain task; calls 2 to 5 are spawned after it, before it runs.
        let mut later = Vec::new();
        let (first, ()) = tokio::join!(batcher.call("c", 1), async {
            for job in 2..=5 {
                let batcher = batcher.clone();
                later.push(tokio::spawn(async move { batcher.call("c", job).await }));
            }
        });
        assert_eq!(first.unwrap(), 10);
        for (job, call) in (2..=5).zip(later) {
            assert_eq!(call.await.unwrap().unwrap(), job * 10);
        }
        assert_eq!(batches.lock().unwrap().clone(), [("c".into(), vec![1, 2, 3, 4, 5])]);
    }

    #[tokio::test]
    async fn calls_of_an_org_arriving_while_its_batch_runs_go_together_next_and_other_orgs_do_not_wait() {
        let (batcher, batches, release, _dir) = recording().await;
        let first = tokio::spawn({
            let batcher = batcher.clone();
            async move { batcher.call("a", 1).await }
        });
        until(&batches, 1).await;
        let mut later = Vec::new();
        for job in 2..=4 {
            let batcher = batcher.clone();
            later.push(tokio::spawn(async move { batcher.call("a", job).await }));
        }
        // Another org is answered while a's batch is held.
        assert_eq!(batcher.call("b", 9).await.unwrap(), 90);
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert_eq!(batches.lock().unwrap().len(), 2, "a's later calls wait for its batch in flight");
        release.add_permits(2);
        assert_eq!(first.await.unwrap().unwrap(), 10);
        for (job, call) in (2..=4).zip(later) {
            assert_eq!(call.await.unwrap().unwrap(), job * 10);
        }
        let batches = batches.lock().unwrap().clone();
        assert_eq!(batches, [("a".into(), vec![1]), ("b".into(), vec![9]), ("a".into(), vec![2, 3, 4])]);
    }
}
