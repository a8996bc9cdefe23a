use chrono::{DateTime, Utc};

/// How to list: a page size, then either an offset or a keyset cursor (the id after which to
/// start), optional name filters and a direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Page size (already clamped by the caller).
    pub limit: u32,
    /// Rows to skip (offset paging); ignored when `after` is set.
    pub offset: u64,
    /// Keyset cursor: start after this id (in the listing's direction); numeric for users,
    /// the id itself for objects with text ids.
    pub after: Option<String>,
    /// Exact name (login) filter.
    pub name: Option<String>,
    /// Case-insensitive substring filter on the name.
    pub fuzzy_name: Option<String>,
    /// Newest first when set.
    pub descending: bool,
    /// Ids the caller may not see (objects a deny policy hides from it): left out of the page
    /// and of the total, in the same query.
    pub hidden: Vec<String>,
    /// Owners the caller may not see (service keys only): their keys are left out likewise.
    pub hidden_owners: Vec<i64>,
    /// Keys only: only the expired keys, or only the others.
    pub expiry: Option<ExpiryFilter>,
}

/// Keys whose `expires_at` has passed at `at` (`expired`), or the others (no expiry, or one
/// still to come).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryFilter {
    /// Expired keys (`true`) or the others (`false`).
    pub expired: bool,
    /// The moment that decides.
    pub at: DateTime<Utc>,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            limit: 20,
            offset: 0,
            after: None,
            name: None,
            fuzzy_name: None,
            descending: false,
            hidden: Vec::new(),
            hidden_owners: Vec::new(),
            expiry: None,
        }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// How many rows match the filters in all.
    pub total: i64,
}

impl<T> Page<T> {
    /// A page holding every match (a lookup by id, not a listing).
    #[must_use]
    pub fn whole(items: Vec<T>) -> Self {
        let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
        Self { items, total }
    }
}
