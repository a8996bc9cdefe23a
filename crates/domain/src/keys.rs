//! Credentials: service keys (RSA, Voximplant `CreateKey`), access keys (Restcomm API keys) and
//! password sessions.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::Secret;
use crate::authorized_ips::Network;
use crate::error::DomainError;
use crate::ids::{AccessKeyId, AccountId, ServiceKeyId, SessionId, UserId};
use crate::roles::RoleId;

/// A service key: an RSA key pair whose private half the client keeps; Tessera stores the public
/// half and verifies the JWTs it signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceKey {
    /// Id (the JWT's `kid`).
    pub id: ServiceKeyId,
    /// Account.
    pub account_id: AccountId,
    /// The user it belongs to; `None` when it belongs to the account itself.
    pub owner: Option<UserId>,
    /// Name, 1–50 characters.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// The key's own roles (its permissions never exceed its owner's).
    pub roles: Vec<RoleId>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When it works.
    pub validity: KeyValidity,
    /// The only networks it may be used from, besides its account's list (empty: no condition
    /// of its own).
    pub allowed_ips: Vec<Network>,
    /// Last use (kept to within a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// The client address of that use.
    pub last_used_from: Option<String>,
}

/// Longest key name.
pub const MAX_KEY_NAME_LEN: usize = 50;

/// Checks a key name: 1–50 characters, not only spaces.
///
/// # Errors
/// `Invalid` naming `key_name`.
pub fn check_key_name(name: &str) -> Result<(), DomainError> {
    if name.trim().is_empty() || name.chars().count() > MAX_KEY_NAME_LEN {
        Err(DomainError::invalid(
            "key_name",
            "must be 1 to 50 characters",
        ))
    } else {
        Ok(())
    }
}

/// When a key (access key or service key) works: from `not_before` (inclusive) until
/// `expires_at` (exclusive); either end may be open. Outside that window the key is refused
/// like a deleted one, with its own reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct KeyValidity {
    /// The key is refused before this time.
    pub not_before: Option<DateTime<Utc>>,
    /// The key is refused from this time on.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Where a moment falls in a key's validity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Usable.
    Valid,
    /// `not_before` has not come yet.
    NotYetValid,
    /// `expires_at` has passed.
    Expired,
}

/// Longest `max_key_lifetime_days` an account may set (ten years).
pub const MAX_KEY_LIFETIME_DAYS: u32 = 3650;

/// Checks an account's `max_key_lifetime_days`: 1 to [`MAX_KEY_LIFETIME_DAYS`].
///
/// # Errors
/// `Invalid` naming `max_key_lifetime_days`.
pub fn check_max_key_lifetime(days: u32) -> Result<(), DomainError> {
    if (1..=MAX_KEY_LIFETIME_DAYS).contains(&days) {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "max_key_lifetime_days",
            format!("must be between 1 and {MAX_KEY_LIFETIME_DAYS}"),
        ))
    }
}

/// `days` days after `now`; `None` past the end of time (no key reaches it).
fn lifetime_end(now: DateTime<Utc>, days: u32) -> Option<DateTime<Utc>> {
    now.checked_add_signed(TimeDelta::days(i64::from(days)))
}

/// A change of a key's validity; `None` leaves an end alone, `Some(None)` opens it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ValidityChange {
    /// New `not_before`.
    pub not_before: Option<Option<DateTime<Utc>>>,
    /// New `expires_at`.
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

impl ValidityChange {
    /// Whether it changes nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.not_before.is_none() && self.expires_at.is_none()
    }

    /// The times kept to the microsecond (what both storage backends hold).
    #[must_use]
    pub fn to_micros(self) -> Self {
        let trunc = |end: Option<Option<DateTime<Utc>>>| {
            end.map(|t| t.map(|t| t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)))
        };
        Self {
            not_before: trunc(self.not_before),
            expires_at: trunc(self.expires_at),
        }
    }

    /// `current` with this change applied.
    #[must_use]
    pub fn apply(&self, current: KeyValidity) -> KeyValidity {
        KeyValidity {
            not_before: self.not_before.unwrap_or(current.not_before),
            expires_at: self.expires_at.unwrap_or(current.expires_at),
        }
    }
}

impl KeyValidity {
    /// Where `now` falls.
    #[must_use]
    pub fn state_at(&self, now: DateTime<Utc>) -> KeyState {
        if self.expires_at.is_some_and(|e| now >= e) {
            KeyState::Expired
        } else if self.not_before.is_some_and(|n| now < n) {
            KeyState::NotYetValid
        } else {
            KeyState::Valid
        }
    }

