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
            "e479b46ed9fddf397f1c41dcfda76fdf77f3bc731a1128a481aa8a8ba73c60d6291615a2ae87b72982b8685458d53d97",
        ),
        (
            Backend::Postgres,
            2,
            "6defb121955d208105d6b09dc624554d3af15cc054ac651b31fa58380aa78460e8ae2112d35559196b49c45a00e1e9ab",
        ),
        (
            Backend::Postgres,
            3,
            "a9ea356db9f4547e448e57c8d79bff21d5762f602f1d0793bb385633b541191c03d9053795eee6638cd786711f33c8b9",
        ),
        (
            Backend::Postgres,
            4,
            "09cddd228925477f6ad1c76b7148611c33ee9df2f3307949a908d165bb1c0e676a5d42ef057fdd03d3de00799bea9be7",
        ),
        (
            Backend::Postgres,
            5,
            "036cfa5afe4ebe4b4fbe3b7f023b866cd8d2fb718511262037f3c1f87f9683ec0930e9b424034f7181d42d5f7c8fb942",
        ),
        (
            Backend::Sqlite,
            1,
            "2bad9f3a07c9f41ba8e633cc211e456010e06d55afe1ab8884f125b7992042a3affe44acb49edf56d9ea393ba140108e",
        ),
        (
            Backend::Sqlite,
            3,
            "a9ea356db9f4547e448e57c8d79bff21d5762f602f1d0793bb385633b541191c03d9053795eee6638cd786711f33c8b9",
        ),
        (
            Backend::Sqlite,
            5,
            "e917d1c708ee3a1212313405b38dd9733d29f82cef58149b9384ce1aeeb4ed449741332379d4bf9f57eff130d487ef00",
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
