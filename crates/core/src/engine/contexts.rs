//! What every governed call reads, kept in memory: a key with its agent and org, and an
//! org's instances of a connector. Each entry carries the org's configuration epoch it
//! was read at (in the same statement as the rows). Nothing here is trusted blindly: the
//! call's intercept record is written with that epoch as its guard, and the database
//! refuses it if the epoch has moved (a key revoked, an agent suspended, an instance or
//! the policy changed, on this replica, another one, or the command line). The call is
//! then decided again on fresh rows, so a change takes effect on the very next call
//! everywhere, with no read on the hot path while nothing changes.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::ids::OrgId;
use crate::model::Instance;
use crate::store::{AtEpoch, KeyContext};

/// Entries kept of each kind before the cache starts over (a fleet larger than this
/// still works, with more reads).
const MAX_ENTRIES: usize = 100_000;

/// An org's instances of one connector, at the epoch they were read at.
pub(crate) type Instances = Arc<AtEpoch<Vec<Instance>>>;

#[derive(Default)]
pub(crate) struct Contexts {
    /// By the key's hash.
    keys: RwLock<HashMap<String, Arc<KeyContext>>>,
    /// By org, then connector (looked up by `&str`, with no allocation per call).
    instances: RwLock<HashMap<OrgId, HashMap<String, Instances>>>,
}

/// Keeps `value` under `key` unless what is there was read at a later epoch (a slow
/// reader never puts back older rows); a map grown to [`MAX_ENTRIES`] starts over.
fn put<K: std::hash::Hash + Eq, V>(
    m: &mut HashMap<K, Arc<V>>,
    key: K,
    value: Arc<V>,
    epoch: impl Fn(&V) -> i64,
) {
    if m.len() >= MAX_ENTRIES {
        m.clear();
    }
    if m.get(&key).is_none_or(|old| epoch(old) <= epoch(&value)) {
        m.insert(key, value);
    }
}

impl Contexts {
    pub(crate) fn key(&self, hash: &str) -> Option<Arc<KeyContext>> {
        let m = self
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        m.get(hash).cloned()
    }

    pub(crate) fn put_key(&self, hash: String, ctx: Arc<KeyContext>) {
        let mut m = self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        put(&mut m, hash, ctx, |c| c.epoch);
    }

    pub(crate) fn instances(&self, org: OrgId, connector: &str) -> Option<Instances> {
        let m = self
            .instances
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        m.get(&org)?.get(connector).cloned()
    }

    pub(crate) fn put_instances(&self, org: OrgId, connector: &str, found: Instances) {
        let mut m = self
            .instances
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if m.len() >= MAX_ENTRIES {
            m.clear();
        }
        put(
            m.entry(org).or_default(),
            connector.to_string(),
            found,
            |f| f.epoch,
        );
    }

    /// Forgets everything of `org` read at `stale` or before.
    pub(crate) fn forget(&self, org: OrgId, stale: i64) {
        self.keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|_, c| c.org.id != org || c.epoch > stale);
        if let Some(of_org) = self
            .instances
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_mut(&org)
        {
            of_org.retain(|_, f| f.epoch > stale);
        }
    }

    /// Notes the key's last use as stored (bookkeeping, not part of the epoch).
    pub(crate) fn touched(&self, hash: &str, now_ms: i64) {
        let mut m = self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = m.get_mut(hash) {
            let mut fresh = KeyContext::clone(c);
            fresh.key.last_used_ms = Some(now_ms);
            *c = Arc::new(fresh);
        }
    }
}
