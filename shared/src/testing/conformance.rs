//! The store conformance harness both services instantiate: every suite test once on SQLite and
//! once on PostgreSQL, each on a fresh database.

/// Instantiates every listed suite test once per backend, in modules `sqlite` and `postgres`.
///
/// `$store` is the service's store type: each test gets `$store::new(db)` on a fresh database,
/// migrated with `$store::migrate`. The calling test crate provides `mod store_suite`, one
/// `pub async fn <name>(store: $store)` per listed test. Without PostgreSQL the `postgres` tests pass
/// without running, unless `REGSERIAL_REQUIRE_POSTGRES` is set (see [`TestDb::postgres`](crate::testing::TestDb::postgres)).
#[macro_export]
macro_rules! store_conformance {
    ($store:ty; $($name:ident),* $(,)?) => {
        /// The store each suite test gets: connected to `db`, migrated.
        async fn open(db: &$crate::testing::TestDb) -> $store {
            let pool = $crate::db::connect(&db.url, 8).await.expect("connect to the test database");
            let store = <$store>::new(pool);
            store.migrate().await.expect("migrations apply");
            store
        }

        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = $crate::testing::TestDb::sqlite();
                    super::store_suite::$name(super::open(&db).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(db) = $crate::testing::TestDb::postgres().await else { return };
                    super::store_suite::$name(super::open(&db).await).await;
                }
            )*
        }
    };
}
