//! `sqlx::migrate!` embeds the migrations at compile time, but on stable Rust cargo does
//! not know it read them: without this, an edited or added migration is missed until the
//! crate's own sources change.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
