//! The schema's migrations, one file for both backends where they agree (see
//! [`shared::db::migrations`]).

use shared::db::migrations::Source;

/// Every migration, in order. A new one is added here and never changed once shipped.
pub const MIGRATIONS: &[Source] = shared::migrations!("migrations":
    "0001_serials.sql",
    "0002_bytewise_keys.postgres.sql",
    "0003_created_event_in_the_row.sql",
    "0004_org_first_primary_key.postgres.sql",
    "0005_import_jobs.sql",
);

/// Each backend's migrations as they shipped (see [`shared::db::migrations::assert_shipped`]).
#[test]
fn every_migration_renders_as_it_shipped() {
    shared::db::migrations::assert_shipped(MIGRATIONS, include_str!("../../migrations/shipped.sha384"));
}
