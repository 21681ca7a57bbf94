//! A Teams incoming webhook: records the cards ARX posts.

use super::{Call, Recorder, hook_receiver};

pub struct Teams {
    rec: Recorder,
    /// The webhook URL to configure in ARX.
    pub url: String,
}

const PATH: &str = "/hooks/teams";

/// Starts the stand-in.
pub async fn start() -> Teams {
    let (rec, url) = hook_receiver(PATH).await;
    Teams { rec, url }
}

impl Teams {
    pub fn calls(&self) -> Vec<Call> {
        self.rec.calls(PATH)
    }

    /// Waits until `n` cards have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Call> {
        self.rec.wait_for(PATH, n).await
    }
}
