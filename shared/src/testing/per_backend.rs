//! The one way a test runs on both backends.

/// Instantiates async test bodies once per backend, in modules `sqlite` and `postgres`, each on
/// a fresh database ([`TestDb`](crate::testing::TestDb)) that lives until the test ends.
///
/// `per_backend!(a, b)` runs `a(db)` and `b(db)`, each body taking the `TestDb`;
/// `per_backend!(setup = open; a, b)` runs `a(open(&db).await)`, for bodies that take what
/// `open` makes of the database (a harness; a service's migrated store is
/// `setup = shared::testing::migrated::<Store>`). The bodies and `open` are reached from the
/// invoking module (`use` them there when they live in its submodules).
/// Without PostgreSQL the `postgres` tests pass without running, unless
/// `REGSERIAL_REQUIRE_POSTGRES` is set (see [`TestDb::postgres`](crate::testing::TestDb::postgres)).
#[macro_export]
macro_rules! per_backend {
    (setup = $setup:expr; $($name:ident),* $(,)?) => {
        $crate::per_backend!(@backends [$setup] $($name),*);
    };
    ($($name:ident),* $(,)?) => {
        $crate::per_backend!(@backends [] $($name),*);
    };
    (@backends $setup:tt $($name:ident),*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = $crate::testing::TestDb::sqlite();
                    $crate::per_backend!(@run db $setup super::$name);
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(db) = $crate::testing::TestDb::postgres().await else { return };
                    $crate::per_backend!(@run db $setup super::$name);
                }
            )*
        }
    };
    (@run $db:ident [] $($body:tt)+) => {
        $($body)+($db).await
    };
    (@run $db:ident [$setup:expr] $($body:tt)+) => {
        $($body)+($setup(&$db).await).await
    };
}
