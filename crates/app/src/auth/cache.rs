//! Authenticated principals, cached so that a request with a known credential needs no storage
//! access at all.
//!
//! Freshness: an entry is used only while
//! - no change to its principal's account was seen since it was built: a change evicts the
//!   entries of the accounts it touched (and only those), and an entry built while its own
//!   account was evicted is not stored (it may have read what the change replaced); other
//!   accounts' evictions do not touch it, and
//! - the authorization versions were read from storage less than `max_staleness` ago (one
//!   second): if storage cannot be read, nothing is served from the cache, so no revocation
//!   outlives it by more than that.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use parking_lot::RwLock;
use sha2::{Digest, Sha256};
use tessera_domain::ids::AccountId;

use crate::principal::Principal;

/// Most entries kept; past it the cache starts over.
const CAPACITY: usize = 100_000;

/// A cache key: SHA-256 of the credential (never the credential itself).
pub(crate) type CacheKey = [u8; 32];

/// The key of a credential of `kind`.
pub(crate) fn key(kind: u8, parts: &[&[u8]]) -> CacheKey {
    let mut h = Sha256::new();
    h.update([kind]);
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

struct Entry {
    principal: Arc<Principal>,
    expires_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct Entries {
    by_key: HashMap<CacheKey, Entry>,
    /// The keys of each account's entries, so that a change evicts them without a scan.
    by_account: HashMap<AccountId, HashSet<CacheKey>>,
    /// The generation at which each account was last evicted (only since `cleared_at`).
    evicted_at: HashMap<AccountId, u64>,
    /// The generation at which everything was last dropped.
    cleared_at: u64,
}

/// Most accounts whose last eviction is remembered; past it, everything in flight is refused
/// (as after a clear) and the memory starts over.
const EVICTIONS_KEPT: usize = 100_000;

/// The cache.
pub(crate) struct PrincipalCache {
    entries: RwLock<Entries>,
    /// Moves on every eviction: an entry built before its account's last eviction is not
    /// stored.
    generation: AtomicU64,
    synced_at_ms: AtomicI64,
    max_staleness_ms: i64,
}

impl PrincipalCache {
    pub(crate) fn new(max_staleness_ms: i64) -> Self {
        Self {
            entries: RwLock::new(Entries::default()),
            generation: AtomicU64::new(0),
            synced_at_ms: AtomicI64::new(i64::MIN),
            max_staleness_ms,
        }
    }

    /// The generation to stamp on an entry about to be built.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Whether the versions were read recently enough to trust cached entries.
    pub(crate) fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        now.timestamp_millis()
            .saturating_sub(self.synced_at_ms.load(Ordering::SeqCst))
            <= self.max_staleness_ms
    }

    pub(crate) fn get(&self, key: &CacheKey, now: DateTime<Utc>) -> Option<Arc<Principal>> {
        if !self.is_fresh(now) {
            return None;
        }
        let entries = self.entries.read();
        let entry = entries.by_key.get(key)?;
        entry
            .expires_at
            .is_none_or(|e| now < e)
            .then(|| entry.principal.clone())
    }

    /// Stores an entry built from `generation` on, unless its account was evicted (or
    /// everything dropped) meanwhile.
    pub(crate) fn insert(
        &self,
        key: CacheKey,
        principal: Arc<Principal>,
        generation: u64,
        expires_at: Option<DateTime<Utc>>,
    ) {
        let mut entries = self.entries.write();
        let evicted = entries
            .evicted_at
            .get(&principal.account_id)
            .copied()
            .unwrap_or(0)
            .max(entries.cleared_at);
        if evicted > generation {
            return;
        }
        if entries.by_key.len() >= CAPACITY {
            let cleared_at = entries.cleared_at;
            *entries = Entries {
                cleared_at,
                ..Entries::default()
            };
        }
        entries
            .by_account
            .entry(principal.account_id)
            .or_default()
            .insert(key);
        entries.by_key.insert(
            key,
            Entry {
                principal,
                expires_at,
            },
        );
    }

    /// Drops the entries of `accounts` (a change there can alter their decisions).
    pub(crate) fn evict(&self, accounts: &[AccountId]) {
        let mut entries = self.entries.write();
        let now = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        if entries.evicted_at.len() + accounts.len() > EVICTIONS_KEPT {
            entries.evicted_at.clear();
            entries.cleared_at = now;
        }
        for account in accounts {
            entries.evicted_at.insert(*account, now);
            if let Some(keys) = entries.by_account.remove(account) {
                for key in keys {
                    entries.by_key.remove(&key);
                }
            }
        }
    }

    /// Drops every entry (what changed is unknown).
    pub(crate) fn clear(&self) {
        let mut entries = self.entries.write();
        let now = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        *entries = Entries {
            cleared_at: now,
            ..Entries::default()
        };
    }

    /// Records that the versions were read at `now`.
    pub(crate) fn mark_synced(&self, now: DateTime<Utc>) {
        self.synced_at_ms
            .store(now.timestamp_millis(), Ordering::SeqCst);
    }

    /// How many entries are held (tests and metrics).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.read().by_key.len()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use tessera_domain::ids::UserId;

    use super::*;
    use crate::testing::now;

    fn principal(account: i64) -> Arc<Principal> {
        Arc::new(Principal::user(AccountId(account), UserId(1), vec![], &[]))
    }

    #[test]
    fn entries_need_a_recent_read_of_the_versions() {
        let cache = PrincipalCache::new(1000);
        let k = key(1, &[b"token"]);
        cache.insert(k, principal(1), cache.generation(), None);
        assert!(cache.get(&k, now()).is_none(), "never synced");
        cache.mark_synced(now());
        assert!(cache.get(&k, now()).is_some());
        assert!(
            cache
                .get(&k, now() + TimeDelta::milliseconds(1001))
                .is_none(),
            "stale"
        );
        cache.mark_synced(now() - TimeDelta::seconds(5));
        assert!(
            cache.get(&k, now()).is_none(),
            "the last read is what counts"
        );
    }

    #[test]
    fn a_change_evicts_its_accounts_entries_only() {
        let cache = PrincipalCache::new(1000);
        cache.mark_synced(now());
        let (a1, a2, b) = (key(1, &[b"a1"]), key(1, &[b"a2"]), key(1, &[b"b"]));
        cache.insert(a1, principal(1), cache.generation(), None);
        cache.insert(a2, principal(1), cache.generation(), None);
        cache.insert(b, principal(2), cache.generation(), None);
        cache.evict(&[AccountId(1), AccountId(3)]);
        assert!(cache.get(&a1, now()).is_none());
        assert!(cache.get(&a2, now()).is_none());
        assert!(cache.get(&b, now()).is_some(), "account 2 is untouched");
        assert_eq!(cache.len(), 1);
        cache.clear();
        assert!(cache.get(&b, now()).is_none());
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn an_entry_built_before_its_accounts_eviction_is_not_stored() {
        let cache = PrincipalCache::new(1000);
        cache.mark_synced(now());
        let k = key(1, &[b"token"]);
        let before = cache.generation();
        // Another account's change does not spoil an entry being built.
        cache.evict(&[AccountId(9)]);
        cache.insert(k, principal(1), before, None);
        assert!(cache.get(&k, now()).is_some());
        // Its own account's change does: it may have read what the change replaced.
        let before = cache.generation();
        cache.evict(&[AccountId(1)]);
        cache.insert(k, principal(1), before, None);
        assert!(cache.get(&k, now()).is_none());
        cache.insert(k, principal(1), cache.generation(), None);
        assert!(cache.get(&k, now()).is_some());
        // Everything dropped: nothing built before goes in.
        let before = cache.generation();
        cache.clear();
        cache.insert(key(1, &[b"other"]), principal(2), before, None);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn remembered_evictions_are_bounded() {
        let cache = PrincipalCache::new(1000);
        cache.mark_synced(now());
        let before = cache.generation();
        let many: Vec<AccountId> = (0..=EVICTIONS_KEPT as i64).map(AccountId).collect();
        cache.evict(&many);
        assert!(cache.entries.read().evicted_at.len() <= EVICTIONS_KEPT + 1);
        // Forgetting is conservative: what was in flight is refused.
        cache.insert(key(1, &[b"t"]), principal(5_000_000), before, None);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn a_reinserted_key_is_evicted_with_its_account() {
        let cache = PrincipalCache::new(1000);
        cache.mark_synced(now());
        let k = key(1, &[b"token"]);
        for _ in 0..3 {
            cache.insert(k, principal(1), cache.generation(), None);
        }
        cache.evict(&[AccountId(1)]);
        assert!(cache.get(&k, now()).is_none());
        assert!(cache.entries.read().by_account.is_empty());
    }

    #[test]
    fn entries_expire_with_their_credential() {
        let cache = PrincipalCache::new(1000);
        cache.mark_synced(now());
        let k = key(2, &[b"jwt"]);
        cache.insert(
            k,
            principal(1),
            cache.generation(),
            Some(now() + TimeDelta::seconds(1)),
        );
        assert!(cache.get(&k, now()).is_some());
        cache.mark_synced(now() + TimeDelta::seconds(2));
        assert!(cache.get(&k, now() + TimeDelta::seconds(2)).is_none());
    }

    #[test]
    fn keys_separate_kinds_and_parts() {
        assert_ne!(key(1, &[b"ab", b"c"]), key(1, &[b"a", b"bc"]));
        assert_ne!(key(1, &[b"x"]), key(2, &[b"x"]));
    }
}
