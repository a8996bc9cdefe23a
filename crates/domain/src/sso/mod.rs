//! SSO connectors (Cloudflare): an email domain whose ownership is proven by a DNS TXT record.
//! A verified, enabled connector makes its domain's users sign in through SSO (its identity
//! provider, `idp`): password sign-in is refused for them.

mod idp;

pub use idp::{
    CONTINUATION_PATH, Continuation, DEFAULT_EMAIL_CLAIM, IDP_TYPE_OIDC, IdpIdentity, IdpInput,
    IdpSettings, LOGIN_TTL_MINUTES, MAX_CLIENT_SECRET_LEN, MAX_CONTINUATION_LEN, ReturnTo,
    SsoLogin, check_client_secret, parse_issuer,
};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::{AccountId, SsoConnectorId};

/// Where the domain's verification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerificationStatus {
    /// Not started.
    Awaiting,
    /// Started: the TXT record is being looked for.
    Pending,
    /// The TXT record was found.
    Verified,
    /// It was not found in time.
    Failed,
}

impl VerificationStatus {
    /// Wire and storage name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Awaiting => "awaiting",
            Self::Pending => "pending",
            Self::Verified => "verified",
            Self::Failed => "failed",
        }
    }

    /// Parses a storage name.
    ///
    /// # Errors
    /// `Invalid` naming `verification.status`.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        [Self::Awaiting, Self::Pending, Self::Verified, Self::Failed]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid("verification.status", format!("unknown status {s}"))
            })
    }
}

/// An SSO connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoConnector {
    /// Id.
    pub id: SsoConnectorId,
    /// Account.
    pub account_id: AccountId,
    /// The email domain (lower case).
    pub email_domain: String,
    /// Whether it is in force (only once verified).
    pub enabled: bool,
    /// Whether to show FedRAMP language at sign-in.
    pub use_fedramp_language: bool,
    /// The TXT record's expected value: `tessera_sso=<id>`.
    pub verification_code: String,
    /// Verification status.
    pub verification_status: VerificationStatus,
    /// Creation time.
    pub created_on: DateTime<Utc>,
    /// Last change.
    pub updated_on: DateTime<Utc>,
    /// The identity provider users sign in through; `None` until configured.
    pub idp: Option<IdpConfig>,
}

/// A connector's identity provider and its sealed client secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpConfig {
    /// The provider.
    pub settings: IdpSettings,
    /// The client secret, sealed (purpose `sso_client_secret:<connector id>`).
    pub sealed_client_secret: Vec<u8>,
}

impl SsoConnector {
    /// The sealing purpose of connector `id`'s client secret.
    #[must_use]
    pub fn secret_purpose(id: SsoConnectorId) -> String {
        format!("sso_client_secret:{id}")
    }

    /// The TXT value proving the domain for connector `id`.
    #[must_use]
    pub fn code_for(id: SsoConnectorId) -> String {
        format!("tessera_sso={id}")
    }

    /// Whether it blocks password sign-in for its domain.
    #[must_use]
    pub fn enforced(&self) -> bool {
        self.enabled && self.verification_status == VerificationStatus::Verified
    }
}

/// Normalises and checks an email domain: lower case, at most 253 characters, two or more labels
/// of letters, digits and inner hyphens.
///
/// # Errors
/// `Invalid` naming `email_domain`.
pub fn parse_email_domain(raw: &str) -> Result<String, DomainError> {
    let domain = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    let ok = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(domain)
    } else {
        Err(DomainError::invalid(
            "email_domain",
            format!("'{raw}' is not a domain name"),
        ))
    }
}

/// The domain of an email address, lower case.
#[must_use]
pub fn domain_of(email: &str) -> Option<String> {
    email
        .rsplit_once('@')
        .map(|(_, d)| d.trim().to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalised_and_checked() {
        assert_eq!(parse_email_domain(" Example.COM. ").unwrap(), "example.com");
        assert!(parse_email_domain("localhost").is_err());
        assert!(parse_email_domain("-bad.com").is_err());
        assert!(parse_email_domain("a..b").is_err());
        assert!(parse_email_domain("exa mple.com").is_err());
        assert_eq!(domain_of("Bob@Example.com").as_deref(), Some("example.com"));
        assert_eq!(domain_of("nobody"), None);
    }
}
