//! Pieces shared by pages: the console layout, badges, messages.

pub mod badges;
pub mod layout;
pub mod live;
pub mod messages;
pub mod table;