    /// Whether `expires_at` has passed at `now` (what a list's `expired` filter asks).
    #[must_use]
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.state_at(now) == KeyState::Expired
    }

    /// Whether `next` lets the key work at some moment this one does not: a later (or no)
    /// expiry, or an earlier (or no) start. Such a change issues the key anew.
    #[must_use]
    pub fn widened_by(&self, next: &KeyValidity) -> bool {
        let later_end = match (self.expires_at, next.expires_at) {
            (_, None) => self.expires_at.is_some(),
            (None, Some(_)) => false,
            (Some(old), Some(new)) => new > old,
        };
        let earlier_start = match (self.not_before, next.not_before) {
            (_, None) => self.not_before.is_some(),
            (None, Some(_)) => false,
            (Some(old), Some(new)) => new < old,
        };
        later_end || earlier_start
    }

    /// The times kept to the microsecond (what both storage backends hold).
    #[must_use]
    pub fn to_micros(self) -> Self {
        let trunc = |t: DateTime<Utc>| t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t);
        Self {
            not_before: self.not_before.map(trunc),
            expires_at: self.expires_at.map(trunc),
        }
    }

    /// Checks a validity a key is given at `now` (created with it, or changed to it): both
    /// times between 1970 and 9999 and `not_before` before `expires_at`; when `expiry_set`
    /// (a new key, or a change naming `expires_at`), also an `expires_at` in the future and,
    /// when the account sets `max_key_lifetime_days`, one at most that many days from now.
    ///
    /// # Errors
    /// `Invalid` naming `expires_at` or `not_before`.
    pub fn check(
        &self,
        now: DateTime<Utc>,
        max_lifetime_days: Option<u32>,
        expiry_set: bool,
    ) -> Result<(), DomainError> {
        if let Some(at) = self.not_before {
            crate::audit::check_filter_time("not_before", at)?;
        }
        if let Some(at) = self.expires_at {
            crate::audit::check_filter_time("expires_at", at)?;
            if expiry_set && at <= now {
                return Err(DomainError::invalid("expires_at", "must be in the future"));
            }
            if self.not_before.is_some_and(|n| n >= at) {
                return Err(DomainError::invalid(
                    "not_before",
                    "must be before expires_at",
                ));
            }
        }
        match (max_lifetime_days, self.expires_at) {
            (Some(days), None) if expiry_set => Err(DomainError::invalid(
                "expires_at",
                format!(
                    "must be set: the account's keys live at most {days} days \
                     (max_key_lifetime_days)"
                ),
            )),
            (Some(days), Some(at))
                if expiry_set && lifetime_end(now, days).is_some_and(|end| at > end) =>
            {
                Err(DomainError::invalid(
                    "expires_at",
                    format!(
                        "must be at most {days} days from now (the account's \
                         max_key_lifetime_days)"
                    ),
                ))
            }
            _ => Ok(()),
        }
    }

    /// The validity a new key gets: `expires_at` as asked or, when the account sets
    /// `max_key_lifetime_days` and none was asked, that many days from `now`.
    #[must_use]
    pub fn for_new_key(
        not_before: Option<DateTime<Utc>>,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        max_lifetime_days: Option<u32>,
    ) -> Self {
        let default_end = max_lifetime_days.and_then(|d| lifetime_end(now, d));
        Self {
            not_before,
            expires_at: expires_at.or(default_end),
        }
        .to_micros()
    }
}

/// An access key's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    /// Usable.
    Active,
    /// Refused until re-activated.
    Inactive,
}

impl KeyStatus {
    /// Wire and storage name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
        }
    }

    /// Parses a wire or storage name.
    ///
    /// # Errors
    /// `Invalid` naming `status`.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "active" => Ok(Self::Active),
            "inactive" => Ok(Self::Inactive),
            _ => Err(DomainError::invalid("status", "must be active or inactive")),
        }
    }
}

/// A Restcomm access key (the secret is never stored, only its SHA-256 digest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessKey {
    /// Id, `AK` + 18 characters.
    pub id: AccessKeyId,
    /// Account.
    pub account_id: AccountId,
    /// The user it authenticates as.
    pub user_id: UserId,
    /// Optional name.
    pub name: Option<String>,
    /// Status.
    pub status: KeyStatus,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last use (kept to within a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it works.
    pub validity: KeyValidity,
    /// The only networks it may be used from, besides its account's list (empty: no condition
    /// of its own).
    pub allowed_ips: Vec<Network>,
    /// The client address of that use.
    pub last_used_from: Option<String>,
}

