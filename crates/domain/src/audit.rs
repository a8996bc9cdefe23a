//! Audit events: an append-only record of every mutation and every authentication failure.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::AccountId;

/// What kind of principal acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A user (password session).
    User,
    /// A service key (JWT).
    ServiceKey,
    /// An access key.
    AccessKey,
    /// Tessera itself (bootstrap, background jobs).
    System,
    /// Nobody authenticated (failed sign-in).
    Anonymous,
}

impl ActorKind {
    /// Storage and wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::ServiceKey => "service_key",
            Self::AccessKey => "access_key",
            Self::System => "system",
            Self::Anonymous => "anonymous",
        }
    }

    /// Parses a storage name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::User,
            Self::ServiceKey,
            Self::AccessKey,
            Self::System,
            Self::Anonymous,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Who acted: a kind and an id (user id, key id, or a login for failed sign-ins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Kind.
    pub kind: ActorKind,
    /// Id of the principal, as text.
    pub id: String,
}

impl Actor {
    /// Tessera itself.
    #[must_use]
    pub fn system() -> Self {
        Self {
            kind: ActorKind::System,
            id: "tessera".into(),
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.id)
    }
}

/// How the attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Done.
    Success,
    /// Refused (authentication failure, policy denial).
    Failure,
}

impl Outcome {
    /// Storage name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }
}

/// Where a request came from, for the audit trail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMeta {
    /// The client's address.
    pub client_ip: Option<String>,
    /// The request id (also in the logs and the `x-request-id` header).
    pub request_id: Option<String>,
}

/// An event, as written (append-only).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    /// The account it concerns (none for a failure that names no known account).
    pub account_id: Option<AccountId>,
    /// Who acted.
    pub actor: Actor,
    /// `user.create`, `auth.failure`, …
    pub action: String,
    /// What was acted on (`user:42`).
    pub target: Option<String>,
    /// Success or failure.
    pub outcome: Outcome,
    /// Client address.
    pub client_ip: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
    /// Anything else worth keeping (never a secret).
    pub details: serde_json::Value,
}

/// A stored event with its id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    /// Monotonic id (the keyset cursor).
    pub id: i64,
    /// The event.
    #[serde(flatten)]
    pub record: AuditRecord,
}

/// The earliest time an audit filter may name.
pub const EARLIEST: &str = "1970-01-01T00:00:00Z";
/// The latest time an audit filter may name.
pub const LATEST: &str = "9999-12-31T23:59:59Z";

/// Checks a time an audit filter names: between [`EARLIEST`] and [`LATEST`], so that both
/// storage backends can store and compare it the same way (Postgres refuses far dates; SQLite
/// compares timestamps as text, which orders only four-digit years).
///
/// # Errors
/// `Invalid` naming `field`.
pub fn check_filter_time(field: &'static str, at: DateTime<Utc>) -> Result<(), crate::DomainError> {
    let bounds = (
        DateTime::parse_from_rfc3339(EARLIEST).map(|t| t.with_timezone(&Utc)),
        DateTime::parse_from_rfc3339(LATEST).map(|t| t.with_timezone(&Utc)),
    );
    match bounds {
        (Ok(earliest), Ok(latest)) if at >= earliest && at <= latest => Ok(()),
        _ => Err(crate::DomainError::invalid(
            field,
            format!("must be between {EARLIEST} and {LATEST}"),
        )),
    }
}

#[cfg(test)]
mod filter_tests {
    use super::*;

    #[test]
    fn filter_times_stay_within_four_digit_years_from_1970() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert!(check_filter_time("since", t(EARLIEST)).is_ok());
        assert!(check_filter_time("since", t(LATEST)).is_ok());
        assert!(check_filter_time("since", t("1969-12-31T23:59:59Z")).is_err());
        assert!(check_filter_time("before", t("+10000-01-01T00:00:00Z")).is_err());
        let err = check_filter_time("before", t("-4713-01-01T00:00:00Z")).unwrap_err();
        assert!(
            err.to_string().starts_with("before: must be between"),
            "{err}"
        );
    }
}
