//! Second factors of password sign-in: a user's TOTP enrolment (RFC 6238), its recovery codes,
//! and the short-lived challenges that stand between a right password and a session.
//!
//! The TOTP seed is stored sealed (the `Sealer` port, purpose `totp:<user id>`), recovery codes
//! and challenges as SHA-256 digests: what storage holds opens nothing by itself.

use chrono::{DateTime, Utc};

use crate::error::DomainError;
use crate::ids::{AccountId, UserId};

/// A user's TOTP enrolment, pending (shown, not yet confirmed with a code) or confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpEnrolment {
    /// Account.
    pub account_id: AccountId,
    /// User.
    pub user_id: UserId,
    /// The seed, sealed for `totp:<user id>`.
    pub sealed_secret: Vec<u8>,
    /// When it was started (or last replaced while pending).
    pub created_at: DateTime<Utc>,
    /// When a code confirmed it; `None` while pending (it then protects nothing).
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The last time step whose code was accepted: that step and every earlier one are
    /// refused from then on.
    pub last_step: Option<i64>,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u32,
}

impl TotpEnrolment {
    /// Whether a code confirmed it (only then does sign-in ask for a second factor).
    #[must_use]
    pub fn is_confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

/// One unused recovery code of an enrolment: its place in the set and its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryCode {
    /// Its position in the set it was issued with (0–9).
    pub position: i32,
    /// SHA-256 of the normalised code.
    pub digest: Vec<u8>,
}

/// What a sign-in challenge lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChallengePurpose {
    /// Give a code of the user's confirmed enrolment (or a recovery code).
    Verify,
    /// Enrol (the account requires a second factor and the user has none), then give a code
    /// of the new enrolment.
    Enrol,
}

impl ChallengePurpose {
    /// Storage name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verify => "verify",
            Self::Enrol => "enrol",
        }
    }

    /// Parses a storage name.
    ///
    /// # Errors
    /// `Invalid` naming `purpose`.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        [Self::Verify, Self::Enrol]
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| DomainError::invalid("purpose", format!("unknown purpose {s}")))
    }
}

/// A live sign-in challenge (its token is known by digest only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaChallenge {
    /// Account.
    pub account_id: AccountId,
    /// The user whose password was right.
    pub user_id: UserId,
    /// What it allows.
    pub purpose: ChallengePurpose,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// It is refused from this moment.
    pub expires_at: DateTime<Utc>,
}

/// Whether a credential needs a second factor, as the credential report shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MfaKind {
    /// A confirmed TOTP enrolment.
    Totp,
    /// None (a user without a confirmed enrolment, or a key: keys are one factor).
    None,
}

impl MfaKind {
    /// Wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::None => "none",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_round_trip_and_unknown_ones_are_refused() {
        for p in [ChallengePurpose::Verify, ChallengePurpose::Enrol] {
            assert_eq!(ChallengePurpose::parse(p.as_str()), Ok(p));
        }
        assert!(ChallengePurpose::parse("VERIFY").is_err());
        assert!(ChallengePurpose::parse("").is_err());
    }
}
