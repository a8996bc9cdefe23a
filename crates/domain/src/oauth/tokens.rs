//! Access tokens (RFC 9068 JWTs signed by Tessera's own ES256 keys), the keys that sign them,
//! and grants (a user's consent to an OAuth client, which tokens issued from it name).

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::scope::ScopeSet;
use crate::error::DomainError;
use crate::ids::{AccessKeyId, AccountId, Hex32, ServiceKeyId, UserId};

/// The JOSE `typ` of an access token (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// The longest (and default) access-token lifetime, seconds (10 minutes).
pub const MAX_ACCESS_TOKEN_TTL_SECS: i64 = 600;

/// The longest ID-token lifetime, seconds: ID tokens are signed by the same keys, which stay
/// published only as long as what they signed can be valid.
pub const MAX_ID_TOKEN_TTL_SECS: i64 = 600;

/// Clock skew tolerated when a token is checked, seconds.
pub const TOKEN_SKEW_SECS: i64 = 60;

/// How long an instance may keep using the signing keys it read, seconds: a rotation reaches
/// every instance within this time.
pub const KEY_CACHE_SECS: i64 = 5;

/// How long a retired signing key stays published: until every token it signed has expired
/// (the longest lifetime, the skew, and the time an instance may still sign with it after a
/// rotation).
#[must_use]
pub fn key_retention() -> TimeDelta {
    TimeDelta::seconds(
        MAX_ACCESS_TOKEN_TTL_SECS.max(MAX_ID_TOKEN_TTL_SECS) + TOKEN_SKEW_SECS + KEY_CACHE_SECS,
    )
}

/// Who an access token acts for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TokenSubject {
    /// A user, through a grant (the authorization-code flow).
    User(UserId),
    /// An access key (the `client_credentials` grant): its user, within the key.
    AccessKey(AccessKeyId),
    /// A service key (the JWT-bearer grant): within its roles and its owner's rights.
    ServiceKey(ServiceKeyId),
}

impl TokenSubject {
    /// The `sub` claim: the user id, or the key id.
    #[must_use]
    pub fn sub(&self) -> String {
        match self {
            Self::User(u) => u.to_string(),
            Self::AccessKey(k) => k.to_string(),
            Self::ServiceKey(k) => k.to_string(),
        }
    }

    /// The `sub_type` claim: `user`, `access_key` or `service_key`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::User(_) => "user",
            Self::AccessKey(_) => "access_key",
            Self::ServiceKey(_) => "service_key",
        }
    }

    /// Reads `sub` as a subject of `kind`.
    ///
    /// # Errors
    /// `Invalid` for an unknown kind or a `sub` that is not an id of that kind.
    pub fn parse(kind: &str, sub: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::invalid("sub", "not a subject of its sub_type");
        match kind {
            "user" => {
                let id: i64 = sub.parse().map_err(|_| bad())?;
                (id.to_string() == sub)
                    .then_some(Self::User(UserId(id)))
                    .ok_or_else(bad)
            }
            "access_key" => sub.parse().map(Self::AccessKey).map_err(|_| bad()),
            "service_key" => sub.parse().map(Self::ServiceKey).map_err(|_| bad()),
            _ => Err(DomainError::invalid("sub_type", "unknown subject type")),
        }
    }
}

/// The claims of an access token (RFC 9068 §2.2, plus `account_id`, `sub_type` and, for a
/// token issued from a grant, `grant_id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// The issuer: Tessera's public URL.
    pub iss: String,
    /// The subject: a user id, or a key id (see [`TokenSubject`]).
    pub sub: String,
    /// What `sub` is: `user`, `access_key` or `service_key`.
    pub sub_type: String,
    /// The audience: the service the token is for (Tessera's own issuer URL by default).
    pub aud: String,
    /// The client the token was issued to (an OAuth client id, or the key that authenticated).
    pub client_id: String,
    /// The scopes, space-separated.
    pub scope: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issue time, seconds since the epoch.
    pub iat: i64,
    /// The token's unique id (what revocation names).
    pub jti: String,
    /// The subject's account.
    pub account_id: i64,
    /// The grant the token comes from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
}

impl AccessTokenClaims {
    /// The subject the claims name.
    ///
    /// # Errors
    /// `Invalid` when `sub` and `sub_type` do not name a subject.
    pub fn subject(&self) -> Result<TokenSubject, DomainError> {
        TokenSubject::parse(&self.sub_type, &self.sub)
    }

    /// The scopes the claims carry.
    ///
    /// # Errors
    /// `Invalid` for an unknown scope.
    pub fn scopes(&self) -> Result<ScopeSet, DomainError> {
        ScopeSet::parse(&self.scope)
    }

