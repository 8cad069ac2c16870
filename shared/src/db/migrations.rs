//! A service's migrations, written once for both backends. A file `NNNN_description.sql` is
//! applied on both; where a word differs it is written `{{postgres|sqlite}}` (`{{BYTEA|BLOB}}`,
//! `TEXT {{COLLATE "C" |}}NOT NULL`). A step only one backend needs, or that each takes its own
//! way (SQLite rebuilds a table to drop a NOT NULL), is `NNNN_description.postgres.sql` and/or
//! `NNNN_description.sqlite.sql`.
//!
//! Each backend's rendering is exactly the text its migration had when it shipped, so sqlx's
//! checksums of databases migrated before still match (each service tests this).

use std::borrow::Cow;

use anyhow::{Context, bail};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};

/// The two databases a service runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// One migration file, as [`migrations!`](crate::migrations) embeds it.
#[derive(Clone, Copy, Debug)]
pub struct Source {
    pub name: &'static str,
    pub sql: &'static str,
}

/// The [`Source`]s of `$file`s in the invoking crate's folder `$dir`, embedded at compile
/// time: `shared::migrations!("migrations": "0001_serials.sql", "0002_keys.postgres.sql")`.
#[macro_export]
macro_rules! migrations {
    ($dir:literal: $($file:literal),* $(,)?) => {
        &[$($crate::db::migrations::Source {
            name: $file,
            sql: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $dir, "/", $file)),
        }),*]
    };
}

/// The migrator of `backend`: its files of `sources`, rendered for it.
pub fn migrator(sources: &[Source], backend: Backend) -> anyhow::Result<Migrator> {
    let mut migrations = Vec::new();
    for source in sources {
        if let Some((version, description, sql)) = render(source, backend)? {
            let sql = AssertSqlSafe(sql).into_sql_str();
            migrations.push(Migration::new(
                version,
                Cow::Owned(description),
                MigrationType::Simple,
                sql,
                false,
            ));
        }
    }
    Ok(Migrator::with_migrations(migrations))
}

/// Panics unless `sources` render, on both backends, to exactly the migrations `shipped` lists
/// (lines `backend version sha384`, the checksum sqlx keeps in `_sqlx_migrations`): a database
/// migrated before refuses to start if a shipped migration changes, and a new migration adds
/// its lines once it ships. For each service's tests.
pub fn assert_shipped(sources: &[Source], shipped: &str) {
    let mut rendered = Vec::new();
    for (backend, name) in [(Backend::Postgres, "postgres"), (Backend::Sqlite, "sqlite")] {
        for migration in migrator(sources, backend).expect("migrations render").iter() {
            let sum: String = migration.checksum.iter().map(|b| format!("{b:02x}")).collect();
            rendered.push(format!("{name} {} {sum}", migration.version));
        }
    }
    assert_eq!(rendered, shipped.lines().collect::<Vec<_>>(), "migrations differ from those shipped");
}

/// `source`'s version, description (as sqlx derives it from the file name) and SQL for
/// `backend`, or `None` when the file is the other backend's.
pub fn render(source: &Source, backend: Backend) -> anyhow::Result<Option<(i64, String, String)>> {
    let name = source.name;
    let (version, rest) =
        name.split_once('_').with_context(|| format!("migration {name}: no NNNN_ prefix"))?;
    let version: i64 =
        version.parse().with_context(|| format!("migration {name}: version is not a number"))?;
    let rest = rest.strip_suffix(".sql").with_context(|| format!("migration {name}: not a .sql file"))?;
    let (description, only) = match rest.rsplit_once('.') {
        Some((description, "postgres")) => (description, Some(Backend::Postgres)),
        Some((description, "sqlite")) => (description, Some(Backend::Sqlite)),
        Some(_) => bail!("migration {name}: the only suffixes are .postgres.sql and .sqlite.sql"),
        None => (rest, None),
    };
    if only.is_some_and(|only| only != backend) {
        return Ok(None);
    }
    let sql = words_of(source.sql, backend).with_context(|| format!("migration {name}"))?;
    Ok(Some((version, description.replace('_', " "), sql)))
}

/// `sql` with each `{{postgres|sqlite}}` replaced by `backend`'s side.
fn words_of(sql: &str, backend: Backend) -> anyhow::Result<String> {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find("}}") else { bail!("a {{{{ is never closed") };
        let inner = &rest[start + 2..start + end];
        let Some((postgres, sqlite)) = inner.split_once('|') else { bail!("{{{{{inner}}}}} has no |") };
        out.push_str(if backend == Backend::Postgres { postgres } else { sqlite });
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &'static str, sql: &'static str) -> Source {
        Source { name, sql }
    }

    #[test]
    fn each_backend_gets_its_side_of_every_word() {
        let file = source(
            "0007_keys_and_blobs.sql",
            "a {{BIGSERIAL|INTEGER  }} b {{BYTEA|BLOB}}, c {{COLLATE \"C\" |}}x",
        );
        let (version, description, pg) = render(&file, Backend::Postgres).unwrap().unwrap();
        assert_eq!((version, description.as_str()), (7, "keys and blobs"));
        assert_eq!(pg, "a BIGSERIAL b BYTEA, c COLLATE \"C\" x");
        assert_eq!(render(&file, Backend::Sqlite).unwrap().unwrap().2, "a INTEGER   b BLOB, c x");
    }

    #[test]
    fn a_backends_own_file_is_skipped_by_the_other() {
        let file = source("0002_bytewise_keys.postgres.sql", "ALTER ...");
        assert_eq!(render(&file, Backend::Sqlite).unwrap(), None);
        let (version, description, sql) = render(&file, Backend::Postgres).unwrap().unwrap();
        assert_eq!((version, description.as_str(), sql.as_str()), (2, "bytewise keys", "ALTER ..."));
    }

    #[test]
    fn malformed_files_are_named() {
        for (name, sql) in [
            ("x.sql", ""),
            ("0001_a.txt", ""),
            ("0001_a.mysql.sql", ""),
            ("0001_a.sql", "{{a"),
            ("0001_a.sql", "{{a}}"),
        ] {
            let err = render(&source(name, sql), Backend::Postgres).unwrap_err();
            assert!(format!("{err:#}").contains(name), "{name}: {err:#}");
        }
    }
}
