//! The server through its real HTTP interface, on SQLite and PostgreSQL, with the
//! target simulator as the vendor side.

mod accounts;
mod admin_api;
mod approval_promise;
mod approvals;
mod audit_cli;
mod audit_search;
mod call_window;
mod client;
mod console;
mod contract;
mod durability;
mod events;
mod execute;
mod fakes;
mod fleet_order;
mod fleet_stats;
mod harness;
mod identity;
mod jobs;
mod oidc;
mod policy;
mod registration;
mod registry;
mod registry_edits;
mod registry_graphs;
mod responses;
mod rule_edits;
mod saml;
mod scim;
mod slack;
mod state_reads;
mod streams;
mod targets;
mod wall;
mod witness;
