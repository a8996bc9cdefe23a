use crate::audit::AuditRecord;
use crate::authorized_ips::{AuthorizedIp, Network};
use crate::ids::AccountId;

use super::RepoError;

/// Accounts' authorized-IP lists. Every change stamps the account's authorization version in
/// its own transaction: cached principals carry the list, and must not outlive a change.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait AuthorizedIpRepo: Send + Sync {
    /// Adds an entry, unless the account already holds `limit` entries.
    ///
    /// # Errors
    /// `Conflict(Field::AuthorizedIp)` when the account lists that network already;
    /// MUST return `LimitReached` (and store nothing) at the limit, even when additions race.
    fn add_authorized_ip(
        &self,
        account: AccountId,
        entry: &AuthorizedIp,
        limit: u32,
        audit: &AuditRecord,
    ) -> Result<(), RepoError>;

    /// Every entry of the account, oldest first (at most the limit: the whole list is what an
    /// authentication evaluates).
    ///
    /// # Errors
    /// Storage errors only.
    fn list_authorized_ips(&self, account: AccountId) -> Result<Vec<AuthorizedIp>, RepoError>;

    /// Removes the account's entries for `networks` (those with `allowed`, when given) and
    /// answers how many went; none is no error.
    ///
    /// # Errors
    /// Storage errors only.
    fn delete_authorized_ips(
        &self,
        account: AccountId,
        networks: &[Network],
        allowed: Option<bool>,
        audit: &AuditRecord,
    ) -> Result<u64, RepoError>;
}