/// Access keys a user may hold at once (rotation: one old, one new).
pub const MAX_ACCESS_KEYS_PER_USER: u32 = 2;

/// Prefix of an access-key token: `tsr_<key id>_<secret>`.
pub const ACCESS_TOKEN_PREFIX: &str = "tsr_";

/// Builds the full token of an access key.
#[must_use]
pub fn access_token(id: &AccessKeyId, secret: &Secret) -> Secret {
    Secret::new(format!("{ACCESS_TOKEN_PREFIX}{id}_{}", secret.expose()))
}

/// Splits `tsr_<key id>_<secret>` into its id and secret.
#[must_use]
pub fn parse_access_token(token: &str) -> Option<(AccessKeyId, Secret)> {
    let rest = token.strip_prefix(ACCESS_TOKEN_PREFIX)?;
    let id = rest.get(..AccessKeyId::LEN)?.parse().ok()?;
    let secret = rest.get(AccessKeyId::LEN..)?.strip_prefix('_')?;
    (!secret.is_empty()).then(|| (id, Secret::new(secret)))
}

/// A session (its token is never stored: only its digest, which is not part of this view).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Public id (random, unrelated to the token).
    pub id: SessionId,
    /// Account.
    pub account_id: AccountId,
    /// User.
    pub user_id: UserId,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// The client address it was opened from, when known.
    pub created_from: Option<String>,
    /// How it was opened.
    pub method: SignInMethod,
    /// Last use (kept to within a minute; `None` before the first).
    pub last_used_at: Option<DateTime<Utc>>,
    /// The client address of that use.
    pub last_used_from: Option<String>,
}

/// How a session was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    /// A password alone.
    Password,
    /// A password and a TOTP (or recovery) code.
    PasswordTotp,
    /// The account's identity provider (SSO).
    Sso,
}

impl SignInMethod {
    /// Wire and storage name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::PasswordTotp => "password_totp",
            Self::Sso => "sso",
        }
    }

    /// Parses a storage name.
    ///
    /// # Errors
    /// `Invalid` naming `method`.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        [Self::Password, Self::PasswordTotp, Self::Sso]
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| DomainError::invalid("method", format!("unknown sign-in method {s}")))
    }
}

