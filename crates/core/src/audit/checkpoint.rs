//! Signed checkpoints (docs/audit.md): an org's Ed25519 key signs the `seq` and `hash` of
//! a record of its chain, and the signed checkpoint is written to witnesses that ARX can
//! write but not rewrite. A copy of the chain that stops before, or differs at, a
//! witnessed checkpoint is then caught by anyone holding the org's public key.

use base64::{Engine as _, engine::general_purpose::STANDARD as B64};
use ed25519_dalek::pkcs8::{DecodePublicKey, EncodePublicKey, spki::der::pem::LineEnding};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::CoreError;
use crate::ids::OrgId;

/// The `type` of every checkpoint, so its signature means nothing in another protocol.
pub const CHECKPOINT_TYPE: &str = "arx.checkpoint";
/// The checkpoint format this version writes and reads.
pub const CHECKPOINT_VERSION: u32 = 1;

/// A signed checkpoint, as written to a witness (one JSON object per file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Always `arx.checkpoint`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Always 1.
    pub version: u32,
    pub org_id: OrgId,
    /// The chain position signed (an `audit.checkpoint` record).
    pub seq: i64,
    /// That record's `hash`.
    pub hash: String,
    /// When it was signed: RFC 3339, UTC, millisecond precision.
    pub ts: String,
    /// The signing key's id (the first 16 hex digits of SHA-256 of the raw public key).
    pub key_id: String,
    /// Ed25519 over [`Checkpoint::message`], base64.
    pub signature: String,
}

impl Checkpoint {
    /// The signed bytes: RFC 8785 canonical JSON of the checkpoint without `signature`.
    pub fn message(&self) -> Result<String, CoreError> {
        let mut v =
            serde_json::to_value(self).map_err(|e| CoreError::internal("checkpoint encode", e))?;
        if let serde_json::Value::Object(m) = &mut v {
            m.remove("signature");
        }
        serde_json_canonicalizer::to_string(&v)
            .map_err(|e| CoreError::internal("checkpoint canonicalize", e))
    }

    /// The name it has in a witness: the org, then the seq padded so names sort in order.
    pub fn object_name(org: OrgId, seq: i64) -> String {
        format!("{org}/{seq:020}.json")
    }

    /// The bytes written to a witness: canonical JSON, signature included, and a newline.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CoreError> {
        let mut s = serde_json_canonicalizer::to_string(self)
            .map_err(|e| CoreError::internal("checkpoint canonicalize", e))?;
        s.push('\n');
        Ok(s.into_bytes())
    }

    /// Checks the checkpoint's form and its signature under `key`.
    pub fn verify(&self, key: &PublicKey) -> Result<(), String> {
        if self.kind != CHECKPOINT_TYPE || self.version != CHECKPOINT_VERSION {
            return Err(format!(
                "is not an {CHECKPOINT_TYPE} version {CHECKPOINT_VERSION}"
            ));
        }
        if self.key_id != key.key_id() {
            return Err(format!(
                "was signed by key {}, not by the public key given ({})",
                self.key_id,
                key.key_id()
            ));
        }
        let sig = B64
            .decode(&self.signature)
            .ok()
            .and_then(|b| Signature::from_slice(&b).ok())
            .ok_or("has a signature that is not 64 bytes of base64")?;
        let msg = self.message().map_err(|e| e.to_string())?;
        key.0
            .verify_strict(msg.as_bytes(), &sig)
            .map_err(|_| "has a signature that does not verify (forged or altered)".to_string())
    }
}

