//! The store suite, run against SQLite and PostgreSQL alike (ARX_TEST_POSTGRES_URL).

mod backends;
mod leases;
mod suite;
