//! `sqlx::migrate!` embeds `migrations/` at compile time, but cargo does not know the macro
//! reads that directory: without this, adding or removing a migration rebuilt nothing and the
//! binary kept the old set.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
