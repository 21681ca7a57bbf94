//! Envelope encryption of connector credentials (docs/architecture.md §10). Each org has a data
//! key wrapped by the master key; credentials are AES-256-GCM under the org's data key
//! with the org and instance as associated data, so a ciphertext moved to another row
//! does not decrypt.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload, rand_core::RngCore};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::{Engine as _, engine::general_purpose::STANDARD as B64};
use zeroize::Zeroizing;

use crate::error::CoreError;
use crate::ids::{ApprovalId, InstanceId, OrgId};
use crate::integration::IntegrationKind;
use crate::secret::{Credentials, Secret};
use crate::signing::hmac_sha256;

/// 32 bytes of key material.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl MasterKey {
    /// Parses 64 hex characters or standard base64 of 32 bytes.
    pub fn parse(s: &str) -> Result<Self, CoreError> {
        let s = s.trim();
        let bytes = hex::decode(s)
            .ok()
            .or_else(|| B64.decode(s).ok())
            .filter(|b| b.len() == 32)
            .ok_or_else(|| {
                CoreError::InvalidRequest(
                    "the master key must be 32 bytes, as 64 hex characters or base64".into(),
                )
            })?;
        let mut k = Zeroizing::new([0u8; 32]);
        k.copy_from_slice(&bytes);
        Ok(MasterKey(k))
    }

    pub fn generate() -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(k.as_mut());
        MasterKey(k)
    }

    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0.as_ref()))
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

fn seal_bytes(key: &[u8; 32], aad: &str, plain: &[u8]) -> Result<String, CoreError> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|e| CoreError::internal("vault key", e))?;
    let mut nonce = [0u8; 12];
    OsRng.fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| CoreError::Internal("vault encrypt failed".into()))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ct);
    Ok(format!("v1:{}", B64.encode(out)))
}

fn open_bytes(key: &[u8; 32], aad: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>, CoreError> {
    let fail = || {
        CoreError::Internal("vault: ciphertext does not decrypt (wrong key or moved row)".into())
    };
    let raw = sealed
        .strip_prefix("v1:")
        .and_then(|b| B64.decode(b).ok())
        .ok_or_else(fail)?;
    if raw.len() < 12 {
        return Err(fail());
    }
    let (nonce, ct) = raw.split_at(12);
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|e| CoreError::internal("vault key", e))?;
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ct,
                aad: aad.as_bytes(),
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| fail())
}

/// Whose secrets a sealed map holds: its associated data, so a map moved to another
/// instance or integration (or org) does not open.
#[derive(Debug, Clone, Copy)]
pub enum SecretsOf {
    /// A connector instance's credentials.
    Instance(InstanceId),
    /// An integration's secrets (Slack tokens, webhook secrets).
    Integration(IntegrationKind),
    /// The org's single sign-on secrets (the OIDC client secret).
    Sso,
    /// The seed of the org's checkpoint signing key.
    SigningKey,
    /// An audit sink's credentials (an S3 secret key, a HEC token).
    Sink(crate::ids::SinkId),
}

impl SecretsOf {
    fn aad(self, org: OrgId) -> String {
        match self {
            SecretsOf::Instance(instance) => format!("arx:cred:{org}:{instance}"),
            SecretsOf::Integration(kind) => format!("arx:integration:{org}:{}", kind.as_str()),
            SecretsOf::Sso => format!("arx:sso:{org}:oidc"),
            SecretsOf::SigningKey => format!("arx:signing-key:{org}"),
            SecretsOf::Sink(sink) => format!("arx:sink:{org}:{sink}"),
        }
    }
}

/// Wraps and unwraps org data keys and seals credentials. Unwrapped data keys are kept
/// in memory (zeroized on drop) so an execute call costs one AES-GCM decryption.
pub struct Vault {
    master: MasterKey,
    data_keys: RwLock<HashMap<OrgId, Zeroizing<[u8; 32]>>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault")
    }
}

impl Vault {
    pub fn new(master: MasterKey) -> Self {
        Vault {
            master,
            data_keys: RwLock::new(HashMap::new()),
        }
    }

    fn dek_aad(org: OrgId) -> String {
        format!("arx:dek:{org}")
    }

    /// A new data key for `org`, wrapped for storage.
    pub fn new_wrapped_data_key(&self, org: OrgId) -> Result<String, CoreError> {
        let mut dek = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(dek.as_mut());
        seal_bytes(&self.master.0, &Self::dek_aad(org), dek.as_ref())
    }

    /// Whether the org's data key is already unwrapped in memory.
    pub fn has_data_key(&self, org: OrgId) -> bool {
        self.data_keys.read().is_ok_and(|m| m.contains_key(&org))
    }

    /// The org's data key; `wrapped` is needed unless it is already in memory.
    fn data_key(
        &self,
        org: OrgId,
        wrapped: Option<&str>,
    ) -> Result<Zeroizing<[u8; 32]>, CoreError> {
        if let Some(k) = self
            .data_keys
            .read()
            .ok()
            .and_then(|m| m.get(&org).cloned())
        {
            return Ok(k);
        }
        let wrapped = wrapped.ok_or_else(|| {
            CoreError::Internal("vault: the org's wrapped data key is needed".into())
        })?;
        let plain = open_bytes(&self.master.0, &Self::dek_aad(org), wrapped)?;
        let mut k = Zeroizing::new([0u8; 32]);
        if plain.len() != 32 {
            return Err(CoreError::Internal(
                "vault: data key has the wrong length".into(),
            ));
        }
        k.copy_from_slice(&plain);
        if let Ok(mut m) = self.data_keys.write() {
            m.insert(org, k.clone());
        }
        Ok(k)
    }

