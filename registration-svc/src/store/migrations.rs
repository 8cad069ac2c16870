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
);

#[cfg(test)]
mod tests {
    use shared::db::migrations::{Backend, migrator};

    use super::MIGRATIONS;

    /// Each backend's migrations as they shipped: version and the SHA-384 sqlx keeps of each in
    /// `_sqlx_migrations`. A database migrated before refuses to start if one of them changes.
    const SHIPPED: &[(Backend, i64, &str)] = &[
        (
            Backend::Postgres,
            1,
            "f8dfab2b1c2233afee17f403e25ea4939a8561f38fcdef057ebad5f3eb0bfd7a4c46239e8e44aefb460cecdacb573031",
        ),
        (
            Backend::Postgres,
            2,
            "8e62a883902f69b3e8d3d2e186f3613763fb0382a10f1c8b6e622a5a2d5f40a33e91c6da5cf28090ffc9910faf424f84",
        ),
        (
            Backend::Postgres,
            3,
            "320dc7bcaa763731e32493d0e4972f3c85904670763ccf985228ec99e7e8ee4abde3c0c42692f4a624e05151ee08343c",
        ),
        (
            Backend::Postgres,
            4,
            "c61a5b5ee3d302a0887157ea533169f662ea148428781451e13bd0f763ebaf664ee40a2667936e55f347bfb09421165d",
        ),
        (
            Backend::Sqlite,
            1,
            "14b18f190585392170a7f84f8f77a5a96f501920993929cff95830f062f93243cd8c5b3b81ed3534fa5f764bf1d60aa2",
        ),
        (
            Backend::Sqlite,
            2,
            "8e62a883902f69b3e8d3d2e186f3613763fb0382a10f1c8b6e622a5a2d5f40a33e91c6da5cf28090ffc9910faf424f84",
        ),
        (
            Backend::Sqlite,
            3,
            "42acbd91445a4080de224af96abc5a62309dfa8eaad8cb5b7ed0ec033205b1b2d1e45bd146d9bbad912104520c7a6384",
        ),
        (
            Backend::Sqlite,
            4,
            "c61a5b5ee3d302a0887157ea533169f662ea148428781451e13bd0f763ebaf664ee40a2667936e55f347bfb09421165d",
        ),
    ];

    #[test]
    fn every_migration_renders_as_it_shipped() {
        for backend in [Backend::Postgres, Backend::Sqlite] {
            let rendered: Vec<(i64, String)> = migrator(MIGRATIONS, backend)
                .expect("migrations render")
                .iter()
                .map(|m| (m.version, m.checksum.iter().map(|b| format!("{b:02x}")).collect()))
                .collect();
            let shipped: Vec<(i64, String)> = SHIPPED
                .iter()
                .filter(|(b, ..)| *b == backend)
                .map(|(_, version, sum)| (*version, (*sum).to_owned()))
                .collect();
            assert_eq!(rendered, shipped, "{backend:?}");
        }
    }
}
