//! When, and from which client address, keys and sessions were last used: noted on every
//! authentication, written at most once a minute per key or session, in batches, by the
//! maintenance task (never a write per request).
//!
//! A request whose principal comes from the cache first asks the principal's [`LastUse`] (one
//! atomic load): within a minute of the key's last recorded use nothing more happens, with no
//! lock and no allocation. Only the first request after that minute goes on to the
//! [`UsageTracker`], which remembers every key's last recorded use under a lock and queues the
//! writes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeDelta, Utc};
use parking_lot::Mutex;
use tessera_domain::ids::{AccessKeyId, ServiceKeyId, SessionId};
use tessera_domain::ports::Used;

/// A credential whose use is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum KeyRef {
    /// An access key.
    Access(AccessKeyId),
    /// A service key.
    Service(ServiceKeyId),
    /// A session.
    Session(SessionId),
}

/// The uses to write, per kind of credential.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Uses {
    /// Access keys.
    pub(crate) access: Vec<Used<AccessKeyId>>,
    /// Service keys.
    pub(crate) service: Vec<Used<ServiceKeyId>>,
    /// Sessions.
    pub(crate) sessions: Vec<Used<SessionId>>,
}

/// Most keys remembered as written within the last minute; beyond, the memory starts over
/// (costing at most one extra write per key).
const MAX_REMEMBERED: usize = 100_000;

/// How often a key's use is recorded, at most.
const INTERVAL: TimeDelta = TimeDelta::minutes(1);

/// When the use of a principal's key was last recorded (as far as this principal knows), in
/// Unix milliseconds: a cached principal answers "recorded less than a minute ago" by itself,
/// lock-free. It is never later than the tracker's own time for the key, so it never skips a
/// write that the tracker would make.
#[derive(Debug)]
pub(crate) struct LastUse(AtomicI64);

impl Default for LastUse {
    fn default() -> Self {
        Self(AtomicI64::new(i64::MIN))
    }
}

impl Clone for LastUse {
    fn clone(&self) -> Self {
        Self(AtomicI64::new(self.0.load(Ordering::Relaxed)))
    }
}

impl LastUse {
    /// Whether a use at `now` should go on to the tracker: the key's use was last recorded a
    /// minute ago or more. Among concurrent requests, one only goes on.
    pub(crate) fn claim(&self, now: DateTime<Utc>) -> bool {
        let now = now.timestamp_millis();
        let last = self.0.load(Ordering::Relaxed);
        if now.saturating_sub(last) < INTERVAL.num_milliseconds() {
            return false;
        }
        self.0
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }

    /// Records what the tracker answered: when the key's use was last recorded.
    pub(crate) fn set(&self, recorded: DateTime<Utc>) {
        self.0.store(recorded.timestamp_millis(), Ordering::Relaxed);
    }
}

#[derive(Default)]
pub(crate) struct UsageTracker {
    written: Mutex<HashMap<KeyRef, DateTime<Utc>>>,
    pending: Mutex<Uses>,
}

impl UsageTracker {
    /// Notes a use from `from`; queues a write when the last one is a minute old or more.
    /// Answers when the key's use was last recorded (`now` when this use was).
    pub(crate) fn note(
        &self,
        key: &KeyRef,
        from: Option<&str>,
        now: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let mut written = self.written.lock();
        if let Some(t) = written.get(key).filter(|t| now - **t < INTERVAL) {
            return *t;
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
            KeyRef::Session(id) => pending.sessions.push(Used {
                id: *id,
                at: now,
                from,
            }),
        }
        now
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
        assert!(writes.sessions.is_empty());
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

    #[test]
    fn a_session_is_written_at_most_once_a_minute_with_its_address() {
        let t = UsageTracker::default();
        let session = SessionId(tessera_domain::ids::Hex32([5; 16]));
        let other = SessionId(tessera_domain::ids::Hex32([6; 16]));
        for s in 0..90 {
            t.note(
                &KeyRef::Session(session),
                Some("203.0.113.9"),
                now() + TimeDelta::seconds(s),
            );
        }
        t.note(&KeyRef::Session(other), None, now());
        let writes = t.take();
        assert!(writes.access.is_empty() && writes.service.is_empty());
        assert_eq!(
            writes.sessions,
            vec![
                Used {
                    id: session,
                    at: now(),
                    from: Some("203.0.113.9".into())
                },
                Used {
                    id: session,
                    at: now() + TimeDelta::seconds(60),
                    from: Some("203.0.113.9".into())
                },
                Used {
                    id: other,
                    at: now(),
                    from: None
                },
            ]
        );
    }
}
