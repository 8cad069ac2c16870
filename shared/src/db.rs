//! Database pools from a URL: PostgreSQL, or SQLite as one writer connection plus a read pool;
//! transactions on either ([`Tx`], [`on_tx!`](crate::on_tx)), the database failure both
//! services report ([`StoreError`]) and `request_id` replay ([`request_keys`]).

mod errors;
mod group;
pub mod migrations;
pub mod request_keys;
mod tx;

pub use errors::{RequestIdReused, StoreError, is_unavailable};
pub use group::{GroupCommit, MAX_GROUP, Script};
pub use tx::Tx;

use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

/// How long a caller waits for a pooled connection before the call fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long SQLite waits on another process's write lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// SQLite's `cache_size` of the writer connection: negative means KiB, so 32 MiB.
const WRITER_CACHE_KIB: &str = "-32768";

/// A service's database. Cheap to clone (pools are reference-counted).
#[derive(Clone, Debug)]
pub enum Db {
    /// PostgreSQL, for many replicas and scale.
    Postgres(PgPool),
    /// SQLite, the embedded default.
    Sqlite(SqlitePools),
}

/// SQLite in WAL mode: every write goes through the one writer connection (so writers queue
/// in-process rather than meeting "database is locked"), reads through a read-only pool.
#[derive(Clone, Debug)]
pub struct SqlitePools {
    /// Exactly one connection: run every write here, in `BEGIN IMMEDIATE` transactions.
    pub writer: SqlitePool,
    /// Read-only connections.
    pub reader: SqlitePool,
    /// Group commit on the writer: write scripts that wait at one moment share one transaction.
    pub group: GroupCommit,
}

/// Opens the database at `url`: `postgres://…` (or `postgresql://…`) gives a pool of
/// `max_connections`, connecting on first use; `sqlite://path` creates the file (and its
/// directory) if missing and gives one writer connection plus `max_connections` read-only ones,
/// in WAL mode with `synchronous=NORMAL`, a 30 s busy timeout and foreign keys on. In-memory
/// SQLite is refused: the two pools could not share it. Errors never show the password.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
    let shown = redact_url(url);
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let options =
            PgConnectOptions::from_str(url).with_context(|| format!("invalid database url {shown}"))?;
        // No ping before handing out a connection: it is one more round trip (PostgreSQL) or
        // thread hand-off (SQLite) per statement, as costly as a point read itself. A connection
        // that broke while idle fails its next statement instead and sqlx drops it; the caller
        // gets UNAVAILABLE and retries, and readiness pings turn health NOT_SERVING meanwhile.
        // No connection is made here either: the first statement connects, so that a service
        // started before its database waits for it (`server::Startup`) instead of failing.
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .connect_lazy_with(options);
        return Ok(Db::Postgres(pool));
    }
    if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() || path.contains(":memory:") {
            bail!(
                "database url {shown}: use a file (sqlite://path/to/file.db); an in-memory database cannot be shared by the writer and the read pool"
            );
        }
        if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create directory {}", dir.display()))?;
        }
        let base = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            .foreign_keys(true);
        // The writer's page cache holds a whole bulk insert: at SQLite's default 2 MiB a
        // 10,000-row batch spilled dirty pages to the WAL before its commit, writing them twice.
        // Its sub-journals stay in memory: a group commit runs each script under a savepoint,
        // and SQLite copied every page a script changed into a temporary file first (a pwrite
        // per page, 13% of registration-svc's CPU in CreateRegistration, profiled). They hold
        // only the pages one group changes, and die with the transaction either way.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(base.clone().pragma("cache_size", WRITER_CACHE_KIB).pragma("temp_store", "MEMORY"))
            .await
            .with_context(|| format!("cannot open {shown}"))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // No ping per acquire, as for PostgreSQL above.
            .test_before_acquire(false)
            .connect_with(base.read_only(true))
            .await
            .with_context(|| format!("cannot open {shown} for reading"))?;
        let group = GroupCommit::new(writer.clone());
        return Ok(Db::Sqlite(SqlitePools { writer, reader, group }));
    }
    let scheme = url.split(':').next().unwrap_or_default();
    bail!("database url {shown}: unsupported scheme {scheme:?}, use postgres:// or sqlite://")
}

/// [`connect`], then `sources` applied (see [`Db::migrate`]): for tests and tools.
pub async fn open(url: &str, max_connections: u32, sources: &[migrations::Source]) -> anyhow::Result<Db> {
    let db = connect(url, max_connections).await?;
    db.migrate(sources).await?;
    Ok(db)
}

/// A service's store: one [`Db`], and the migrations that make its schema.
pub trait ServiceStore: Sized + Send + Sync {
    /// The service's migrations, in order.
    const MIGRATIONS: &'static [migrations::Source];

    /// The store on `db`, whose schema is migrated already.
    fn new(db: Db) -> Self;

    fn db(&self) -> &Db;

