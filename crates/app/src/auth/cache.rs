//! Authenticated principals, cached so that a request with a known credential needs no storage
//! access at all.
//!
//! Freshness: an entry is used only while
//! - no change to its principal's account was seen since it was built: a change evicts the
//!   entries of the accounts it touched (and only those), and an entry built while any eviction
//!   happened is not stored (it may have read what the change replaced), and
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
}

/// The cache.
pub(crate) struct PrincipalCache {
    entries: RwLock<Entries>,
    /// Moves on every eviction: an entry built in an older generation is not stored.
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

    /// Stores an entry built in `generation`, unless an eviction happened meanwhile.
    pub(crate) fn insert(
        &self,
        key: CacheKey,
        principal: Arc<Principal>,
        generation: u64,
        expires_at: Option<DateTime<Utc>>,
    ) {
        let mut entries = self.entries.write();
        if generation != self.generation() {
            return;
        }
        if entries.by_key.len() >= CAPACITY {
            *entries = Entries::default();
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
        self.generation.fetch_add(1, Ordering::SeqCst);
        for account in accounts {
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
        self.generation.fetch_add(1, Ordering::SeqCst);
        *entries = Entries::default();
    }

    /// Records that the versions were read at `now`.
    pub(crate) fn mark_synced(&self, now: DateTime<Utc>) {
        self.synced_at_ms
            .fetch_max(now.timestamp_millis(), Ordering::SeqCst);
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
            cache.get(&k, now()).is_some(),
            "an older read never moves the mark back"
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
    fn an_entry_built_before_any_eviction_is_not_stored() {
        let cache = PrincipalCache::new(1000);
        cache.mark_synced(now());
        let k = key(1, &[b"token"]);
        let before = cache.generation();
        // Another account's change: the entry may still have read this one's old rows in the
        // same moment; storing nothing is always safe.
        cache.evict(&[AccountId(9)]);
        cache.insert(k, principal(1), before, None);
        assert!(cache.get(&k, now()).is_none());
        cache.insert(k, principal(1), cache.generation(), None);
        assert!(cache.get(&k, now()).is_some());
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
