//! The schema's migrations, one file for both backends where they agree (see
//! [`shared::db::migrations`]).

use shared::db::migrations::Source;

/// Every migration, in order. A new one is added here and never changed once shipped.
pub const MIGRATIONS: &[Source] = shared::migrations!("migrations":
    "0001_registrations.sql",
    "0002_intents_due_for_the_worker_only.sql",
    "0003_line_items_without_serial.postgres.sql",
    "0003_line_items_without_serial.sqlite.sql",
    "0004_customer_tags.sql",
    "0005_attempts.sql",
    "0006_attempts_from_registrations.postgres.sql",
    "0006_attempts_from_registrations.sqlite.sql",
);

/// Each backend's migrations as they shipped (see [`shared::db::migrations::assert_shipped`]).
#[test]
fn every_migration_renders_as_it_shipped() {
    shared::db::migrations::assert_shipped(MIGRATIONS, include_str!("../../migrations/shipped.sha384"));
}
