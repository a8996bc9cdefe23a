//! The sign-in gate: a bounded queue in front of password hashing, shared fairly between
//! client addresses. A storm of sign-ins (from one address or many) cannot make everyone else
//! wait: at most `capacity` sign-ins are admitted at once (hashing or waiting to hash), at most
//! `per_address` of them from one address; the rest are answered at once with 503 and
//! `Retry-After`, before any hashing, without counting as failed attempts.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::error::{AppError, AppResult};

#[derive(Default)]
struct Admitted {
    total: usize,
    by_address: HashMap<String, usize>,
}

/// The gate.
pub(crate) struct SignInGate {
    capacity: usize,
    per_address: usize,
    admitted: Arc<Mutex<Admitted>>,
}

/// An admitted sign-in; leaving the scope frees its place.
pub(crate) struct Pass {
    address: Option<String>,
    admitted: Arc<Mutex<Admitted>>,
}

impl Drop for Pass {
    fn drop(&mut self) {
        let mut a = self.admitted.lock();
        a.total = a.total.saturating_sub(1);
        if let Some(addr) = &self.address {
            if let Some(n) = a.by_address.get_mut(addr) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    a.by_address.remove(addr);
                }
            }
        }
    }
}

impl SignInGate {
    pub(crate) fn new(capacity: usize, per_address: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            per_address: per_address.max(1),
            admitted: Arc::new(Mutex::new(Admitted::default())),
        }
    }

    /// Sign-ins admitted now, and how many may be.
    pub(crate) fn load(&self) -> (usize, usize) {
        (self.admitted.lock().total, self.capacity)
    }

    /// Admits a sign-in from `address`.
    ///
    /// # Errors
    /// `Overloaded` when the queue, or this address's share of it, is full.
    pub(crate) fn enter(&self, address: Option<&str>) -> AppResult<Pass> {
        let mut a = self.admitted.lock();
        let mine = address.map_or(0, |addr| a.by_address.get(addr).copied().unwrap_or(0));
        if a.total >= self.capacity || mine >= self.per_address {
            return Err(AppError::Overloaded {
                retry_after_secs: 1,
            });
        }
        a.total += 1;
        if let Some(addr) = address {
            *a.by_address.entry(addr.to_owned()).or_default() += 1;
        }
        Ok(Pass {
            address: address.map(str::to_owned),
            admitted: self.admitted.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_gets_its_share_and_the_rest_stays_open() {
        let gate = SignInGate::new(4, 2);
        let a1 = gate.enter(Some("10.0.0.1")).unwrap();
        let _a2 = gate.enter(Some("10.0.0.1")).unwrap();
        assert!(matches!(
            gate.enter(Some("10.0.0.1")),
            Err(AppError::Overloaded { .. })
        ));
        let _b = gate.enter(Some("10.0.0.2")).unwrap();
        let _c = gate.enter(None).unwrap();
        assert!(
            gate.enter(Some("10.0.0.3")).is_err(),
            "the queue holds four sign-ins"
        );
        assert_eq!(gate.load(), (4, 4));
        drop(a1);
        assert_eq!(gate.load(), (3, 4));
        assert!(gate.enter(Some("10.0.0.3")).is_ok(), "a place freed");
        assert!(gate.admitted.lock().by_address.len() <= 3);
    }
}
