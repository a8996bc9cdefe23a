//! Keeping cached principals true to storage: after a change here, on every poll, and when
//! another instance's change is pushed (Postgres notifications), the accounts whose versions
//! moved have their cached principals evicted — only theirs.

use std::sync::atomic::Ordering;

use tessera_domain::ids::AccountId;

use super::versions::MAX_CHANGES;
use crate::{App, AppResult};

impl App {
    /// Reads the authorization versions this instance has not acted on and evicts the cached
    /// principals of the accounts they stamp (all of them when too many changed at once).
    ///
    /// # Errors
    /// `Unavailable` when storage cannot be reached; the cache then stops serving within
    /// its staleness bound.
    pub fn sync_authz(&self) -> AppResult<()> {
        let versions = self.versions.lock();
        self.sync_locked(versions)
    }

    /// Like [`App::sync_authz`], unless another thread is reading the versions right now: then
    /// nothing (the request goes on without trusting the cache, which stays unfresh until that
    /// read ends), so that requests never queue behind a slow read.
    ///
    /// # Errors
    /// As [`App::sync_authz`].
    pub(crate) fn sync_unless_busy(&self) -> AppResult<()> {
        match self.versions.try_lock() {
            Some(versions) => self.sync_locked(versions),
            None => Ok(()),
        }
    }

    fn sync_locked(
        &self,
        mut versions: parking_lot::MutexGuard<'_, super::versions::Versions>,
    ) -> AppResult<()> {
        // Taken under the lock, so that the marks and the freshness move forward only.
        let now = self.ports.clock.now();
        // Never read, or too many changes at once to act on one by one: start over.
        let start_over = match versions.floor() {
            None => true,
            Some(floor) => {
                let changes = self.ports.authz.authz_changes(floor, MAX_CHANGES + 1)?;
                if changes.len() > MAX_CHANGES {
                    true
                } else {
                    let evict = versions.record(&changes, now);
                    if !evict.is_empty() {
                        self.cache.evict(&evict);
                        self.telemetry.evicted_read.fetch_add(1, Ordering::Relaxed);
                    }
                    false
                }
            }
        };
        if start_over {
            let latest = self.ports.authz.authz_version()?;
            // Nothing is served before the first read (or after starting over): start clean.
            self.clear_all();
            versions.start(latest, now);
        }
        self.cache.mark_synced(now);
        Ok(())
    }

    /// Another instance changed `accounts` (a push notification, delivered at commit): evicts
    /// their cached principals at once. No read: the next poll records the versions (and
    /// evicts once more, harmlessly), so a burst of notifications costs no queries.
    pub fn authz_changed(&self, accounts: &[AccountId]) {
        self.cache.evict(accounts);
        self.telemetry
            .evicted_pushed
            .fetch_add(1, Ordering::Relaxed);
    }

    /// What changed elsewhere can no longer be known (the notification connection was lost or
    /// just made): drops every cached principal.
    pub fn authz_unknown(&self) {
        self.clear_all();
    }

    fn clear_all(&self) {
        self.cache.clear();
        self.telemetry.evicted_all.fetch_add(1, Ordering::Relaxed);
    }

    /// After a change made here: reads the versions at once (evicting what the change touched);
    /// when they cannot be read, drops everything.
    pub(crate) fn after_change(&self) {
        if self.sync_authz().is_err() {
            self.clear_all();
        }
    }
}
