use chrono::{DateTime, Utc};

use super::RepoError;

/// One limit to reserve an attempt under: a key (`login:<account>:<login>`,
/// `address:<ip>`) and how many attempts it may count within the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptKey {
    /// The key.
    pub key: String,
    /// Most attempts counted within the window.
    pub max: u32,
}

/// What a reservation got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Every key counted the attempt.
    Granted,
    /// A key is at its limit; nothing was counted. The lock lifts at `until`.
    Locked {
        /// When the earliest lock among the keys lifts.
        until: DateTime<Utc>,
    },
}

/// The state of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptCount {
    /// Attempts counted in the current window (in-flight ones included).
    pub attempts: u32,
    /// When the window started.
    pub since: DateTime<Utc>,
}

/// Attempt limits shared by every instance on the storage: each key counts attempts in a fixed
/// window that starts with the first attempt counted. An attempt is reserved before it is
/// evaluated (so concurrent guesses can never test more than the limit) and counts as a
/// failure until it is released.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait AttemptRepo: Send + Sync {
    /// Counts one attempt under every key, atomically: either all keys count it, or — when
    /// one of them already has `max` attempts in a window that has not ended at `now` — none
    /// does.
    ///
    /// # Errors
    /// Storage errors only.
    fn reserve_attempt(
        &self,
        keys: &[AttemptKey],
        window_secs: i64,
        now: DateTime<Utc>,
    ) -> Result<Reservation, RepoError>;

    /// Gives back an attempt reserved under each key (it succeeded, or did not count).
    ///
    /// # Errors
    /// Storage errors only.
    fn release_attempt(&self, keys: &[String]) -> Result<(), RepoError>;

    /// Forgets a key's attempts (a successful sign-in of a login, an administrator's unlock);
    /// `true` when there were any.
    ///
    /// # Errors
    /// Storage errors only.
    fn clear_attempts(&self, key: &str) -> Result<bool, RepoError>;

    /// Removes the keys whose window started before `before` (the periodic upkeep).
    ///
    /// # Errors
    /// Storage errors only.
    fn purge_attempts(&self, before: DateTime<Utc>) -> Result<(), RepoError>;

    /// A key's count, when it has one in a window that has not ended at `now`.
    ///
    /// # Errors
    /// Storage errors only.
    fn attempt_count(
        &self,
        key: &str,
        window_secs: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<AttemptCount>, RepoError>;
}
