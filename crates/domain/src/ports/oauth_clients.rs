use chrono::{DateTime, Utc};

use crate::audit::AuditRecord;
use crate::ids::{AccountId, OAuthClientId};
use crate::oauth::{ClientSettings, OAuthClient};

use super::RepoError;

/// OAuth clients. Every change is stored with its audit record, in one transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait OAuthClientRepo: Send + Sync {
    /// Stores a client unless its account has `limit` clients already.
    ///
    /// # Errors
    /// MUST return `LimitReached` (storing nothing) at the limit, even when creations race;
    /// `Conflict(Field::Value)` for a `client_id` taken (128 random bits: never in practice).
    fn create_oauth_client(
        &self,
        client: &OAuthClient,
        limit: u32,
        audit: &AuditRecord,
    ) -> Result<OAuthClient, RepoError>;

    /// Client `id` of `account`.
    ///
    /// # Errors
    /// MUST return `NotFound` for a client of another account.
    fn get_oauth_client(
        &self,
        account: AccountId,
        id: OAuthClientId,
    ) -> Result<OAuthClient, RepoError>;

    /// Client `id`, whichever its account (for `/oauth/authorize` and `/oauth/token`): one
    /// lookup by primary key.
    ///
    /// # Errors
    /// Storage errors only; an unknown client is `Ok(None)`.
    fn find_oauth_client(&self, id: OAuthClientId) -> Result<Option<OAuthClient>, RepoError>;

    /// The account's clients, oldest first.
    ///
    /// # Errors
    /// Storage errors only.
    fn list_oauth_clients(&self, account: AccountId) -> Result<Vec<OAuthClient>, RepoError>;

    /// Replaces client `id`'s settings (never its secrets) and sets `updated_at`.
    ///
    /// # Errors
    /// MUST return `NotFound` for a client of another account.
    fn update_oauth_client(
        &self,
        account: AccountId,
        id: OAuthClientId,
        settings: &ClientSettings,
        updated_at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<OAuthClient, RepoError>;

    /// Rotates a confidential client's secret in one statement: the current secret becomes the
    /// previous one (replacing any previous one) and `new_digest` the current one. However
    /// many rotations race, at most two secrets stay valid: the last one and the one before.
    ///
    /// # Errors
    /// MUST return `NotFound` for a client of another account, or one without a secret.
    fn rotate_oauth_client_secret(
        &self,
        account: AccountId,
        id: OAuthClientId,
        new_digest: &[u8],
        updated_at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<OAuthClient, RepoError>;

    /// Drops the previous secret (after a rotation); nothing to drop is no error.
    ///
    /// # Errors
    /// MUST return `NotFound` for a client of another account.
    fn delete_rotated_oauth_client_secret(
        &self,
        account: AccountId,
        id: OAuthClientId,
        updated_at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<OAuthClient, RepoError>;

    /// Deletes a client: from then on it is unknown to every lookup.
    ///
    /// # Errors
    /// MUST return `NotFound` for a client of another account.
    fn delete_oauth_client(
        &self,
        account: AccountId,
        id: OAuthClientId,
        audit: &AuditRecord,
    ) -> Result<(), RepoError>;
}
