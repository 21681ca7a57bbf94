//! A signed-webhook receiver: records the notices ARX posts, and checks their signature
//! the way a receiver would, independently of ARX's code.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Call, Recorder, hook_receiver};

pub struct Webhook {
    rec: Recorder,
    /// The receiver URL to configure in ARX.
    pub url: String,
}

const PATH: &str = "/hooks/arx";

/// Starts the stand-in.
pub async fn start() -> Webhook {
    let (rec, url) = hook_receiver(PATH).await;
    Webhook { rec, url }
}

impl Webhook {
    pub fn calls(&self) -> Vec<Call> {
        self.rec.calls(PATH)
    }

    /// Waits until `n` notices have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Call> {
        self.rec.wait_for(PATH, n).await
    }
}

/// The `x-arx-signature` a receiver expects for `body`: HMAC-SHA256 of the exact bytes.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}
