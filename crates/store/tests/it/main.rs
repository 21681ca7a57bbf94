//! The store suite, each test run once on SQLite and once on PostgreSQL
//! (`ARX_TEST_POSTGRES_URL`), as `<test>::sqlite` and `<test>::postgres`.

mod backends;
mod drift;
mod leases;
mod suite;
mod upgrade;
