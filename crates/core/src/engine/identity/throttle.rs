//! Sign-in throttling: backoff per account and per client address after repeated failures,
//! a bound on the password hashes computed at once, and the same argon2 work for an
//! unknown or disabled account as for a real one, so timing does not tell which emails
//! exist. The counts live in this process: with several replicas each keeps its own.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordVerifier};

use crate::error::CoreError;

/// Failures older than this are forgotten.
pub(crate) const WINDOW_MS: i64 = 15 * 60 * 1000;
/// Failures an account may have in the window before backoff starts.
pub(crate) const ACCOUNT_FREE: usize = 5;
/// Failures one client address may have in the window (over all accounts).
pub(crate) const ADDRESS_FREE: usize = 20;
/// The first backoff; each further failure doubles it, up to [`WINDOW_MS`].
const FIRST_DELAY_MS: i64 = 1_000;
/// Keys tracked at most; beyond, keys not blocked are dropped first (memory bound).
const MAX_KEYS: usize = 100_000;
/// Password hashes computed at once; argon2 takes 19 MiB and tens of ms each, so an
/// unbounded number would let a burst of sign-ins exhaust memory and CPU.
const HASH_SLOTS: usize = 4;
/// How long a sign-in waits for a hashing slot before it is told to come back.
const HASH_WAIT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
}

#[derive(Debug, Default)]
struct Failures {
    /// Times of the failures within the window, oldest first.
    recent: Vec<i64>,
    blocked_until: i64,
}

/// A sign-in in progress, counted as a failure until [`LoginGuard::succeeded`].
#[derive(Debug)]
pub(crate) struct Attempt {
    at: i64,
    /// The keys it was counted against, with their backoff before it (restored when
    /// the attempt is taken back).
    before: Vec<(Key, i64)>,
}

#[derive(Debug)]
pub(crate) struct LoginGuard {
    failures: Mutex<HashMap<Key, Failures>>,
    hashing: tokio::sync::Semaphore,
    checks: AtomicU64,
    /// Hashes running now, and the most there ever were at once.
    running: AtomicUsize,
    peak: AtomicUsize,
    dummy: OnceLock<String>,
}

impl Default for LoginGuard {
    fn default() -> Self {
        LoginGuard {
            failures: Mutex::default(),
            hashing: tokio::sync::Semaphore::new(HASH_SLOTS),
            checks: AtomicU64::new(0),
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            dummy: OnceLock::new(),
        }
    }
}

fn keys(email: &str, client: Option<IpAddr>) -> impl Iterator<Item = (Key, usize)> {
    std::iter::once((Key::Account(email.to_string()), ACCOUNT_FREE))
        .chain(client.map(|a| (Key::Address(a), ADDRESS_FREE)))
}

