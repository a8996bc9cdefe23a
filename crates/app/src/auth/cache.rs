//! Authenticated principals, cached so that a request with a known credential needs no storage
//! access at all.
//!
//! Freshness: an entry is used only while
//! - it was made in the current *generation*; the generation moves on every local change that can
//!   alter a decision and whenever the storage's authorization epoch moves (another instance
//!   changed something), and
//! - the epoch was read from storage less than `max_staleness` ago (one second): if storage cannot
//!   be read, nothing is served from the cache, so no revocation outlives it by more than that.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use parking_lot::RwLock;
use sha2::{Digest, Sha256};

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
    generation: u64,
    expires_at: Option<DateTime<Utc>>,
}

/// The cache.
pub(crate) struct PrincipalCache {
    entries: RwLock<HashMap<CacheKey, Entry>>,
    generation: AtomicU64,
    epoch: AtomicI64,
    synced_at_ms: AtomicI64,
    max_staleness_ms: i64,
}

impl PrincipalCache {
    pub(crate) fn new(max_staleness_ms: i64) -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
            epoch: AtomicI64::new(i64::MIN),
            synced_at_ms: AtomicI64::new(i64::MIN),
            max_staleness_ms,
        }
    }

    /// The generation to stamp on an entry about to be built.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Whether the epoch was read recently enough to trust cached entries.
    pub(crate) fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        now.timestamp_millis()
            .saturating_sub(self.synced_at_ms.load(Ordering::SeqCst))
            <= self.max_staleness_ms
    }

    pub(crate) fn get(&self, key: &CacheKey, now: DateTime<Utc>) -> Option<Arc<Principal>> {
        if !self.is_fresh(now) {
            return None;
        }
        let generation = self.generation();
        let entries = self.entries.read();
        let entry = entries.get(key)?;
        let valid = entry.generation == generation && entry.expires_at.is_none_or(|e| now < e);
        valid.then(|| entry.principal.clone())
    }

    /// Stores an entry built in `generation`, unless the generation moved meanwhile.
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
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                principal,
                generation,
                expires_at,
            },
        );
    }

    /// Drops every entry (a local change that can alter a decision).
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.write().clear();
    }

    /// Records the storage's epoch, read at `now`; a new epoch drops every entry.
    pub(crate) fn sync(&self, epoch: i64, now: DateTime<Utc>) {
        let previous = self.epoch.swap(epoch, Ordering::SeqCst);
        if previous != epoch {
            self.invalidate();
        }
        self.synced_at_ms
            .store(now.timestamp_millis(), Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use tessera_domain::ids::{AccountId, UserId};

    use super::*;
    use crate::testing::now;

    fn principal() -> Arc<Principal> {
        Arc::new(Principal::user(AccountId(1), UserId(1), vec![], &[]))
    }

    #[test]
    fn entries_need_a_recent_epoch() {
        let cache = PrincipalCache::new(1000);
        let k = key(1, &[b"token"]);
        cache.insert(k, principal(), cache.generation(), None);
        assert!(cache.get(&k, now()).is_none(), "never synced");
        cache.sync(7, now());
        let g = cache.generation();
        cache.insert(k, principal(), g, None);
        assert!(cache.get(&k, now()).is_some());
        assert!(
            cache
                .get(&k, now() + TimeDelta::milliseconds(1001))
                .is_none(),
            "stale epoch"
        );
    }

    #[test]
    fn a_new_epoch_or_a_local_change_drops_everything() {
        let cache = PrincipalCache::new(1000);
        cache.sync(1, now());
        let k = key(1, &[b"token"]);
        cache.insert(k, principal(), cache.generation(), None);
        cache.sync(1, now());
        assert!(cache.get(&k, now()).is_some(), "same epoch keeps entries");
        cache.sync(2, now());
        assert!(cache.get(&k, now()).is_none());
        cache.insert(k, principal(), cache.generation(), None);
        cache.invalidate();
        assert!(cache.get(&k, now()).is_none());
    }

    #[test]
    fn an_entry_built_before_a_change_is_not_stored() {
        let cache = PrincipalCache::new(1000);
        cache.sync(1, now());
        let k = key(1, &[b"token"]);
        let before = cache.generation();
        cache.invalidate();
        cache.insert(k, principal(), before, None);
        assert!(cache.get(&k, now()).is_none());
    }

    #[test]
    fn entries_expire_with_their_credential() {
        let cache = PrincipalCache::new(1000);
        cache.sync(1, now());
        let k = key(2, &[b"jwt"]);
        cache.insert(
            k,
            principal(),
            cache.generation(),
            Some(now() + TimeDelta::seconds(1)),
        );
        assert!(cache.get(&k, now()).is_some());
        cache.sync(1, now() + TimeDelta::seconds(2));
        assert!(cache.get(&k, now() + TimeDelta::seconds(2)).is_none());
    }

    #[test]
    fn keys_separate_kinds_and_parts() {
        assert_ne!(key(1, &[b"ab", b"c"]), key(1, &[b"a", b"bc"]));
        assert_ne!(key(1, &[b"x"]), key(2, &[b"x"]));
    }
}
