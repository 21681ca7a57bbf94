//! Pieces shared by pages: the console layout, the page frame, badges, row
//! actions, messages, tables.

pub mod badges;
pub mod form;
pub mod layout;
pub mod live;
pub mod me;
pub mod messages;
pub mod page;
pub mod table;
pub mod when;
