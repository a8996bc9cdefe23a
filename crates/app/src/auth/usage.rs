//! When access keys were last used: noted on every authentication, written at most once a
//! minute per key, in batches, by the maintenance task.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use parking_lot::Mutex;
use tessera_domain::ids::AccessKeyId;

#[derive(Default)]
pub(crate) struct UsageTracker {
    written: Mutex<HashMap<AccessKeyId, DateTime<Utc>>>,
    pending: Mutex<Vec<(AccessKeyId, DateTime<Utc>)>>,
}

impl UsageTracker {
    /// Notes a use; queues a write when the last one is a minute old or more.
    pub(crate) fn note(&self, id: &AccessKeyId, now: DateTime<Utc>) {
        let mut written = self.written.lock();
        if written
            .get(id)
            .is_some_and(|t| now - *t < TimeDelta::minutes(1))
        {
            return;
        }
        if written.len() > 100_000 {
            written.clear();
        }
        written.insert(id.clone(), now);
        self.pending.lock().push((id.clone(), now));
    }

    /// The queued writes.
    pub(crate) fn take(&self) -> Vec<(AccessKeyId, DateTime<Utc>)> {
        std::mem::take(&mut *self.pending.lock())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::now;

    #[test]
    fn a_key_is_written_at_most_once_a_minute() {
        let t = UsageTracker::default();
        let id: AccessKeyId = "AKABCDEFGHIJ01234567".parse().unwrap();
        for s in 0..120 {
            t.note(&id, now() + TimeDelta::seconds(s));
        }
        let writes = t.take();
        assert_eq!(writes.len(), 2);
        assert_eq!(writes[1].1, now() + TimeDelta::seconds(60));
        assert!(t.take().is_empty());
    }
}
