//! `WatchImportJob`: the job each time it changes, until it stops. The job is read from the
//! database every [`WATCH_POLL`], so a watch on any replica follows a runner on any other; the
//! last message, once the job stopped, carries its kept errors.

use chrono::{DateTime, Utc};
use futures::Stream;
use shared::clock::SharedClock;

use crate::domain::import::{ImportId, ImportJob, JobState, WatchError};
use crate::store::Store;

/// How often the job is read.
const WATCH_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// The changes of job `id` of `org`, from its current state; [`WatchError::NotFound`] at once
/// when there is no such job.
pub async fn watch(
    store: Store,
    clock: SharedClock,
    org: String,
    id: ImportId,
) -> Result<impl Stream<Item = Result<ImportJob, WatchError>> + Send + 'static, WatchError> {
    if store.get_import_progress(&org, id.as_str()).await?.is_none() {
        return Err(WatchError::NotFound);
    }
    let watch = Watch { store, clock, org, id, last: None };
    Ok(futures::stream::unfold(Some(watch), |watch| async move {
        let mut watch = watch?;
        let (item, done) = watch.next().await;
        Some((item, if done { None } else { Some(watch) }))
    }))
}

/// One watch: the job's last state sent.
struct Watch {
    store: Store,
    clock: SharedClock,
    org: String,
    id: ImportId,
    last: Option<(DateTime<Utc>, JobState)>,
}

impl Watch {
    /// The next change of the job, and whether the stream ends after it.
    async fn next(&mut self) -> (Result<ImportJob, WatchError>, bool) {
        loop {
            let progress = match self.store.get_import_progress(&self.org, self.id.as_str()).await {
                Ok(Some(progress)) => progress.seen_at(self.clock.now()),
                Ok(None) => return (Err(WatchError::NotFound), true),
                Err(err) => return (Err(err.into()), true),
            };
            let seen = (progress.update_time, progress.state);
            if self.last != Some(seen) {
                self.last = Some(seen);
                if progress.state == JobState::Running {
                    return (Ok(progress), false);
                }
                return (self.with_errors().await, true);
            }
            tokio::time::sleep(WATCH_POLL).await;
        }
    }

    /// The job with its kept errors.
    async fn with_errors(&self) -> Result<ImportJob, WatchError> {
        let full = self.store.get_import(&self.org, self.id.as_str()).await?;
        Ok(full.ok_or(WatchError::NotFound)?.seen_at(self.clock.now()))
    }
}
