use chrono::{DateTime, Utc};

use crate::audit::{AuditEvent, AuditRecord};
use crate::ids::AccountId;

use super::RepoError;

/// Filters for listing audit events, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this actor id.
    pub actor: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// At or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Strictly before this time.
    pub before: Option<DateTime<Utc>>,
    /// Keyset cursor: only events with a smaller id.
    pub before_id: Option<i64>,
    /// Events to skip before the page (page-number paging, as the Cloudflare SDK pages the
    /// audit log); applied after `before_id`.
    pub offset: u64,
    /// Page size.
    pub limit: u32,
}

/// The audit log (append-only).
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait AuditRepo: Send + Sync {
    /// Writes a standalone event (authentication failures; mutations write theirs through the
    /// repository that makes the change, in the same transaction).
    ///
    /// # Errors
    /// Storage errors only.
    fn append_audit(&self, record: &AuditRecord) -> Result<(), RepoError>;

    /// The account's events matching `filter`, newest first.
    ///
    /// # Errors
    /// Storage errors only.
    fn list_audit(
        &self,
        account: AccountId,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditEvent>, RepoError>;
}
