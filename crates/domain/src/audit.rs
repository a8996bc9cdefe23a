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
