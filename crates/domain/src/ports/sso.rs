use chrono::{DateTime, Utc};

use crate::audit::AuditRecord;
use crate::ids::{AccountId, SsoConnectorId};
use crate::sso::{SsoConnector, VerificationStatus};

use super::RepoError;

/// Changes to a connector; `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SsoChanges {
    /// Enable or disable.
    pub enabled: Option<bool>,
    /// FedRAMP language.
    pub use_fedramp_language: Option<bool>,
    /// New verification status.
    pub verification_status: Option<VerificationStatus>,
    /// Change time.
    pub updated_on: DateTime<Utc>,
}

/// SSO connectors.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait SsoRepo: Send + Sync {
    /// Stores a connector.
    ///
    /// # Errors
    /// `Conflict(Field::EmailDomain)` when the account has a connector for that domain.
    fn create_sso(
        &self,
        connector: &SsoConnector,
        audit: &AuditRecord,
    ) -> Result<SsoConnector, RepoError>;

    /// Connector `id` of `account`.
    ///
    /// # Errors
    /// MUST return `NotFound` for a connector of another account.
    fn get_sso(&self, account: AccountId, id: SsoConnectorId) -> Result<SsoConnector, RepoError>;

    /// The account's connectors, oldest first.
    ///
    /// # Errors
    /// Storage errors only.
    fn list_sso(&self, account: AccountId) -> Result<Vec<SsoConnector>, RepoError>;

    /// Applies `changes` (the verifier's status changes too, audited as the system).
    ///
    /// # Errors
    /// `NotFound`.
    fn update_sso(
        &self,
        account: AccountId,
        id: SsoConnectorId,
        changes: &SsoChanges,
        audit: &AuditRecord,
    ) -> Result<SsoConnector, RepoError>;

    /// Deletes a connector.
    ///
    /// # Errors
    /// `NotFound`.
    fn delete_sso(
        &self,
        account: AccountId,
        id: SsoConnectorId,
        audit: &AuditRecord,
    ) -> Result<(), RepoError>;

    /// Every connector whose verification is pending (all accounts), for the verifier.
    ///
    /// # Errors
    /// Storage errors only.
    fn pending_sso(&self) -> Result<Vec<SsoConnector>, RepoError>;
}

/// DNS lookups for domain verification.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait DnsResolver: Send + Sync {
    /// The TXT records of `domain` (each record's strings joined); empty when there are none.
    ///
    /// # Errors
    /// A message when the lookup itself failed (timeout, no server): the caller tries again later.
    fn txt_records(&self, domain: &str) -> Result<Vec<String>, String>;
}