    /// The grant the claims name, if any.
    ///
    /// # Errors
    /// `Invalid` for a `grant_id` that is not 32 hex digits.
    pub fn grant(&self) -> Result<Option<GrantId>, DomainError> {
        self.grant_id.as_deref().map(GrantId::parse).transpose()
    }
}

/// A grant's id (32 hex digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GrantId(pub Hex32);

impl GrantId {
    /// Parses 32 hex digits.
    ///
    /// # Errors
    /// `Invalid` otherwise.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Hex32::parse("grant_id", s).map(Self)
    }
}

impl std::fmt::Display for GrantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A user's consent to an OAuth client: the scopes the client may ask tokens for. Revoking it
/// refuses every token issued from it at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Its id (the `grant_id` claim).
    pub id: GrantId,
    /// The user's account.
    pub account_id: AccountId,
    /// The user.
    pub user_id: UserId,
    /// The OAuth client.
    pub client_id: String,
    /// The scopes granted.
    pub scopes: ScopeSet,
    /// When it was granted.
    pub created_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One of Tessera's token-signing keys (ES256, P-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// Its key id (the JOSE `kid`).
    pub kid: String,
    /// Its public half as a JWK (JSON, with `kid`, `alg`, `use`).
    pub public_jwk: String,
    /// Its private half (PKCS#8 DER), sealed with [`SigningKey::seal_purpose`].
    pub sealed_private: Vec<u8>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When another key replaced it as the current one (`None`: it is current).
    pub retired_at: Option<DateTime<Utc>>,
}

impl SigningKey {
    /// The purpose a key's private half is sealed for.
    #[must_use]
    pub fn seal_purpose(kid: &str) -> String {
        format!("oauth-signing-key:{kid}")
    }

    /// Whether it is still published at `now` (current, or retired within
    /// [`key_retention`]).
    #[must_use]
    pub fn published_at(&self, now: DateTime<Utc>) -> bool {
        self.retired_at.is_none_or(|r| now < r + key_retention())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_round_trip_through_their_claims() {
        let key: AccessKeyId = "AK000000000000000001".parse().unwrap();
        let service = ServiceKeyId(uuid::Uuid::nil());
        for s in [
            TokenSubject::User(UserId(42)),
            TokenSubject::AccessKey(key),
            TokenSubject::ServiceKey(service),
        ] {
            assert_eq!(TokenSubject::parse(s.kind(), &s.sub()).unwrap(), s);
        }
    }

    #[test]
    fn a_sub_of_another_type_is_refused() {
        for (kind, sub) in [
            ("user", "AK000000000000000001"),
            ("user", "042"),
            ("user", "+42"),
            ("access_key", "42"),
            ("service_key", "42"),
            ("admin", "42"),
            ("", ""),
        ] {
            assert!(TokenSubject::parse(kind, sub).is_err(), "{kind} {sub}");
        }
    }

    #[test]
    fn claims_serialise_without_an_absent_grant() {
        let claims = AccessTokenClaims {
            iss: "https://iam.example".into(),
            sub: "42".into(),
            sub_type: "user".into(),
            aud: "https://iam.example".into(),
            client_id: "c".into(),
            scope: "openid user_management.read".into(),
            exp: 2,
            iat: 1,
            jti: "j".into(),
            account_id: 1,
            grant_id: None,
        };
        let json = serde_json::to_value(&claims).unwrap();
        assert!(json.get("grant_id").is_none());
        assert_eq!(json["scope"], "openid user_management.read");
        assert_eq!(claims.subject().unwrap(), TokenSubject::User(UserId(42)));
        assert!(
            claims
                .scopes()
                .unwrap()
                .has(super::super::IdentityScope::OpenId)
        );
        assert_eq!(claims.grant().unwrap(), None);
        let bad = AccessTokenClaims {
            grant_id: Some("nope".into()),
            ..claims
        };
        assert!(bad.grant().is_err());
    }

    #[test]
    fn a_retired_key_stays_published_until_its_tokens_expire() {
        let t0 = DateTime::<Utc>::from_timestamp(1_790_000_000, 0).unwrap();
        let mut key = SigningKey {
            kid: "k".into(),
            public_jwk: "{}".into(),
            sealed_private: vec![],
            created_at: t0,
            retired_at: None,
        };
        assert!(key.published_at(t0 + TimeDelta::days(365)));
        key.retired_at = Some(t0);
        let last_token_expiry = t0
            + TimeDelta::seconds(KEY_CACHE_SECS)
            + TimeDelta::seconds(MAX_ACCESS_TOKEN_TTL_SECS)
            + TimeDelta::seconds(TOKEN_SKEW_SECS);
        assert!(key.published_at(last_token_expiry - TimeDelta::seconds(1)));
        assert!(!key.published_at(last_token_expiry));
        assert_eq!(SigningKey::seal_purpose("k"), "oauth-signing-key:k");
    }
}
