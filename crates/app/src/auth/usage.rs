//! When, and from which client address, keys were last used: noted on every authentication,
//! written at most once a minute per key, in batches, by the maintenance task.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use parking_lot::Mutex;
use tessera_domain::ids::{AccessKeyId, ServiceKeyId};
use tessera_domain::ports::Used;

/// A key whose use is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum KeyRef {
    /// An access key.
    Access(AccessKeyId),
    /// A service key.
    Service(ServiceKeyId),
}

/// The uses to write, per kind of key.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Uses {
    /// Access keys.
    pub(crate) access: Vec<Used<AccessKeyId>>,
    /// Service keys.
    pub(crate) service: Vec<Used<ServiceKeyId>>,
}

/// Most keys remembered as written within the last minute; beyond, the memory starts over
/// (costing at most one extra write per key).
const MAX_REMEMBERED: usize = 100_000;

#[derive(Default)]
pub(crate) struct UsageTracker {
    written: Mutex<HashMap<KeyRef, DateTime<Utc>>>,
    pending: Mutex<Uses>,
}

impl UsageTracker {
    /// Notes a use from `from`; queues a write when the last one is a minute old or more.
    pub(crate) fn note(&self, key: &KeyRef, from: Option<&str>, now: DateTime<Utc>) {
        let mut written = self.written.lock();
        if written
            .get(key)
            .is_some_and(|t| now - *t < TimeDelta::minutes(1))
        {
            return;
        }
        if written.len() > MAX_REMEMBERED {
            written.clear();
        }
        written.insert(key.clone(), now);
        let from = from.map(str::to_owned);
        let mut pending = self.pending.lock();
        match key {
            KeyRef::Access(id) => pending.access.push(Used {
                id: id.clone(),
                at: now,
                from,
            }),
            KeyRef::Service(id) => pending.service.push(Used {
                id: *id,
                at: now,
                from,
            }),
        }
    }

    /// The queued writes.
    pub(crate) fn take(&self) -> Uses {
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
            t.note(
                &KeyRef::Access(id.clone()),
                Some("192.0.2.7"),
                now() + TimeDelta::seconds(s),
            );
        }
        let writes = t.take();
        assert_eq!(writes.access.len(), 2);
        assert!(writes.service.is_empty());
        assert_eq!(writes.access[1].at, now() + TimeDelta::seconds(60));
        assert_eq!(writes.access[1].from.as_deref(), Some("192.0.2.7"));
        assert_eq!(t.take(), Uses::default());
    }

    #[test]
    fn service_keys_are_tracked_apart_from_access_keys_with_their_address() {
        let t = UsageTracker::default();
        let key = ServiceKeyId(uuid::Uuid::from_u128(7));
        t.note(&KeyRef::Service(key), None, now());
        t.note(&KeyRef::Service(key), Some("198.51.100.1"), now());
        t.note(
            &KeyRef::Service(key),
            Some("198.51.100.2"),
            now() + TimeDelta::minutes(1),
        );
        let writes = t.take();
        assert!(writes.access.is_empty());
        assert_eq!(
            writes.service,
            vec![
                Used {
                    id: key,
                    at: now(),
                    from: None
                },
                Used {
                    id: key,
                    at: now() + TimeDelta::minutes(1),
                    from: Some("198.51.100.2".into())
                },
            ]
        );
    }
}
