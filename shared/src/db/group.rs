//! Group commit on SQLite's one writer: the write scripts submitted while a group is being
//! written are written together in the next one, one transaction for all of them, each script
//! under a savepoint of its own. They share one `BEGIN IMMEDIATE`, one `COMMIT` and one WAL
//! commit (the pages two scripts both change are written once), instead of each taking the
//! writer for a transaction of its own; a script that fails is rolled back to its savepoint
//! alone and answered with its own error. Answers go out only once the group committed.
//!
//! Scripts are sqlx queries with their arguments bound (owned, so a group can run on a task of
//! its own: a caller going away never cuts a group short), made with
//! [`sqlite_savepoint!`](crate::sqlite_savepoint).

use std::sync::{Arc, Mutex, MutexGuard};

use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::oneshot;

use super::StoreError;

/// Most scripts in one group: bounds how long the writer is held by one transaction.
pub const MAX_GROUP: usize = 64;

/// A write script with its arguments bound.
pub type Script = sqlx::query::Query<'static, Sqlite, SqliteArguments>;

type Answer = Result<Vec<SqliteRow>, StoreError>;

/// The writer's group-commit queue. Cheap to clone.
#[derive(Clone)]
pub struct GroupCommit {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupCommit")
    }
}

struct Shared {
    writer: SqlitePool,
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Job>,
    /// Whether a task is writing groups; it ends once it finds the queue empty.
    running: bool,
}

struct Job {
    script: Script,
    reply: oneshot::Sender<Answer>,
}

impl GroupCommit {
    pub fn new(writer: SqlitePool) -> Self {
        Self { shared: Arc::new(Shared { writer, queue: Mutex::default() }) }
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.shared.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `script` in the next group; its rows once the group committed.
    pub async fn run(&self, script: Script) -> Answer {
        let (reply, answer) = oneshot::channel();
        let start = {
            let mut queue = self.queue();
            queue.waiting.push(Job { script, reply });
            !std::mem::replace(&mut queue.running, true)
        };
        if start {
            tokio::spawn(self.clone().drain());
        }
        answer.await.unwrap_or_else(|_| Err(StoreError::Corrupt("the group commit task stopped".into())))
    }

    async fn drain(self) {
        let running = Running(&self);
        loop {
            let group: Vec<Job> = {
                let mut queue = self.queue();
                if queue.waiting.is_empty() {
                    // Under the lock that found the queue empty: a script queued after this
                    // starts a task of its own.
                    queue.running = false;
                    std::mem::forget(running);
                    return;
                }
                let take = queue.waiting.len().min(MAX_GROUP);
                queue.waiting.drain(..take).collect()
            };
            self.write(group).await;
        }
    }

    /// Writes `group` in one transaction and answers every script.
    async fn write(&self, group: Vec<Job>) {
        let mut conn = match self.shared.writer.acquire().await {
            Ok(conn) => WriterConn(Some(conn)),
            Err(err) => return fail_all(group, err),
        };
        if let Err(err) = sqlx::query("BEGIN IMMEDIATE").execute(conn.conn()).await {
            conn.roll_back().await;
            return fail_all(group, err);
        }
        let mut written = Vec::with_capacity(group.len());
        let mut jobs = group.into_iter();
        while let Some(job) = jobs.next() {
            match job.script.fetch_all(conn.conn()).await {
                Ok(rows) => written.push((job.reply, rows)),
                Err(err) => {
                    let undone = sqlx::query("ROLLBACK TO job; RELEASE job").execute(conn.conn()).await;
                    let _ = job.reply.send(Err(err.into()));
                    if let Err(err) = undone {
                        // The transaction is not what the scripts left: give it all up.
                        conn.roll_back().await;
                        let err = Arc::new(err);
                        let replies = written.into_iter().map(|(reply, _)| reply);
                        for reply in replies.chain(jobs.map(|job| job.reply)) {
                            let _ = reply.send(Err(StoreError::Shared(err.clone())));
                        }
                        return;
                    }
                }
            }
        }
        match sqlx::query("COMMIT").execute(conn.conn()).await {
            Ok(_) => {
                conn.done();
                for (reply, rows) in written {
                    let _ = reply.send(Ok(rows));
                }
            }
            Err(err) => {
                conn.roll_back().await;
                let err = Arc::new(err);
                for (reply, _) in written {
                    let _ = reply.send(Err(StoreError::Shared(err.clone())));
                }
            }
        }
    }
}

/// The writer connection a group is written on. Unless its transaction finished
/// ([`WriterConn::done`]) or was rolled back, the connection is closed instead of going back to
/// the pool: closing rolls back whatever a transaction stopped half-way left open (a panic
/// between two statements, say), so the next writer never starts inside it.
struct WriterConn(Option<PoolConnection<Sqlite>>);

impl WriterConn {
    fn conn(&mut self) -> &mut SqliteConnection {
        self.0.as_deref_mut().expect("a writer connection is used until done")
    }

