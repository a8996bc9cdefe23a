//! Accounts: the unit of isolation. Every object belongs to exactly one account.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::DomainError;
use crate::ids::AccountId;

/// An account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// Id.
    pub id: AccountId,
    /// Display name.
    pub name: String,
    /// Contact email (shown as `account_email` in key files).
    pub email: String,
    /// The parent account, for child (enterprise) accounts.
    pub parent_id: Option<AccountId>,
    /// Inactive accounts are refused everywhere.
    pub active: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Longest lifetime of a key created or given an expiry in this account, in days; `None`:
    /// keys may live for ever.
    pub max_key_lifetime_days: Option<u32>,
    /// Whether its password users must sign in with a second factor (TOTP): one without a
    /// confirmed enrolment is made to enrol at sign-in. SSO users and keys are not concerned.
    pub require_mfa: bool,
}

/// Longest account name accepted.
pub const MAX_ACCOUNT_NAME_LEN: usize = 100;

/// Checks an account name: 1–100 characters, not only spaces.
///
/// # Errors
/// `Invalid` naming `name`.
pub fn check_account_name(name: &str) -> Result<(), DomainError> {
    if name.trim().is_empty() || name.chars().count() > MAX_ACCOUNT_NAME_LEN {
        Err(DomainError::invalid("name", "must be 1 to 100 characters"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_name_rules() {
        assert!(check_account_name("Acme").is_ok());
        assert!(check_account_name("   ").is_err());
        assert!(check_account_name(&"x".repeat(101)).is_err());
    }
}
