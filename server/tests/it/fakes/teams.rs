//! A Teams incoming webhook: records the cards ARX posts.

use super::Hook;

/// Starts the stand-in.
pub async fn start() -> Hook {
    Hook::start("/hooks/teams").await
}
