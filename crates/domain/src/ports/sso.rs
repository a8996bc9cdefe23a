use chrono::{DateTime, Utc};

use crate::audit::AuditRecord;
use crate::ids::{AccountId, SsoConnectorId};
use crate::sso::{IdpConfig, SsoConnector, SsoLogin, VerificationStatus};

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
    /// New identity provider (`Some(None)` removes it).
    pub idp: Option<Option<IdpConfig>>,
    /// Change time.
    pub updated_on: DateTime<Utc>,
}

/// SSO connectors.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait SsoRepo: Send + Sync {
    /// Stores a connector.
    ///
    /// # Errors
    /// `Conflict(Field::EmailDomain)` when the account has a connector for that domain, or
    /// another account has verified it.
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
    /// `NotFound`; `Conflict(Field::EmailDomain)` when marking it verified while another
    /// account's connector has that domain verified (one domain, one account).
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

    /// The connector that has verified `domain` (lower case), in whichever account: at most
    /// one account verifies a domain.
    ///
    /// # Errors
    /// Storage errors only.
    fn find_verified_sso(&self, domain: &str) -> Result<Option<SsoConnector>, RepoError>;

    /// Stores a sign-in in progress, unless `login.client_ip` already has `per_address` of them
    /// unexpired or the connector has `per_connector` (0: no limit), checked and inserted
    /// atomically.
    ///
    /// # Errors
    /// `LimitReached` when a limit is reached.
    fn begin_sso_login(
        &self,
        login: &SsoLogin,
        per_address: u32,
        per_connector: u32,
    ) -> Result<(), RepoError>;

    /// Removes and returns the sign-in whose state and browser binding have these digests, if
    /// it has not expired by `now`: a state is consumed once, whatever happens next, and only
    /// by the browser that started it (someone who learnt the state cannot spend it).
    ///
    /// # Errors
    /// Storage errors only; an unknown, used or expired state, or another binding, is
    /// `Ok(None)`.
    fn take_sso_login(
        &self,
        state_digest: &[u8],
        binding_digest: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<SsoLogin>, RepoError>;

    /// Up to `limit` connectors' sealed client secrets, by connector id after `after`, for
    /// re-sealing under a new key.
    ///
    /// # Errors
    /// Storage errors only.
    fn sealed_client_secrets(
        &self,
        after: Option<SsoConnectorId>,
        limit: u32,
    ) -> Result<Vec<(SsoConnectorId, Vec<u8>)>, RepoError>;

    /// Replaces connector `id`'s sealed client secret `old` by `new`; `false` when it is no
    /// longer `old` (changed meanwhile: left alone).
    ///
    /// # Errors
    /// Storage errors only.
    fn replace_client_secret(
        &self,
        id: SsoConnectorId,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool, RepoError>;

    /// Removes sign-ins that expired before `now`; returns how many.
    ///
    /// # Errors
    /// Storage errors only.
    fn purge_sso_logins(&self, now: DateTime<Utc>) -> Result<u64, RepoError>;
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