/// Prefix of a session token.
pub const SESSION_TOKEN_PREFIX: &str = "tss_";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_tokens_round_trip() {
        let id: AccessKeyId = "AKABCDEFGHIJ01234567".parse().unwrap();
        let token = access_token(&id, &Secret::new("s3cr_et"));
        assert_eq!(token.expose(), "tsr_AKABCDEFGHIJ01234567_s3cr_et");
        let (pid, psecret) = parse_access_token(token.expose()).unwrap();
        assert_eq!(pid, id);
        assert_eq!(psecret.expose(), "s3cr_et");
        assert!(parse_access_token("tsr_AKABCDEFGHIJ01234567_").is_none());
        assert!(parse_access_token("tsr_AKABC_secret").is_none());
        assert!(parse_access_token("Bearer xyz").is_none());
    }

    #[test]
    fn key_names_are_one_to_fifty_characters() {
        assert!(check_key_name("ci").is_ok());
        assert!(check_key_name(&"k".repeat(50)).is_ok());
        assert!(check_key_name(&"k".repeat(51)).is_err());
        assert!(check_key_name("  ").is_err());
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn validity(not_before: Option<&str>, expires_at: Option<&str>) -> KeyValidity {
        KeyValidity {
            not_before: not_before.map(at),
            expires_at: expires_at.map(at),
        }
    }

    #[test]
    fn a_key_works_from_not_before_until_expires_at() {
        let v = validity(Some("2026-01-01T00:00:00Z"), Some("2026-02-01T00:00:00Z"));
        assert_eq!(
            v.state_at(at("2025-12-31T23:59:59Z")),
            KeyState::NotYetValid
        );
        assert_eq!(v.state_at(at("2026-01-01T00:00:00Z")), KeyState::Valid);
        assert_eq!(v.state_at(at("2026-01-31T23:59:59.999Z")), KeyState::Valid);
        assert_eq!(v.state_at(at("2026-02-01T00:00:00Z")), KeyState::Expired);
        assert!(v.is_expired(at("2026-02-01T00:00:00Z")));
        assert!(
            !v.is_expired(at("2025-01-01T00:00:00Z")),
            "not yet valid is not expired"
        );
        assert_eq!(
            KeyValidity::default().state_at(at("9999-12-31T23:59:59Z")),
            KeyState::Valid
        );
    }

    #[test]
    fn widening_is_a_later_end_or_an_earlier_start() {
        let v = validity(Some("2026-01-10T00:00:00Z"), Some("2026-02-01T00:00:00Z"));
        assert!(v.widened_by(&validity(Some("2026-01-10T00:00:00Z"), None)));
        assert!(v.widened_by(&validity(
            Some("2026-01-10T00:00:00Z"),
            Some("2026-03-01T00:00:00Z")
        )));
        assert!(v.widened_by(&validity(None, Some("2026-02-01T00:00:00Z"))));
        assert!(v.widened_by(&validity(
            Some("2026-01-09T00:00:00Z"),
            Some("2026-01-20T00:00:00Z")
        )));
        assert!(!v.widened_by(&v));
        assert!(!v.widened_by(&validity(
            Some("2026-01-11T00:00:00Z"),
            Some("2026-01-20T00:00:00Z")
        )));
        assert!(!KeyValidity::default().widened_by(&v));
        assert!(!KeyValidity::default().widened_by(&KeyValidity::default()));
    }

    #[test]
    fn a_new_validity_must_end_in_the_future_and_within_the_accounts_limit() {
        let now = at("2026-11-30T12:00:00Z");
        let ok = validity(None, Some("2026-12-30T12:00:00Z"));
        assert!(ok.check(now, None, true).is_ok());
        assert!(ok.check(now, Some(30), true).is_ok(), "exactly 30 days");
        assert_eq!(
            ok.check(now, Some(29), true).unwrap_err().to_string(),
            "expires_at: must be at most 29 days from now (the account's max_key_lifetime_days)"
        );
        assert_eq!(
            KeyValidity::default()
                .check(now, Some(29), true)
                .unwrap_err()
                .to_string(),
            "expires_at: must be set: the account's keys live at most 29 days (max_key_lifetime_days)"
        );
        assert!(KeyValidity::default().check(now, None, true).is_ok());
        for past in ["2026-11-30T12:00:00Z", "2020-01-01T00:00:00Z"] {
            assert_eq!(
                validity(None, Some(past))
                    .check(now, None, true)
                    .unwrap_err()
                    .to_string(),
                "expires_at: must be in the future"
            );
        }
        assert!(
            validity(None, Some("2020-01-01T00:00:00Z"))
                .check(now, Some(1), false)
                .is_ok(),
            "an expiry the change does not name is not checked again"
        );
        assert_eq!(
            validity(Some("2026-12-30T12:00:00Z"), Some("2026-12-30T12:00:00Z"))
                .check(now, None, true)
                .unwrap_err()
                .to_string(),
            "not_before: must be before expires_at"
        );
        assert!(
            validity(Some("2000-01-01T00:00:00Z"), None)
                .check(now, None, true)
                .is_ok()
        );
        assert!(
            validity(Some("1969-12-31T23:59:59Z"), None)
                .check(now, None, true)
                .is_err()
        );
        assert!(
            validity(None, Some("+10000-01-01T00:00:00Z"))
                .check(now, None, true)
                .is_err()
        );
    }

    #[test]
    fn a_new_key_of_a_limited_account_expires_at_the_limit_by_default() {
        let now = at("2026-11-30T12:00:00.123456789Z");
        let v = KeyValidity::for_new_key(None, None, now, Some(7));
        assert_eq!(v.expires_at, Some(at("2026-12-07T12:00:00.123456Z")));
        assert!(v.check(now, Some(7), true).is_ok());
        assert_eq!(
            KeyValidity::for_new_key(None, None, now, None),
            KeyValidity::default()
        );
        let asked = at("2026-12-01T00:00:00Z");
        assert_eq!(
            KeyValidity::for_new_key(None, Some(asked), now, Some(7)).expires_at,
            Some(asked)
        );
    }

    #[test]
    fn key_lifetimes_are_one_day_to_ten_years() {
        assert!(check_max_key_lifetime(1).is_ok());
        assert!(check_max_key_lifetime(3650).is_ok());
        assert!(check_max_key_lifetime(0).is_err());
        assert!(check_max_key_lifetime(3651).is_err());
    }
}
