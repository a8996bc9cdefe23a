//! Attempt limits: per login and per client address, counted in storage so that every instance
//! on one database counts the same attempts (`AttemptRepo`).
//!
//! - A password sign-in **reserves** its attempt under the login and the address before the
//!   password is hashed; the reservation counts as a failure until the sign-in succeeds (then
//!   the login's count is cleared and the address's slot given back). So N concurrent guesses
//!   never test more than the limit, on one instance or several: the attempt that reaches the
//!   limit still answers as a failure, every later one gets 429 until the window ends.
//! - A refused token (access key, JWT, session) counts a failure under its address after it
//!   was evaluated: such secrets are not guessable, the address limit only sheds load.
//! - Requests whose principal is cached are refused at once when this instance knows their
//!   address is locked (it saw the lock); another instance learns of a lock on the next
//!   sign-in or uncached credential from that address.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use parking_lot::Mutex;
use tessera_domain::ids::AccountId;
use tessera_domain::ports::{AttemptKey, Reservation};

use crate::App;
use crate::error::AppResult;

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

/// Most locked addresses remembered for the no-IO check (beyond, the oldest are forgotten and
/// found again in storage).
const MAX_LOCAL_LOCKS: usize = 100_000;

/// The attempt key of a login.
pub(crate) fn login_key(account: AccountId, login: &str) -> String {
    format!("login:{account}:{}", login.trim().to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

/// Addresses this instance knows to be locked, and until when (for the check that does no IO).
#[derive(Default)]
pub(crate) struct LocalLocks {
    addresses: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl LocalLocks {
    /// Seconds until `address` is free, when this instance knows it locked.
    pub(crate) fn check(&self, address: Option<&str>, now: DateTime<Utc>) -> Option<u64> {
        let address = address?;
        let mut map = self.addresses.lock();
        let until = *map.get(address)?;
        if until <= now {
            map.remove(address);
            return None;
        }
        Some(wait(until, now))
    }

    fn note(&self, address: &str, until: DateTime<Utc>) {
        let mut map = self.addresses.lock();
        if map.len() >= MAX_LOCAL_LOCKS {
            let now = Utc::now();
            map.retain(|_, u| *u > now);
            if map.len() >= MAX_LOCAL_LOCKS {
                map.clear();
            }
        }
        map.insert(address.to_owned(), until);
    }
}

fn wait(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    u64::try_from((until - now).num_seconds().max(1)).unwrap_or(1)
}

/// A refused reservation: the login or the address is locked.
pub(crate) struct Lock {
    /// Seconds until the lock lifts.
    pub(crate) retry_after_secs: u64,
    /// Whether the address is locked (else the login is).
    pub(crate) by_address: bool,
}

/// A reserved sign-in attempt: its keys, to settle when the outcome is known.
pub(crate) struct Reserved {
    login: Option<String>,
    address: Option<String>,
}

impl App {
    fn keys(&self, login: Option<&str>, address: Option<&str>) -> Vec<AttemptKey> {
        let limits = self.settings.rate_limits;
        login
            .map(|l| AttemptKey {
                key: l.to_owned(),
                max: limits.per_login,
            })
            .into_iter()
            .chain(address.map(|a| AttemptKey {
                key: address_key(a),
                max: limits.per_address,
            }))
            .collect()
    }

    /// Reserves a sign-in attempt under the login key and the address; `Err(Lock)` when either
    /// is locked (nothing is counted then).
    ///
    /// # Errors
    /// Storage errors.
    pub(crate) fn reserve_attempt(
        &self,
        login: Option<&str>,
        address: Option<&str>,
        now: DateTime<Utc>,
    ) -> AppResult<Result<Reserved, Lock>> {
        let keys = self.keys(login, address);
        match self.ports.attempts.reserve_attempt(
            &keys,
            self.settings.rate_limits.window_secs,
            now,
        )? {
            Reservation::Granted => Ok(Ok(Reserved {
                login: login.map(str::to_owned),
                address: address.map(address_key),
            })),
            Reservation::Locked { until } => {
                let mut by_address = false;
                if let Some(a) = address {
                    if self.address_locked_in_storage(a, now)?.is_some() {
                        by_address = true;
                        self.local_locks.note(a, until);
                    }
                }
                Ok(Err(Lock {
                    retry_after_secs: wait(until, now),
                    by_address,
                }))
            }
        }
    }

    /// The attempt succeeded: the login's failures are forgotten, the address's slot given
    /// back.
    pub(crate) fn attempt_succeeded(&self, reserved: Reserved) -> AppResult<()> {
        if let Some(login) = &reserved.login {
            self.ports.attempts.clear_attempts(login)?;
        }
        if let Some(address) = reserved.address {
            self.ports.attempts.release_attempt(&[address])?;
        }
        Ok(())
    }

    /// The attempt was no failure, but the sign-in is not over (a second factor is due): its
    /// slot is given back under the login and the address, and the login's earlier failures
    /// stay counted (a right password must not wipe the count of wrong codes).
    pub(crate) fn attempt_released(&self, reserved: Reserved) -> AppResult<()> {
        let keys: Vec<String> = reserved.login.into_iter().chain(reserved.address).collect();
        if !keys.is_empty() {
            self.ports.attempts.release_attempt(&keys)?;
        }
        Ok(())
    }

    /// Counts a refused token under its address (after it was evaluated).
    pub(crate) fn count_token_failure(&self, address: Option<&str>, now: DateTime<Utc>) {
        let Some(a) = address else { return };
        let keys = self.keys(None, Some(a));
        match self
            .ports
            .attempts
            .reserve_attempt(&keys, self.settings.rate_limits.window_secs, now)
        {
            Ok(Reservation::Locked { until }) => self.local_locks.note(a, until),
            Ok(Reservation::Granted) => {}
            Err(e) => tracing::warn!(error = %e, "could not count an authentication failure"),
        }
    }

    /// When `address` is locked in storage (by any instance), until when.
    ///
    /// # Errors
    /// Storage errors.
    pub(crate) fn address_locked_in_storage(
        &self,
        address: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<DateTime<Utc>>> {
        let limits = self.settings.rate_limits;
        let count =
            self.ports
                .attempts
                .attempt_count(&address_key(address), limits.window_secs, now)?;
        Ok(count
            .filter(|c| c.attempts >= limits.per_address)
            .map(|c| c.since + TimeDelta::seconds(limits.window_secs)))
    }

    /// Whether the address is locked: this instance's memory first, then storage; a lock found
    /// in storage is remembered.
    ///
    /// # Errors
    /// Storage errors.
    pub(crate) fn address_lock(
        &self,
        address: Option<&str>,
        now: DateTime<Utc>,
    ) -> AppResult<Option<u64>> {
        let Some(a) = address else { return Ok(None) };
        if let Some(w) = self.local_locks.check(Some(a), now) {
            return Ok(Some(w));
        }
        Ok(self.address_locked_in_storage(a, now)?.map(|until| {
            self.local_locks.note(a, until);
            wait(until, now)
        }))
    }
}
