use chrono::{DateTime, Utc};

/// A credential's use, as the batched last-use writes record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Used<I> {
    /// The credential (an access key's, a service key's or a session's id).
    pub id: I,
    /// When.
    pub at: DateTime<Utc>,
    /// The client address it was used from, when known.
    pub from: Option<String>,
}