impl LoginGuard {
    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Failures>> {
        // A poisoned lock only means another sign-in panicked mid-update; the counts are
        // still usable.
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts a sign-in: `Err(seconds to wait)` while the account or the address is in
    /// backoff; else the attempt is counted as a failure at once (check and count under
    /// one lock, so concurrent guesses cannot all slip in before any is counted) and
    /// [`LoginGuard::succeeded`] takes it back if the password is right.
    pub(crate) fn begin(
        &self,
        email: &str,
        client: Option<IpAddr>,
        now: i64,
    ) -> Result<Attempt, u64> {
        let mut table = self.table();
        let until = keys(email, client)
            .filter_map(|(k, _)| table.get(&k).map(|f| f.blocked_until))
            .max()
            .unwrap_or(0);
        if until > now {
            let secs = (until - now + 999) / 1000;
            return Err(u64::try_from(secs).unwrap_or(1).max(1));
        }
        if table.len() >= MAX_KEYS {
            prune(&mut table, now);
            if table.len() >= MAX_KEYS {
                table.retain(|_, f| f.blocked_until > now);
            }
        }
        let mut before = Vec::new();
        for (key, free) in keys(email, client) {
            let f = table.entry(key.clone()).or_default();
            before.push((key, f.blocked_until));
            f.recent.retain(|t| now - t < WINDOW_MS);
            f.recent.push(now);
            if f.recent.len() >= free {
                let doublings = u32::try_from(f.recent.len() - free)
                    .unwrap_or(u32::MAX)
                    .min(20);
                let delay = (FIRST_DELAY_MS << doublings).min(WINDOW_MS);
                f.blocked_until = f.blocked_until.max(now + delay);
            }
        }
        Ok(Attempt { at: now, before })
    }

    /// Takes the attempt back (no password was checked: the server was busy).
    pub(crate) fn cancel(&self, attempt: Attempt) {
        let mut table = self.table();
        for (key, blocked_until) in attempt.before {
            if let Some(f) = table.get_mut(&key) {
                if let Some(i) = f.recent.iter().rposition(|t| *t == attempt.at) {
                    f.recent.remove(i);
                }
                f.blocked_until = blocked_until;
            }
        }
    }

    /// A correct password: the attempt is taken back and the account's failures are
    /// cleared (not the address's: one good account must not reset a guesser's count).
    pub(crate) fn succeeded(&self, attempt: Attempt) {
        let account = attempt
            .before
            .iter()
            .find(|(k, _)| matches!(k, Key::Account(_)))
            .map(|(k, _)| k.clone());
        self.cancel(attempt);
        if let Some(k) = account {
            self.table().remove(&k);
        }
    }

    /// Forgets failures that no longer count.
    pub(crate) fn prune(&self, now: i64) {
        prune(&mut self.table(), now);
    }

    /// Argon2 verifications done so far (known and unknown accounts alike).
    pub(crate) fn checks(&self) -> u64 {
        self.checks.load(Ordering::Relaxed)
    }

    /// The most password checks that ever ran at once.
    pub(crate) fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Verifies `password` against `stored`, or against a dummy hash of the same
    /// parameters when there is none, so both cost the same. At most [`HASH_SLOTS`] run at
    /// once; a sign-in that cannot get a slot soon is asked to come back.
    pub(crate) async fn verify(
        &self,
        stored: Option<String>,
        password: String,
    ) -> Result<bool, CoreError> {
        let busy = || CoreError::RateLimited {
            message: "sign-in is busy; try again in 1 s".into(),
            retry_after_secs: 1,
        };
        let _slot = tokio::time::timeout(HASH_WAIT, self.hashing.acquire())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        let dummy = match &stored {
            Some(_) => None,
            None => Some(self.dummy_hash().await?),
        };
        let known = stored.is_some();
        let hash = stored.or(dummy).unwrap_or_default();
        let now_running = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now_running, Ordering::SeqCst);
        // `None` when the stored hash does not parse (no argon2 work was done).
        let verified = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash).ok().map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
        })
        .await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        let verified = verified.map_err(|e| CoreError::internal("argon2 task", e))?;
        if verified.is_some() {
            self.checks.fetch_add(1, Ordering::Relaxed);
        }
        Ok(known && verified == Some(true))
    }

    /// A hash of a random password with the parameters real ones use, made once.
    async fn dummy_hash(&self) -> Result<String, CoreError> {
        if let Some(h) = self.dummy.get() {
            return Ok(h.clone());
        }
        let made = tokio::task::spawn_blocking(|| {
            super::accounts::hash_password(&super::accounts::new_secret_token(""))
        })
        .await
        .map_err(|e| CoreError::internal("argon2 task", e))??;
        Ok(self.dummy.get_or_init(|| made).clone())
    }
}

fn prune(table: &mut HashMap<Key, Failures>, now: i64) {
    table.retain(|_, f| {
        f.recent.retain(|t| now - t < WINDOW_MS);
        !f.recent.is_empty() || f.blocked_until > now
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(g: &LoginGuard, email: &str, client: Option<IpAddr>, now: i64) {
        let _ = g.begin(email, client, now);
    }

    #[test]
    fn backoff_starts_after_the_free_failures_and_doubles() {
        let g = LoginGuard::default();
        let a: IpAddr = [10, 0, 0, 1].into();
        let mut now = 0;
        for _ in 0..ACCOUNT_FREE {
            fail(&g, "x@y", Some(a), now);
        }
        let mut waits = Vec::new();
        for _ in 0..9 {
            let w = g.begin("x@y", None, now).err().unwrap_or(0);
            waits.push(w);
            now += i64::try_from(w).unwrap_or(0) * 1000;
            fail(&g, "x@y", None, now);
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256]);
        // Another account from a fresh address is not affected.
        assert!(g.begin("z@y", Some([10, 0, 0, 2].into()), now).is_ok());
    }

    #[test]
    fn a_right_password_clears_the_account_and_takes_its_attempt_back() {
        let g = LoginGuard::default();
        let a: IpAddr = [10, 0, 0, 3].into();
        for i in 0..ADDRESS_FREE - 1 {
            fail(&g, &format!("u{i}@y"), Some(a), 0);
        }
        for _ in 0..ACCOUNT_FREE - 1 {
            fail(&g, "x@y", None, 0);
        }
        let ok = g.begin("x@y", Some(a), 0).unwrap();
        assert!(g.begin("new@y", Some(a), 0).is_err(), "counted at once");
        g.succeeded(ok);
        assert!(g.begin("x@y", None, 0).is_ok(), "the account is cleared");
    }

    #[test]
    fn an_address_is_blocked_after_its_failures_over_many_accounts() {
        let g = LoginGuard::default();
        let a: IpAddr = [10, 0, 0, 9].into();
        for i in 0..ADDRESS_FREE {
            fail(&g, &format!("u{i}@y"), Some(a), 0);
        }
        assert_eq!(g.begin("new@y", Some(a), 0).err(), Some(1));
        assert!(g.begin("new@y", None, 0).is_ok());
        g.prune(WINDOW_MS + 1);
        assert!(g.begin("new@y", Some(a), WINDOW_MS + 1).is_ok());
    }
}
