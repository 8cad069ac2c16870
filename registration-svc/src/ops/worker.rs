//! The recovery worker: every pass it expires registrations pending past the review period,
//! rolls back creation attempts left open past their lease (their request died, or answered
//! UNAVAILABLE: never completed behind the caller's back), and carries out due releases and
//! swap claims. Work is leased in the database (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL), so every replica runs a worker and none does an item another is doing.
//!
//! The worker acts for nobody in particular, so it mints a token per org with
//! `registrations:write`, signed like the callers' tokens (`--jwt-secret` or
//! `--service-token-key-file`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::{StreamExt, stream};
use shared::auth::{Scope, TokenSigner};
use shared::clock::SharedClock;
use shared::db::request_keys::{PURGE_INTERVAL, RETENTION};

use super::{Saga, SagaError};
use crate::domain::{Attempt, Ctx, Intent, ReviewPeriod, StoreError, SwapAttempt};

/// The `sub` of the worker's tokens, recorded as the actor of what it does.
pub const WORKER_SUBJECT: &str = "registration-svc/recovery";
/// How long a worker token lives; a new one is minted when less than half is left.
const TOKEN_TTL: Duration = Duration::from_secs(600);
/// Items driven at once in a pass.
const CONCURRENCY: usize = 8;

/// How the recovery worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Pause between passes.
    pub interval: Duration,
    /// Most attempts, intents and expiries taken per pass, each.
    pub batch: u32,
    /// PENDING longer than this: EXPIRED.
    pub review_period: ReviewPeriod,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub expired: usize,
    pub attempts: usize,
    pub intents: usize,
}

impl Pass {
    /// Whether the pass found a full batch of anything (so there may be more right away).
    fn was_full(&self, batch: u32) -> bool {
        let batch = batch as usize;
        self.expired >= batch || self.attempts >= batch || self.intents >= batch
    }
}

/// Re-drives what requests left in between. One per process.
pub struct RecoveryWorker {
    saga: Saga,
    tokens: WorkerTokens,
    clock: SharedClock,
    config: WorkerConfig,
}

impl RecoveryWorker {
    pub fn new(saga: Saga, signer: TokenSigner, clock: SharedClock, config: WorkerConfig) -> Self {
        Self { saga, tokens: WorkerTokens { signer, minted: Mutex::default() }, clock, config }
    }

    /// Runs passes until the task is dropped or aborted. Stopping mid-pass is safe: a leased
    /// item nobody finished is due again when its lease ends.
    pub async fn run(self) {
        let mut purged_at: Option<Instant> = None;
        loop {
            if purged_at.is_none_or(|at| at.elapsed() >= PURGE_INTERVAL) {
                self.purge_request_keys().await;
                purged_at = Some(Instant::now());
            }
            let full = match self.pass().await {
                Ok(pass) => {
                    if pass != Pass::default() {
                        tracing::info!(
                            expired = pass.expired,
                            attempts = pass.attempts,
                            intents = pass.intents,
                            "recovery pass"
                        );
                    }
                    pass.was_full(self.config.batch)
                }
                Err(err) => {
                    tracing::warn!(error = %err, cause = ?err, "recovery pass failed");
                    false
                }
            };
            if !full {
                tokio::time::sleep(self.config.interval).await;
            }
        }
    }

    /// One pass: expiries first (their releases are then due at once), then the rollback of
    /// stale attempts, then due releases and swap claims. A failure to drive one item is logged and left to
    /// a later pass; only a failure to lease stops the pass.
    pub async fn pass(&self) -> Result<Pass, StoreError> {
        let store = self.saga.store();
        let now = self.clock.now();
        let expired = store.expire_overdue(now, self.config.review_period, self.config.batch).await?;
        let attempts = store.lease_stale_attempts(now, self.config.batch).await?;
        let attempt_count = attempts.len();
        let drives: Vec<_> = attempts.into_iter().map(|attempt| self.drive_attempt(attempt)).collect();
        stream::iter(drives).buffer_unordered(CONCURRENCY).for_each(|()| async {}).await;
        let intents = store.lease_due_intents(self.clock.now(), self.config.batch).await?;
        let intent_count = intents.len();
        let drives: Vec<_> = intents.iter().map(|intent| self.drive_intent(intent)).collect();
        stream::iter(drives).buffer_unordered(CONCURRENCY).for_each(|()| async {}).await;
        Ok(Pass { expired: expired.len(), attempts: attempt_count, intents: intent_count })
    }

    /// Forgets request keys older than [`RETENTION`].
    async fn purge_request_keys(&self) {
        let before = self.clock.now() - RETENTION;
        match self.saga.store().purge_request_keys(before).await {
            Ok(purged) => tracing::debug!(purged, %before, "request keys purged"),
            Err(err) => tracing::warn!(error = %err, cause = ?err, "cannot purge request keys"),
        }
    }

    async fn drive_attempt(&self, attempt: Attempt) {
        let org = attempt.org_id.clone();
        let id = attempt.id.clone();
        let result = match self.tokens.for_org(&org) {
            Ok(token) => {
                let ctx = Ctx { org: &org, actor: WORKER_SUBJECT, now: self.clock.now() };
                self.saga.roll_back(&ctx, &token, &attempt).await
            }
            Err(err) => Err(SagaError::Inconsistent(format!("cannot mint a token: {err:#}"))),
        };
        log_outcome("attempt", id.as_str(), result);
    }

    async fn drive_intent(&self, intent: &Intent) {
        log_outcome("intent", &intent.id.to_string(), self.try_intent(intent).await);
    }

    async fn try_intent(&self, intent: &Intent) -> Result<(), SagaError> {
        let token =
            self.tokens.for_org(&intent.org_id).map_err(|err| SagaError::Inconsistent(format!("{err:#}")))?;
        let ctx = Ctx { org: &intent.org_id, actor: WORKER_SUBJECT, now: self.clock.now() };
        if !intent.is_swap_claim() {
            return self.saga.release(&ctx, &token, intent).await;
        }
        // The lease returned the swap's claim as it is now: nothing to read again.
        let swap = SwapAttempt { claim: intent.clone() };
        self.saga.drive_swap(&ctx, &token, swap).await.map(drop)
    }
}

/// A refusal is a final outcome the saga recorded (the attempt failed, the swap aborted);
/// anything else is retried by a later pass.
fn log_outcome(kind: &str, id: &str, result: Result<(), SagaError>) {
    match result {
        Ok(()) if kind == "attempt" => tracing::info!(kind, id, "rolled back"),
        Ok(()) => tracing::debug!(kind, id, "recovered"),
        Err(SagaError::Refused(failure)) => {
            tracing::info!(kind, id, code = %failure.code, "recovered as refused")
        }
        Err(err) => tracing::warn!(kind, id, error = %err, "not recovered yet; retried later"),
    }
}

/// The worker's tokens, one per org, reused until half their life is gone.
struct WorkerTokens {
    signer: TokenSigner,
    minted: Mutex<HashMap<String, (String, Instant)>>,
}

impl WorkerTokens {
    fn for_org(&self, org: &str) -> anyhow::Result<String> {
        let mut minted = self.minted.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((token, at)) = minted.get(org)
            && at.elapsed() < TOKEN_TTL / 2
        {
            return Ok(token.clone());
        }
        let token = self.signer.mint(org, WORKER_SUBJECT, &[Scope::RegistrationsWrite], TOKEN_TTL)?;
        minted.insert(org.to_owned(), (token.clone(), Instant::now()));
        Ok(token)
    }
}
