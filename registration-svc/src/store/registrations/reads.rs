//! Reading registrations the API shows: by id, by number, by held serial, and listed with
//! filters and keyset cursors both ways. An attempt in flight is not a registration yet: reads
//! do not see it.

use std::fmt::Write as _;

use shared::db::Db;
use sqlx::AssertSqlSafe;

use crate::domain::{
    Order, PageBound, Registration, RegistrationFilter, RegistrationId, RegistrationNumber, RegistrationPage,
    SerialNumber, StoreError,
};
use crate::store::{
    Store, on_reader,
    rows::{RegistrationWithItems, items_postgres, items_sqlite, micros, registration_columns},
};

/// The registration of org `$1` whose `$column` is `$2`, with its line items. `$org` is the org
/// condition: on SQLite `+org_id` where the key's own index must win over the org's (its
/// planner otherwise walks every row of the org through `registrations_by_time`).
macro_rules! by_key_sql {
    ($items:ident, $column:literal, $org:literal) => {
        concat!(
            "SELECT ",
            registration_columns!(),
            ", ",
            $items!(),
            " FROM registrations WHERE ",
            $org,
            " = $1 AND ",
            $column,
            " = $2"
        )
    };
}
/// The registration holding serial key `$2`: holdings exist only while their registration is
/// PENDING or APPROVED.
macro_rules! by_serial_sql {
    ($items:ident) => {
        concat!(
            "SELECT ",
            registration_columns!(),
            ", ",
            $items!(),
            " FROM registrations, (SELECT registration_id FROM holdings \
             WHERE org_id = $1 AND serial_key = $2) AS h WHERE registrations.id = h.registration_id"
        )
    };
}

/// A point read's `[postgres, sqlite]` statement.
type PointRead = [&'static str; 2];
const BY_ID: PointRead =
    [by_key_sql!(items_postgres, "id", "org_id"), by_key_sql!(items_sqlite, "id", "+org_id")];
const BY_NUMBER: PointRead = [
    by_key_sql!(items_postgres, "registration_number", "org_id"),
    by_key_sql!(items_sqlite, "registration_number", "org_id"),
];
const BY_SERIAL: PointRead = [by_serial_sql!(items_postgres), by_serial_sql!(items_sqlite)];

/// The point reads of one store: one single-key statement on the read pool per call. Cheap to
/// clone.
#[derive(Clone)]
pub(in crate::store) struct PointReads(Db);

impl PointReads {
    pub(in crate::store) fn new(db: &Db) -> Self {
        Self(db.clone())
    }

    /// The registration `read` finds for `key` in `org`, if there is one.
    async fn get(
        &self,
        [postgres, sqlite]: PointRead,
        org: &str,
        key: &str,
    ) -> Result<Option<RegistrationWithItems>, sqlx::Error> {
        let sql = self.0.pick(postgres, sqlite);
        on_reader!(&self.0, c => sqlx::query_as(sql).bind(org).bind(key).fetch_optional(c))
    }
}

/// The start of a list statement, up to the filters: `$1` is the org. The page is cut in a
/// subquery first, so that the line items are aggregated for its rows only.
macro_rules! list_head {
    ($items:ident) => {
        concat!(
            "SELECT ",
            registration_columns!(),
            ", ",
            $items!(),
            " FROM (SELECT * FROM registrations WHERE org_id = $1 \
             AND status IN ('pending', 'approved', 'denied', 'expired', 'canceled')"
        )
    };
}
const LIST_HEAD_POSTGRES: &str = list_head!(items_postgres);
const LIST_HEAD_SQLITE: &str = list_head!(items_sqlite);
/// [`list_head`] for a `customer_tag` filter (`$2`): the page is cut from the tag's rows of
/// `registration_tags`, which carry the registration's keyset `(create_time, id)` in their
/// index, and joined to their registrations.
macro_rules! tagged_head {
    ($items:ident) => {
        concat!(
            "SELECT ",
            registration_columns!(),
            ", ",
            $items!(),
            " FROM (SELECT registrations.* FROM registration_tags t JOIN registrations \
             ON registrations.id = t.registration_id WHERE t.org_id = $1 AND t.tag = $2 \
             AND registrations.status IN ('pending', 'approved', 'denied', 'expired', 'canceled')"
        )
    };
}
const TAGGED_HEAD_POSTGRES: &str = tagged_head!(items_postgres);
const TAGGED_HEAD_SQLITE: &str = tagged_head!(items_sqlite);

/// The list statement for the filters `filter` sets, scanning up or down the (create time, id)
/// keyset from the cursor, and the filters' values in parameter order (`$2` on): the cursor and
/// the limit follow them. Only the filters in use appear, each a plain `column = $n`, so that
/// every combination is a statement with a plan of its own that can use that filter's index.
/// A `customer_tag` starts from the tag's rows instead (see [`tagged_head`]).
/// One statement for all of them, with `(CAST($n AS TEXT) IS NULL OR column = $n)`, got a
/// generic plan on PostgreSQL that took every filter for selective and sorted the whole org for
/// each page (30 ms a page at 40,000 registrations), and used no filter's index on either.
pub(in crate::store) fn list_statement<'f>(
    db: &Db,
    filter: &'f RegistrationFilter,
    upwards: bool,
) -> (String, Vec<&'f str>) {
    let filters = [
        ("customer_email_key", filter.customer_email.as_ref().map(|e| e.key())),
        ("channel_name", filter.channel_name.as_ref().map(|t| t.as_str())),
        ("registration_number", filter.registration_number.as_ref().map(|n| n.as_str())),
        ("form_slug", filter.form_slug.as_ref().map(|s| s.as_str())),
        ("status", filter.status.map(|s| s.as_str())),
    ];
    let mut values = Vec::new();
    // A tag filter reads the tag's index in keyset order; the other filters apply to its rows.
    let (mut sql, time, id) = match &filter.customer_tag {
        None => (db.pick(LIST_HEAD_POSTGRES, LIST_HEAD_SQLITE).to_owned(), "create_time", "id"),
        Some(tag) => {
            values.push(tag.as_str());
            (
                db.pick(TAGGED_HEAD_POSTGRES, TAGGED_HEAD_SQLITE).to_owned(),
                "t.create_time",
                "t.registration_id",
            )
        }
    };
    for (column, value) in filters {
        if let Some(value) = value {
            values.push(value);
            let _ = write!(sql, " AND {column} = ${}", values.len() + 1);
        }
    }
    let (comparison, direction) = if upwards { (">", "ASC") } else { ("<", "DESC") };
    let cursor = values.len() + 2;
    let _ = write!(
        sql,
        " AND ({time}, {id}) {comparison} (${cursor}, ${}) ORDER BY {time} {direction}, {id} {direction} \
         LIMIT ${}) AS registrations ORDER BY create_time {direction}, id {direction}",
        cursor + 1,
        cursor + 2
    );
    (sql, values)
}