    /// A store on a new pool of `max_connections` to `url`, migrated (for tests and tools).
    fn open(url: &str, max_connections: u32) -> impl Future<Output = anyhow::Result<Self>> + Send {
        async move { Ok(Self::new(open(url, max_connections, Self::MIGRATIONS).await?)) }
    }

    /// Applies the migrations; safe to run from many replicas at once.
    fn migrate(&self) -> impl Future<Output = anyhow::Result<()>> + Send {
        self.db().migrate(Self::MIGRATIONS)
    }
}

impl Db {
    /// Applies `sources` (see [`migrations`]) for this backend; safe to run from many replicas
    /// at once (sqlx takes an advisory lock on PostgreSQL).
    pub async fn migrate(&self, sources: &[migrations::Source]) -> anyhow::Result<()> {
        match self {
            Db::Postgres(pool) => {
                migrations::migrator(sources, migrations::Backend::Postgres)?.run(pool).await?
            }
            Db::Sqlite(pools) => {
                migrations::migrator(sources, migrations::Backend::Sqlite)?.run(&pools.writer).await?
            }
        }
        Ok(())
    }

    /// One round trip to the database.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        match self {
            Db::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
            Db::Sqlite(pools) => sqlx::query("SELECT 1").execute(&pools.reader).await.map(drop),
        }
    }

    /// Drops the connections idle in the pool, returning how many: once a check of the database
    /// has failed, they are likely connected to a server that is gone (a restart, a failover),
    /// and each would fail the next statement given to it, one caller's call each. Connections
    /// in use are left to their callers; new ones are made as they are needed. SQLite's are
    /// files, which do not go stale: none is dropped.
    pub fn drop_idle(&self) -> usize {
        let Db::Postgres(pool) = self else { return 0 };
        let mut dropped = 0;
        // At most those idle now: connections returned meanwhile are left alone.
        for _ in 0..pool.num_idle() {
            let Some(connection) = pool.try_acquire() else { break };
            // Out of the pool's count at once and closed without a word to the server (which
            // is likely gone): `close` would write to it first.
            drop(connection.detach());
            dropped += 1;
        }
        dropped
    }

    /// `postgres` or `sqlite`, for logs.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Db::Postgres(_) => "postgres",
            Db::Sqlite(_) => "sqlite",
        }
    }

    /// `postgresql` or `sqlite`: OpenTelemetry's `db.system` of database spans.
    pub fn system(&self) -> &'static str {
        match self {
            Db::Postgres(_) => "postgresql",
            Db::Sqlite(_) => "sqlite",
        }
    }

    /// Closes the pools, waiting for connections in use to be returned.
    pub async fn close(&self) {
        match self {
            Db::Postgres(pool) => pool.close().await,
            Db::Sqlite(pools) => {
                pools.reader.close().await;
                pools.writer.close().await;
            }
        }
    }
}

/// `url` with any password (in the userinfo or a `password=` parameter) replaced by `***`, fit
/// for logs and errors.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = redact_userinfo(base);
    if let Some(query) = query {
        let params = query.split('&').map(|param| match param.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => param.to_owned(),
        });
        out.push('?');
        out.push_str(&params.collect::<Vec<_>>().join("&"));
    }
    out
}

fn redact_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return url.to_owned() };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            let masked = if userinfo.contains(':') { format!("{user}:***") } else { user.to_owned() };
            format!("{}://{masked}{}", &url[..scheme_end], &rest[at..])
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
        assert_eq!(
            redact_url("postgres://h/db?user=u&password=secret&sslmode=require"),
            "postgres://h/db?user=u&password=***&sslmode=require"
        );
    }

    #[tokio::test]
    async fn in_memory_sqlite_and_unknown_schemes_are_refused_with_the_reason() {
        let err = connect("sqlite::memory:", 2).await.unwrap_err().to_string();
        assert!(err.contains("use a file"), "{err}");
        let err = connect("mysql://u:pw@h/db", 2).await.unwrap_err().to_string();
        assert!(err.contains("unsupported scheme") && !err.contains("pw"), "{err}");
    }

    #[tokio::test]
    async fn sqlite_gets_its_directory_a_writer_and_a_read_only_pool() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/app.db");
        let db = connect(&format!("sqlite://{}", path.display()), 2).await.unwrap();
        assert!(path.exists());
        assert_eq!(db.backend_name(), "sqlite");
        let Db::Sqlite(pools) = &db else { panic!("expected sqlite") };
        assert_eq!(pools.writer.options().get_max_connections(), 1);
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&pools.reader).await.unwrap();
        assert_eq!(mode, "wal");
        let temp_store: i64 = sqlx::query_scalar("PRAGMA temp_store").fetch_one(&pools.writer).await.unwrap();
        assert_eq!(temp_store, 2, "the writer's sub-journals are kept in memory");
        sqlx::query("CREATE TABLE t (x INTEGER)").execute(&pools.writer).await.unwrap();
        assert!(sqlx::query("INSERT INTO t VALUES (1)").execute(&pools.reader).await.is_err());
        db.ping().await.unwrap();
        db.close().await;
        assert!(db.ping().await.is_err());
    }
}
