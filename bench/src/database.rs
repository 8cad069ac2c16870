//! A fresh database per run: a SQLite file in the run's temporary directory, or a new
//! PostgreSQL database that is dropped at the end.

use std::path::Path;

use anyhow::{Context, bail};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::args::Backend;

#[derive(Debug)]
pub struct FreshDatabase {
    url: String,
    postgres: Option<PostgresDatabase>,
}

#[derive(Debug)]
struct PostgresDatabase {
    admin_url: String,
    name: String,
}

impl FreshDatabase {
    /// Creates an empty database for `backend`; SQLite files go in `dir`.
    pub async fn create(backend: Backend, admin_url: &str, dir: &Path) -> anyhow::Result<Self> {
        match backend {
            Backend::Sqlite => {
                let path = dir.join("serial-svc.db");
                let path = path.to_str().context("the temporary directory path is not valid utf-8")?;
                Ok(Self { url: format!("sqlite://{path}"), postgres: None })
            }
            Backend::Postgres => {
                let name = format!("regserial_bench_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
                let url = with_database(admin_url, &name)?;
                let mut admin = connect(admin_url).await?;
                // `name` is our own lowercase ascii identifier, so it can be spliced into the DDL.
                sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .with_context(|| format!("cannot create database {name}"))?;
                admin.close().await.ok();
                Ok(Self { url, postgres: Some(PostgresDatabase { admin_url: admin_url.to_owned(), name }) })
            }
        }
    }

    /// The `--database-url` to give serial-svc.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the PostgreSQL database (SQLite files go with the temporary directory).
    pub async fn remove(self) -> anyhow::Result<()> {
        let Some(PostgresDatabase { admin_url, name }) = self.postgres else {
            return Ok(());
        };
        let mut admin = connect(&admin_url).await?;
        sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&mut admin)
            .await
            .with_context(|| format!("cannot drop database {name}"))?;
        admin.close().await.ok();
        Ok(())
    }
}

pub(crate) async fn connect(admin_url: &str) -> anyhow::Result<PgConnection> {
    let connecting = PgConnection::connect(admin_url);
    tokio::time::timeout(std::time::Duration::from_secs(10), connecting)
        .await
        .with_context(|| format!("timed out connecting to {}", redact(admin_url)))?
        .with_context(|| format!("cannot connect to {}", redact(admin_url)))
}

/// `url` with its database (the path) replaced by `database`, keeping any query string.
fn with_database(url: &str, database: &str) -> anyhow::Result<String> {
    let Some(scheme_end) = url.find("://") else {
        bail!("postgres url {} has no scheme", redact(url));
    };
    let (without_query, query) = match url.find('?') {
        Some(at) => url.split_at(at),
        None => (url, ""),
    };
    let authority_start = scheme_end + 3;
    let authority_end =
        without_query[authority_start..].find('/').map_or(without_query.len(), |at| authority_start + at);
    Ok(format!("{}/{database}{query}", &without_query[..authority_end]))
}

/// The url without its password, for messages.
fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    match (rest.find('@'), rest.find(':')) {
        (Some(at), Some(colon)) if colon < at => {
            format!("{}{}:***{}", &url[..scheme_end + 3], &rest[..colon], &rest[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_a_url_is_replaced_and_its_query_kept() -> anyhow::Result<()> {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "b")?,
            "postgres://postgres@127.0.0.1:5432/b"
        );
        assert_eq!(
            with_database("postgres://u:p@h/postgres?sslmode=disable", "b")?,
            "postgres://u:p@h/b?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:5432", "b")?, "postgres://h:5432/b");
        assert_eq!(with_database("postgres://h?sslmode=disable", "b")?, "postgres://h/b?sslmode=disable");
        assert!(with_database("localhost/postgres", "b").is_err());
        Ok(())
    }

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h:5432/db"), "postgres://u@h:5432/db");
    }
}
