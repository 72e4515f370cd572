//! Rebuilds the crate when a migration changes: `sqlx::migrate!` embeds the SQL
//! files, but cargo does not know they are inputs.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