    /// Seals the secrets of `of` (a map of names to values) under the org's data key,
    /// bound to the org and to `of`.
    pub fn seal(
        &self,
        org: OrgId,
        wrapped_dek: &str,
        of: SecretsOf,
        map: &BTreeMap<String, String>,
    ) -> Result<String, CoreError> {
        let key = self.data_key(org, Some(wrapped_dek))?;
        let plain = Zeroizing::new(
            serde_json::to_vec(map).map_err(|e| CoreError::internal("vault encode", e))?,
        );
        seal_bytes(&key, &of.aad(org), &plain)
    }

    /// Opens what [`Vault::seal`] sealed for the same org and `of`; anything else fails.
    pub fn open(
        &self,
        org: OrgId,
        wrapped_dek: Option<&str>,
        of: SecretsOf,
        sealed: &str,
    ) -> Result<Credentials, CoreError> {
        let key = self.data_key(org, wrapped_dek)?;
        let plain = open_bytes(&key, &of.aad(org), sealed)?;
        let map: BTreeMap<String, Zeroizing<String>> = serde_json::from_slice(&plain)
            .map_err(|_| CoreError::Internal("vault: secrets are not a JSON object".into()))?;
        Ok(Credentials(
            map.into_iter()
                .map(|(k, v)| (k, Secret::new(v.as_str())))
                .collect(),
        ))
    }

    /// The tag of a signed console link to an approval request: HMAC-SHA256 of the request
    /// id under a per-org key derived from the master key (so no database read is needed
    /// and a tag for one org is worthless in another), truncated to 128 bits.
    pub fn approval_link_tag(&self, org: OrgId, approval: ApprovalId) -> String {
        let key = Zeroizing::new(hmac_sha256(
            self.master.0.as_ref(),
            &[b"arx:approval-link:", org.to_string().as_bytes()],
        ));
        let tag = hmac_sha256(key.as_ref(), &[approval.to_string().as_bytes()]);
        hex::encode(&tag[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_round_trip_and_are_bound_to_their_row() {
        let v = Vault::new(MasterKey::generate());
        let org = OrgId::new();
        let dek = v.new_wrapped_data_key(org).unwrap();
        let inst = InstanceId::new();
        let creds = BTreeMap::from([("api_key".to_string(), "s3cr3t-value".to_string())]);
        let sealed = v
            .seal(org, &dek, SecretsOf::Instance(inst), &creds)
            .unwrap();
        assert!(!sealed.contains("s3cr3t"));
        let open = v
            .open(org, Some(&dek), SecretsOf::Instance(inst), &sealed)
            .unwrap();
        assert_eq!(open.get("api_key"), Some("s3cr3t-value"));
        assert!(!format!("{open:?}").contains("s3cr3t"));
        // Moved to another instance: refuses.
        assert!(
            v.open(
                org,
                Some(&dek),
                SecretsOf::Instance(InstanceId::new()),
                &sealed
            )
            .is_err()
        );
        // Another master key: refuses.
        let other = Vault::new(MasterKey::generate());
        assert!(
            other
                .open(org, Some(&dek), SecretsOf::Instance(inst), &sealed)
                .is_err()
        );
    }

    #[test]
    fn integration_secrets_are_bound_to_org_and_kind() {
        let v = Vault::new(MasterKey::generate());
        let org = OrgId::new();
        let dek = v.new_wrapped_data_key(org).unwrap();
        let secrets = BTreeMap::from([("bot_token".to_string(), "xoxb-secret".to_string())]);
        let slack = SecretsOf::Integration(IntegrationKind::Slack);
        let webhook = SecretsOf::Integration(IntegrationKind::Webhook);
        let sealed = v.seal(org, &dek, slack, &secrets).unwrap();
        assert!(!sealed.contains("xoxb"));
        let open = v.open(org, Some(&dek), slack, &sealed).unwrap();
        assert_eq!(open.get("bot_token"), Some("xoxb-secret"));
        assert!(v.open(org, Some(&dek), webhook, &sealed).is_err());
    }

    #[test]
    fn approval_link_tags_depend_on_org_request_and_master_key() {
        let v = Vault::new(MasterKey::generate());
        let (org, id) = (OrgId::new(), ApprovalId::new());
        let tag = v.approval_link_tag(org, id);
        assert_eq!(tag.len(), 32);
        assert_eq!(tag, v.approval_link_tag(org, id));
        assert_ne!(tag, v.approval_link_tag(OrgId::new(), id));
        assert_ne!(tag, v.approval_link_tag(org, ApprovalId::new()));
        assert_ne!(
            tag,
            Vault::new(MasterKey::generate()).approval_link_tag(org, id)
        );
    }

    #[test]
    fn master_key_parses_hex_and_base64_only_at_32_bytes() {
        let k = MasterKey::generate();
        assert!(MasterKey::parse(&k.to_hex()).is_ok());
        assert!(MasterKey::parse(&B64.encode([7u8; 32])).is_ok());
        assert!(MasterKey::parse("abcd").is_err());
    }
}
