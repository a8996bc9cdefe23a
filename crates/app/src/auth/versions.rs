//! Which authorization changes this instance has acted on.
//!
//! Storage stamps an account with a new version on every change that can alter a decision
//! there. Each sync reads the accounts stamped above a *floor* and evicts those whose version is
//! new to us. The floor is the largest version seen at least [`LOOKBACK`] ago, not the largest
//! seen: on Postgres versions come from a sequence, taken when a transaction writes and made
//! visible when it commits, so a smaller version can appear after a larger one was read. Reading
//! again from the floor finds it; remembering what was acted on keeps it from being evicted
//! twice.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, TimeDelta, Utc};
use tessera_domain::ids::AccountId;
use tessera_domain::ports::AuthzChange;

/// How long a version may take to become visible after a larger one (a transaction's time
/// between stamping and committing) and still be found by the poll; later ones are found by
/// push notifications only.
pub(crate) const LOOKBACK: TimeDelta = TimeDelta::seconds(5);

/// Most changes read in one sync; more means "start over" (drop every cached principal).
/// Storage keeps one row per account, so this also bounds what is remembered as acted on.
pub(crate) const MAX_CHANGES: usize = 10_000;

/// Most syncs remembered inside the lookback.
const MAX_MARKS: usize = 1_000;

/// The tracker.
#[derive(Debug, Default)]
pub(crate) struct Versions {
    /// Versions above it are read on each sync; `None` before the first.
    floor: Option<i64>,
    /// The largest version seen at each sync still inside the lookback, oldest first.
    marks: VecDeque<(DateTime<Utc>, i64)>,
    /// Per account, the version acted on (only those above the floor are kept).
    acted: HashMap<AccountId, i64>,
    /// The largest version seen.
    latest: i64,
}

impl Versions {
    /// Where the next read starts (`None`: never read; read the latest version and
    /// [`Versions::start`] there).
    pub(crate) fn floor(&self) -> Option<i64> {
        self.floor
    }

    /// Starts over at `latest`: what happened before is reflected in nothing cached.
    pub(crate) fn start(&mut self, latest: i64, now: DateTime<Utc>) {
        *self = Self {
            floor: Some(latest),
            marks: VecDeque::from([(now, latest)]),
            acted: HashMap::new(),
            latest,
        };
    }

    /// Records a read's changes; answers the accounts to evict (those with a version not acted
    /// on yet), each once.
    pub(crate) fn record(&mut self, changes: &[AuthzChange], now: DateTime<Utc>) -> Vec<AccountId> {
        let mut evict = Vec::new();
        for c in changes {
            let known = self.acted.get(&c.account).copied();
            if known != Some(c.version) {
                self.acted.insert(c.account, c.version);
                if !evict.contains(&c.account) {
                    evict.push(c.account);
                }
            }
            self.latest = self.latest.max(c.version);
        }
        self.marks.push_back((now, self.latest));
        // The floor: the latest version seen at the last sync at or before the horizon. Marks
        // older than that one are not needed; past MAX_MARKS the oldest go regardless (a burst
        // of syncs; push notifications still cover what the poll then misses).
        let horizon = now - LOOKBACK;
        let mut floor = self.floor.unwrap_or(i64::MIN);
        while self.marks.len() > 1
            && ((self.marks[0].0 <= horizon && self.marks[1].0 <= horizon)
                || self.marks.len() > MAX_MARKS)
        {
            if let Some((_, latest)) = self.marks.pop_front() {
                floor = floor.max(latest);
            }
        }
        if let Some(&(at, latest)) = self.marks.front() {
            if at <= horizon {
                floor = floor.max(latest);
            }
        }
        self.floor = Some(floor);
        self.acted.retain(|_, v| *v > floor);
        evict
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::now;

    fn change(account: i64, version: i64) -> AuthzChange {
        AuthzChange {
            account: AccountId(account),
            version,
        }
    }

    #[test]
    fn each_version_is_acted_on_once() {
        let mut v = Versions::default();
        v.start(10, now());
        assert_eq!(v.floor(), Some(10));
        let t = now() + TimeDelta::milliseconds(250);
        assert_eq!(
            v.record(&[change(1, 11), change(2, 12), change(1, 13)], t),
            vec![AccountId(1), AccountId(2)]
        );
        // Read again from the same floor: nothing new.
        assert!(v.record(&[change(2, 12), change(1, 13)], t).is_empty());
        assert_eq!(v.record(&[change(2, 14)], t), vec![AccountId(2)]);
    }

    #[test]
    fn a_smaller_version_that_shows_up_late_is_still_found() {
        let mut v = Versions::default();
        v.start(10, now());
        // Version 12 committed first; 11 was stamped earlier and commits later.
        assert_eq!(v.record(&[change(2, 12)], now()), vec![AccountId(2)]);
        let later = now() + TimeDelta::seconds(1);
        assert_eq!(v.floor(), Some(10), "the floor stays back");
        assert_eq!(
            v.record(&[change(1, 11), change(2, 12)], later),
            vec![AccountId(1)]
        );
    }

    #[test]
    fn the_floor_follows_what_was_seen_a_lookback_ago() {
        let mut v = Versions::default();
        v.start(10, now());
        v.record(&[change(1, 20)], now() + TimeDelta::seconds(1));
        v.record(&[], now() + TimeDelta::seconds(2));
        assert_eq!(v.floor(), Some(10));
        v.record(&[], now() + LOOKBACK + TimeDelta::seconds(1));
        assert_eq!(v.floor(), Some(20));
        assert!(
            v.acted.is_empty(),
            "nothing at or below the floor is remembered"
        );
        // A new change to the same account is acted on.
        assert_eq!(
            v.record(&[change(1, 21)], now() + LOOKBACK + TimeDelta::seconds(2)),
            vec![AccountId(1)]
        );
    }

    #[test]
    fn marks_stay_bounded_under_many_syncs() {
        let mut v = Versions::default();
        v.start(0, now());
        for i in 0..3000 {
            v.record(&[change(i % 7, i + 1)], now() + TimeDelta::seconds(6));
        }
        assert_eq!(v.marks.len(), MAX_MARKS);
        assert!(v.acted.len() <= 7);
    }
}
