//! The review transitions: approve, deny, cancel, expire (one at a time or as a sweep). Each is
//! one conditional `UPDATE` from the states [`Transition::allowed_from`] names, so of
//! concurrent transitions of one registration exactly those that are still allowed when their
//! turn comes succeed; those that leave PENDING or APPROVED delete the holdings and write a
//! `release` intent per serial in the same transaction.

use chrono::{DateTime, Utc};
use futures::TryFutureExt;

use crate::domain::{
    Ctx, Registration, RegistrationId, RegistrationStatus, RequestKey, ReviewPeriod, StoreError, Text,
    Transition, TransitionError,
};
use crate::store::{
    Store, Tx, load, on_tx,
    release::{from_states, release_holdings},
    request_keys::begin_write,
    rows::{micros, registration_id},
};

const APPROVE: &str = "UPDATE registrations SET status = $3, review_time = $4, update_time = $4 \
     WHERE org_id = $1 AND id = $2 AND status IN ($5, $6)";
const DENY: &str = "UPDATE registrations SET status = $3, review_time = $4, update_time = $4, denial_reason = $7 \
     WHERE org_id = $1 AND id = $2 AND status IN ($5, $6)";
const CANCEL: &str = "UPDATE registrations SET status = $3, cancel_time = $4, update_time = $4 \
     WHERE org_id = $1 AND id = $2 AND status IN ($5, $6)";
const EXPIRE: &str = "UPDATE registrations SET status = $3, update_time = $4 \
     WHERE org_id = $1 AND id = $2 AND status IN ($5, $6) AND create_time <= $7";

macro_rules! overdue_sql {
    ($lock:literal) => {
        concat!(
            "SELECT org_id, id FROM registrations WHERE status = 'pending' AND create_time <= $1 \
             ORDER BY create_time, id LIMIT $2",
            $lock
        )
    };
}
pub(in crate::store) const OVERDUE_POSTGRES: &str = overdue_sql!(" FOR UPDATE SKIP LOCKED");
pub(in crate::store) const OVERDUE_SQLITE: &str = overdue_sql!("");

/// A review transition with what it needs.
#[derive(Clone, Copy)]
enum Review<'a> {
    Approve,
    Deny(Option<&'a Text>),
    Cancel,
    /// Only if created at or before this instant.
    Expire(DateTime<Utc>),
}

impl Review<'_> {
    fn transition(self) -> Transition {
        match self {
            Self::Approve => Transition::Approve,
            Self::Deny(_) => Transition::Deny,
            Self::Cancel => Transition::Cancel,
            Self::Expire(_) => Transition::Expire,
        }
    }
}

/// Applies `review` to registration `id` if its state allows; returns whether it did.
async fn apply(
    tx: &mut Tx,
    org: &str,
    id: &str,
    review: Review<'_>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let transition = review.transition();
    let (from_a, from_b) = from_states(transition);
    let target = transition.target().as_str();
    let now = micros(now);
    macro_rules! run {
        ($sql:expr $(, $extra:expr)?) => {
            on_tx!(tx, c => sqlx::query($sql)
                .bind(org).bind(id).bind(target).bind(now).bind(from_a).bind(from_b)
                $(.bind($extra))?
                .execute(c).map_ok(|r| r.rows_affected()))
        };
    }
    let changed = match review {
        Review::Approve => run!(APPROVE)?,
        Review::Deny(reason) => run!(DENY, reason.map(Text::as_str))?,
        Review::Cancel => run!(CANCEL)?,
        Review::Expire(cutoff) => run!(EXPIRE, micros(cutoff))?,
    };
    Ok(changed > 0)
}

impl Store {
    /// PENDING -> APPROVED. The serials stay held.
    pub async fn approve_registration(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        id: &RegistrationId,
    ) -> Result<Registration, TransitionError> {
        self.review(ctx, key, id, Review::Approve).await
    }

    /// PENDING -> DENIED with `reason`; the serials are released.
    pub async fn deny_registration(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        id: &RegistrationId,
        reason: Option<&Text>,
    ) -> Result<Registration, TransitionError> {
        self.review(ctx, key, id, Review::Deny(reason)).await
    }

    /// PENDING or APPROVED -> CANCELED; the serials are released.
    pub async fn cancel_registration(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        id: &RegistrationId,
    ) -> Result<Registration, TransitionError> {
        self.review(ctx, key, id, Review::Cancel).await
    }

    /// PENDING -> EXPIRED once pending longer than `period` ([`TransitionError::NotDue`]
    /// before); the serials are released.
    pub async fn expire_registration(
        &self,
        ctx: &Ctx<'_>,
        id: &RegistrationId,
        period: ReviewPeriod,
    ) -> Result<Registration, TransitionError> {
        self.review(ctx, None, id, Review::Expire(period.cutoff(ctx.now))).await
    }

    async fn review(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        id: &RegistrationId,
        review: Review<'_>,
    ) -> Result<Registration, TransitionError> {
        let mut write = begin_write!(&self.db, ctx, key);
        if !apply(&mut write.tx, ctx.org, id.as_str(), review, ctx.now).await? {
            let current = load::registration(&mut write.tx, ctx.org, id).await?;
            let from = current.map(|r| r.status).ok_or(TransitionError::NotFound)?;
            return Err(match review {
                Review::Expire(_) if from == RegistrationStatus::Pending => TransitionError::NotDue,
                _ => TransitionError::InvalidTransition { from },
            });
        }
        if review.transition().releases_serials() {
            release_holdings(&mut write.tx, ctx.org, id, ctx.now).await?;
        }
        let registration = load::existing(&mut write.tx, ctx.org, id).await?;
        write.commit(&registration).await?;
        Ok(registration)
    }

    /// The expiry sweep, across orgs: up to `limit` registrations pending longer than `period`
    /// at `now`, oldest first, expired with their serials released; returns them.
    pub async fn expire_overdue(
        &self,
        now: DateTime<Utc>,
        period: ReviewPeriod,
        limit: u32,
    ) -> Result<Vec<Registration>, StoreError> {
        let cutoff = period.cutoff(now);
        let mut tx = self.db.begin_write().await?;
        let sql = tx.pick(OVERDUE_POSTGRES, OVERDUE_SQLITE);
        let overdue: Vec<(String, String)> = on_tx!(&mut tx, c => sqlx::query_as(sql).bind(micros(cutoff)).bind(i64::from(limit)).fetch_all(c))?;
        let mut expired = Vec::with_capacity(overdue.len());
        for (org, id) in overdue {
            let id = registration_id(&id)?;
            if apply(&mut tx, &org, id.as_str(), Review::Expire(cutoff), now).await? {
                release_holdings(&mut tx, &org, &id, now).await?;
                expired.push(load::existing(&mut tx, &org, &id).await?);
            }
        }
        tx.commit().await?;
        Ok(expired)
    }
}
