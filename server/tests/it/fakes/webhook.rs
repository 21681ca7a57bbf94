//! A signed-webhook receiver: records the notices ARX posts; [`signature`] checks them
//! the way a receiver would, independently of ARX's code.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Hook;

/// Starts the stand-in.
pub async fn start() -> Hook {
    Hook::start("/hooks/arx").await
}

/// The `x-arx-signature` a receiver expects for `body`: HMAC-SHA256 of the exact bytes.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}