    /// The transaction committed: back to the pool.
    fn done(mut self) {
        drop(self.0.take());
    }

    /// The transaction failed: roll back what it left open (closing the connection if that
    /// fails, e.g. because SQLite already rolled back).
    async fn roll_back(mut self) {
        if sqlx::query("ROLLBACK").execute(self.conn()).await.is_ok() {
            self.done();
        }
    }
}

impl Drop for WriterConn {
    fn drop(&mut self) {
        if let Some(mut conn) = self.0.take() {
            conn.close_on_drop();
        }
    }
}

fn fail_all(group: Vec<Job>, err: sqlx::Error) {
    let err = Arc::new(err);
    for job in group {
        let _ = job.reply.send(Err(StoreError::Shared(err.clone())));
    }
}

/// Marks the queue as drained if the task panics (a normal end does so under the queue's lock).
struct Running<'a>(&'a GroupCommit);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.queue().running = false;
    }
}

/// A SQLite write script for [`GroupCommit`]: the statements given, under the savepoint `job`.
#[macro_export]
macro_rules! sqlite_savepoint {
    ($($statements:expr),+ $(,)?) => {
        concat!("SAVEPOINT job; ", $($statements),+, "; RELEASE job")
    };
}

#[cfg(test)]
mod tests {
    use futures::future::join_all;

    use crate::db::{Db, connect};

    async fn sqlite() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = connect(&format!("sqlite://{}", dir.path().join("t.db").display()), 2).await.unwrap();
        let Db::Sqlite(pools) = &db else { unreachable!() };
        sqlx::query("CREATE TABLE t (x INTEGER PRIMARY KEY)").execute(&pools.writer).await.unwrap();
        (dir, db)
    }

    fn pools(db: &Db) -> &crate::db::SqlitePools {
        let Db::Sqlite(pools) = db else { unreachable!() };
        pools
    }

    async fn rows(db: &Db) -> Vec<i64> {
        sqlx::query_scalar("SELECT x FROM t ORDER BY x").fetch_all(&pools(db).reader).await.unwrap()
    }

    const INSERT_TWO: &str = sqlite_savepoint!("INSERT INTO t VALUES ($1); INSERT INTO t VALUES ($2)");

    #[tokio::test]
    async fn concurrent_scripts_all_commit_and_a_failing_one_is_rolled_back_alone() {
        let (_dir, db) = sqlite().await;
        let group = &pools(&db).group;
        // Script 5 inserts 50 twice: its first insert must not survive, nor stop the others.
        let scripts = (0..10_i64).map(|i| {
            let second = if i == 5 { 50 } else { 10 * i + 1 };
            group.run(sqlx::query(INSERT_TWO).bind(10 * i).bind(second))
        });
        let answers = join_all(scripts).await;
        for (i, answer) in answers.iter().enumerate() {
            match (i, answer) {
                (5, Err(err)) => assert!(err.is_unique_violation(), "{err:?}"),
                (5, Ok(_)) => panic!("script 5 inserted 50 twice"),
                (_, answer) => assert!(answer.is_ok(), "script {i}: {answer:?}"),
            }
        }
        let expected: Vec<i64> = (0..10).filter(|i| *i != 5).flat_map(|i| [10 * i, 10 * i + 1]).collect();
        assert_eq!(rows(&db).await, expected);
        // The writer goes on.
        group.run(sqlx::query(INSERT_TWO).bind(50).bind(51)).await.unwrap();
        assert!(rows(&db).await.contains(&50));
    }

    #[tokio::test]
    async fn a_caller_that_goes_away_does_not_cut_its_group_short() {
        let (_dir, db) = sqlite().await;
        let group = &pools(&db).group;
        let mut call = Box::pin(group.run(sqlx::query(INSERT_TWO).bind(1).bind(2)));
        assert!(futures::poll!(&mut call).is_pending(), "queued, not yet written");
        drop(call);
        group.run(sqlx::query(INSERT_TWO).bind(3).bind(4)).await.unwrap();
        assert_eq!(rows(&db).await, [1, 2, 3, 4], "the abandoned script was written whole");
    }
}
