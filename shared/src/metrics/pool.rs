//! Gauges of a service's database pools, read at each scrape.

use crate::db::Db;

pub const POOL_CONNECTIONS: &str = "db_pool_connections";
pub const POOL_IDLE_CONNECTIONS: &str = "db_pool_idle_connections";
pub const POOL_MAX_CONNECTIONS: &str = "db_pool_max_connections";

/// Sets the pool gauges of `service`'s `db`: connections open, idle, and the most allowed, for
/// each pool (`main` on PostgreSQL; `writer` and `reader` on SQLite).
pub fn record(service: &'static str, db: &Db) {
    match db {
        Db::Postgres(pool) => record_pool(service, "main", pool),
        Db::Sqlite(pools) => {
            record_pool(service, "writer", &pools.writer);
            record_pool(service, "reader", &pools.reader);
        }
    }
}

fn record_pool<D: sqlx::Database>(service: &'static str, name: &'static str, pool: &sqlx::Pool<D>) {
    let labels = [("service", service), ("pool", name)];
    metrics::gauge!(POOL_CONNECTIONS, &labels).set(f64::from(pool.size()));
    metrics::gauge!(POOL_IDLE_CONNECTIONS, &labels).set(pool.num_idle() as f64);
    metrics::gauge!(POOL_MAX_CONNECTIONS, &labels).set(f64::from(pool.options().get_max_connections()));
}
