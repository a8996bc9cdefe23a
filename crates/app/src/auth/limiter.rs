//! Failed-authentication limits: per login and per client address, in a sliding window.
//!
//! The attempt that reaches the limit still answers as a failure; from then on every attempt
//! (even with the right password) is refused until the oldest failure leaves the window.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, TimeDelta, Utc};
use parking_lot::Mutex;

/// Limits (config `auth.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Failures for one login within the window that lock it.
    pub per_login: u32,
    /// Failures from one client address within the window that lock it.
    pub per_address: u32,
    /// The window, seconds.
    pub window_secs: i64,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            per_login: 5,
            per_address: 50,
            window_secs: 15 * 60,
        }
    }
}

#[derive(Default)]
struct Windows {
    by_key: HashMap<String, VecDeque<DateTime<Utc>>>,
}

impl Windows {
    fn prune(&mut self, key: &str, since: DateTime<Utc>) -> Option<&mut VecDeque<DateTime<Utc>>> {
        let q = self.by_key.get_mut(key)?;
        while q.front().is_some_and(|t| *t <= since) {
            q.pop_front();
        }
        Some(q)
    }
}

/// Counts failures and says when to refuse.
pub(crate) struct FailureLimiter {
    limits: RateLimits,
    logins: Mutex<Windows>,
    addresses: Mutex<Windows>,
    tracked: AtomicUsize,
}

impl FailureLimiter {
    pub(crate) fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            logins: Mutex::new(Windows::default()),
            addresses: Mutex::new(Windows::default()),
            tracked: AtomicUsize::new(0),
        }
    }

    fn window(&self) -> TimeDelta {
        TimeDelta::seconds(self.limits.window_secs)
    }

    fn locked(
        &self,
        windows: &Mutex<Windows>,
        key: &str,
        max: u32,
        now: DateTime<Utc>,
    ) -> Option<u64> {
        let mut w = windows.lock();
        let q = w.prune(key, now - self.window())?;
        if q.len() >= max as usize {
            let until = *q.front()? + self.window();
            Some(u64::try_from((until - now).num_seconds().max(1)).unwrap_or(1))
        } else {
            None
        }
    }

    /// `Some(seconds to wait)` when the login or the address is locked.
    pub(crate) fn check(
        &self,
        login: Option<&str>,
        address: Option<&str>,
        now: DateTime<Utc>,
    ) -> Option<u64> {
        if self.tracked.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let by_address =
            address.and_then(|a| self.locked(&self.addresses, a, self.limits.per_address, now));
        let by_login = login.and_then(|l| self.locked(&self.logins, l, self.limits.per_login, now));
        by_address.max(by_login)
    }

    fn record(&self, windows: &Mutex<Windows>, key: &str, now: DateTime<Utc>) {
        let mut w = windows.lock();
        if w.by_key.len() > 100_000 {
            let since = now - self.window();
            w.by_key.retain(|_, q| q.back().is_some_and(|t| *t > since));
        }
        w.by_key.entry(key.to_owned()).or_default().push_back(now);
    }

    /// Records a failure for the login and the address.
    pub(crate) fn record_failure(
        &self,
        login: Option<&str>,
        address: Option<&str>,
        now: DateTime<Utc>,
    ) {
        self.tracked.fetch_add(1, Ordering::Relaxed);
        if let Some(l) = login {
            self.record(&self.logins, l, now);
        }
        if let Some(a) = address {
            self.record(&self.addresses, a, now);
        }
    }

    /// Forgets a login's failures (after a successful sign-in).
    pub(crate) fn reset_login(&self, login: &str) {
        self.logins.lock().by_key.remove(login);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::now;

    fn limiter() -> FailureLimiter {
        FailureLimiter::new(RateLimits {
            per_login: 3,
            per_address: 5,
            window_secs: 60,
        })
    }

    #[test]
    fn a_login_locks_after_the_limit_until_the_window_passes() {
        let l = limiter();
        for i in 0..3 {
            assert_eq!(l.check(Some("1:bob"), None, now()), None, "attempt {i}");
            l.record_failure(Some("1:bob"), None, now());
        }
        assert_eq!(l.check(Some("1:bob"), None, now()), Some(60));
        assert_eq!(
            l.check(Some("1:alice"), None, now()),
            None,
            "other logins are free"
        );
        assert_eq!(
            l.check(Some("1:bob"), None, now() + TimeDelta::seconds(30)),
            Some(30)
        );
        assert_eq!(
            l.check(Some("1:bob"), None, now() + TimeDelta::seconds(61)),
            None
        );
    }

    #[test]
    fn an_address_locks_across_logins() {
        let l = limiter();
        for i in 0..5 {
            l.record_failure(Some(&format!("1:user{i}")), Some("10.0.0.9"), now());
        }
        assert!(l.check(Some("1:fresh"), Some("10.0.0.9"), now()).is_some());
        assert!(l.check(Some("1:fresh"), Some("10.0.0.8"), now()).is_none());
    }

    #[test]
    fn a_success_resets_the_login() {
        let l = limiter();
        l.record_failure(Some("1:bob"), None, now());
        l.record_failure(Some("1:bob"), None, now());
        l.reset_login("1:bob");
        l.record_failure(Some("1:bob"), None, now());
        assert_eq!(l.check(Some("1:bob"), None, now()), None);
    }
}
