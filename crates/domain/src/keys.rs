//! Credentials: service keys (RSA, Voximplant `CreateKey`), access keys (Restcomm API keys) and
//! password sessions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Secret;
use crate::authorized_ips::Network;
use crate::error::DomainError;
use crate::ids::{AccessKeyId, AccountId, ServiceKeyId, UserId};
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
    /// The only networks it may be used from, besides its account's list (empty: no condition
    /// of its own).
    pub allowed_ips: Vec<Network>,
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
    /// The only networks it may be used from, besides its account's list (empty: no condition
    /// of its own).
    pub allowed_ips: Vec<Network>,
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

/// A password session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Account.
    pub account_id: AccountId,
    /// User.
    pub user_id: UserId,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
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
}