/// An org's public key: what auditors hold to check checkpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Reads a public key from PEM (`-----BEGIN PUBLIC KEY-----`, SubjectPublicKeyInfo)
    /// or from the base64 of its 32 raw bytes.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.starts_with("-----BEGIN") {
            return VerifyingKey::from_public_key_pem(text)
                .map(PublicKey)
                .map_err(|e| format!("not an Ed25519 public key in PEM: {e}"));
        }
        let raw: [u8; 32] = B64
            .decode(text)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("not an Ed25519 public key (PEM, or the base64 of 32 bytes)")?;
        VerifyingKey::from_bytes(&raw)
            .map(PublicKey)
            .map_err(|e| format!("not an Ed25519 public key: {e}"))
    }

    /// The first 16 hex digits of SHA-256 of the raw key.
    pub fn key_id(&self) -> String {
        hex::encode(&Sha256::digest(self.0.as_bytes())[..8])
    }

    /// Base64 of the 32 raw bytes.
    pub fn to_base64(&self) -> String {
        B64.encode(self.0.as_bytes())
    }

    /// PEM, SubjectPublicKeyInfo (what `openssl pkey -pubin` reads).
    pub fn to_pem(&self) -> Result<String, CoreError> {
        self.0
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| CoreError::internal("public key encode", e))
    }
}

/// An org's private signing key, in memory only while signing.
pub struct PrivateKey(SigningKey);

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKey(..)")
    }
}

impl PrivateKey {
    pub fn generate() -> Self {
        use aes_gcm::aead::{OsRng, rand_core::RngCore};
        let mut seed = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(seed.as_mut());
        PrivateKey(SigningKey::from_bytes(&seed))
    }

    /// The 32-byte seed, for sealing.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    pub fn from_seed(seed: &[u8]) -> Result<Self, CoreError> {
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| CoreError::Internal("signing key: the seed is not 32 bytes".into()))?;
        Ok(PrivateKey(SigningKey::from_bytes(&seed)))
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// A checkpoint of `org`'s record at `seq` with `hash`, signed at `ts_ms`.
    pub fn sign(
        &self,
        org: OrgId,
        seq: i64,
        hash: &str,
        ts_ms: i64,
    ) -> Result<Checkpoint, CoreError> {
        let mut c = Checkpoint {
            kind: CHECKPOINT_TYPE.into(),
            version: CHECKPOINT_VERSION,
            org_id: org,
            seq,
            hash: hash.into(),
            ts: super::format_ts(ts_ms),
            key_id: self.public().key_id(),
            signature: String::new(),
        };
        c.signature = B64.encode(self.0.sign(c.message()?.as_bytes()).to_bytes());
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_verifies_under_its_key_only_and_not_once_changed() {
        let k = PrivateKey::generate();
        let org = OrgId::new();
        let c = k
            .sign(org, 42, &"ab".repeat(32), 1_700_000_000_000)
            .unwrap();
        assert_eq!(c.verify(&k.public()), Ok(()));
        // Through its file form and the PEM and base64 forms of the key.
        let back: Checkpoint = serde_json::from_slice(&c.to_bytes().unwrap()).unwrap();
        let pem = PublicKey::parse(&k.public().to_pem().unwrap()).unwrap();
        let b64 = PublicKey::parse(&k.public().to_base64()).unwrap();
        assert_eq!(back.verify(&pem), Ok(()));
        assert_eq!(back.verify(&b64), Ok(()));
        let mut moved = c.clone();
        moved.seq = 43;
        assert!(
            moved
                .verify(&k.public())
                .unwrap_err()
                .contains("does not verify")
        );
        let other = PrivateKey::generate();
        assert!(
            c.verify(&other.public())
                .unwrap_err()
                .contains("signed by key")
        );
        let mut relabelled = c.clone();
        relabelled.key_id = other.public().key_id();
        assert!(
            relabelled
                .verify(&other.public())
                .unwrap_err()
                .contains("does not verify")
        );
        assert!(PublicKey::parse("not a key").is_err());
    }

    #[test]
    fn the_message_is_canonical_json_without_the_signature() {
        let k = PrivateKey::from_seed(&[7u8; 32]).unwrap();
        let c = k
            .sign(OrgId(uuid::Uuid::nil()), 1, &"0".repeat(64), 0)
            .unwrap();
        assert_eq!(
            c.message().unwrap(),
            format!(
                r#"{{"hash":"{}","key_id":"{}","org_id":"00000000-0000-0000-0000-000000000000","seq":1,"ts":"1970-01-01T00:00:00.000Z","type":"arx.checkpoint","version":1}}"#,
                "0".repeat(64),
                k.public().key_id()
            )
        );
    }
}