impl Store {
    /// Registration `id` of `org` (none for an attempt not completed).
    pub async fn get_registration(
        &self,
        org: &str,
        id: &RegistrationId,
    ) -> Result<Option<Registration>, StoreError> {
        self.lookup("get_registration", BY_ID, org, id.as_str()).await
    }

    /// The registration numbered `number` in `org`.
    pub async fn lookup_by_number(
        &self,
        org: &str,
        number: &RegistrationNumber,
    ) -> Result<Option<Registration>, StoreError> {
        self.lookup("lookup_by_number", BY_NUMBER, org, number.as_str()).await
    }

    /// The registration of `org` that holds `serial` now (PENDING or APPROVED).
    pub async fn lookup_by_serial(
        &self,
        org: &str,
        serial: &SerialNumber,
    ) -> Result<Option<Registration>, StoreError> {
        self.lookup("lookup_by_serial", BY_SERIAL, org, serial.key()).await
    }

    /// One registration with its line items, in a span named `operation`.
    #[tracing::instrument(name = "db", target = "regserial_spans", skip_all, fields(otel.name = operation, otel.kind = "client", db.system = self.db.system(), db.operation = operation))]
    async fn lookup(
        &self,
        operation: &'static str,
        read: PointRead,
        org: &str,
        key: &str,
    ) -> Result<Option<Registration>, StoreError> {
        let row = self.reads.get(read, org, key).await?;
        row.map(RegistrationWithItems::into_domain).transpose()
    }

    /// One page of `org`'s registrations matching `filter`, in `order` (by create time, then
    /// id): the first page without `bound`, else the `limit` rows just after or just before the
    /// cursor in that order. The page comes back in `order` either way, with the cursors of the
    /// pages around it. Rows added meanwhile never make a row show twice or go missing: the
    /// cursor is a position in the (create time, id) keyset, not an offset.
    #[tracing::instrument(name = "db", target = "regserial_spans", skip_all, fields(otel.name = "list_registrations", otel.kind = "client", db.system = self.db.system(), db.operation = "list_registrations"))]
    pub async fn list_registrations(
        &self,
        org: &str,
        filter: &RegistrationFilter,
        order: Order,
        bound: Option<&PageBound>,
        limit: u32,
    ) -> Result<RegistrationPage, StoreError> {
        let (cursor, forward) = match bound {
            None => (None, true),
            Some(PageBound::After(cursor)) => (Some(cursor), true),
            Some(PageBound::Before(cursor)) => (Some(cursor), false),
        };
        // Walking forward in ascending order, or backward in descending order, scans upwards.
        let upwards = (order == Order::Asc) == forward;
        let (time, id) = match cursor {
            Some(c) => (micros(c.create_time), c.id.as_str()),
            None if upwards => (i64::MIN, ""),
            None => (i64::MAX, ""),
        };
        let rows = self.page_rows(org, filter, upwards, (time, id), limit).await?;
        let mut registrations: Vec<Registration> =
            rows.into_iter().map(RegistrationWithItems::into_domain).collect::<Result<_, _>>()?;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = registrations.len() > limit;
        registrations.truncate(limit);
        if !forward {
            registrations.reverse();
        }
        let first = registrations.first().map(Registration::cursor);
        let last = registrations.last().map(Registration::cursor);
        let (next, previous) = if forward {
            (last.filter(|_| more), first.filter(|_| cursor.is_some()))
        } else {
            (last, first.filter(|_| more))
        };
        Ok(RegistrationPage { registrations, next, previous })
    }

    /// Up to `limit + 1` rows from the cursor, scanning up or down the keyset.
    async fn page_rows(
        &self,
        org: &str,
        filter: &RegistrationFilter,
        upwards: bool,
        (time, id): (i64, &str),
        limit: u32,
    ) -> Result<Vec<RegistrationWithItems>, StoreError> {
        let (sql, values) = list_statement(&self.db, filter, upwards);
        let rows = on_reader!(&self.db, c => {
            let mut query = sqlx::query_as(AssertSqlSafe(sql)).bind(org);
            for value in values {
                query = query.bind(value);
            }
            query.bind(time).bind(id).bind(i64::from(limit) + 1).fetch_all(c)
        })?;
        Ok(rows)
    }
}
