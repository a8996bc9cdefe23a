//! Resource keys (what a resource group's scope names) and scopes.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::AccountId;

/// Most objects one resource group may name (every object named is compiled into the decisions
/// of every member of every user group whose policies name the resource group).
pub const MAX_SCOPE_OBJECTS: usize = 1000;

/// Prefix of every scope and object key.
pub const KEY_PREFIX: &str = "com.tessera.api.account";

/// Cloudflare's prefix, accepted on input as a synonym of [`KEY_PREFIX`] (so configuration
/// written for Cloudflare works unchanged); keys are always shown with [`KEY_PREFIX`].
pub const CLOUDFLARE_KEY_PREFIX: &str = "com.cloudflare.api.account";

/// What follows `<prefix>.` in `key`, for either accepted prefix.
fn after_prefix(key: &str) -> Option<&str> {
    [KEY_PREFIX, CLOUDFLARE_KEY_PREFIX]
        .iter()
        .find_map(|prefix| key.strip_prefix(prefix))
        .and_then(|rest| rest.strip_prefix('.'))
}

/// The kinds of object a resource group may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceType {
    /// A user.
    User,
    /// A service key.
    ServiceKey,
    /// An access key.
    AccessKey,
    /// A user group.
    UserGroup,
    /// A resource group.
    ResourceGroup,
    /// An SSO connector.
    SsoConnector,
}

impl ResourceType {
    /// Every type.
    pub const ALL: [ResourceType; 6] = [
        Self::User,
        Self::ServiceKey,
        Self::AccessKey,
        Self::UserGroup,
        Self::ResourceGroup,
        Self::SsoConnector,
    ];

    /// The name used in keys.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::ServiceKey => "service_key",
            Self::AccessKey => "access_key",
            Self::UserGroup => "user_group",
            Self::ResourceGroup => "resource_group",
            Self::SsoConnector => "sso_connector",
        }
    }
}

/// One object: `com.tessera.api.account.<type>.<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceKey {
    /// Kind.
    pub resource_type: ResourceType,
    /// Id, as text.
    pub id: String,
}

impl ResourceKey {
    /// The object `id` of kind `resource_type`.
    #[must_use]
    pub fn new(resource_type: ResourceType, id: impl fmt::Display) -> Self {
        Self {
            resource_type,
            id: id.to_string(),
        }
    }

    /// Parses `com.tessera.api.account.<type>.<id>` (or `com.cloudflare.api.account.…`).
    ///
    /// # Errors
    /// `Invalid` naming `scope.objects.key`.
    pub fn parse(key: &str) -> Result<Self, DomainError> {
        let bad = || {
            DomainError::invalid(
                "scope.objects.key",
                format!("'{key}' is not '*' or {KEY_PREFIX}.<resource_type>.<id>"),
            )
        };
        let rest = after_prefix(key).ok_or_else(bad)?;
        let (ty, id) = ResourceType::ALL
            .iter()
            .find_map(|t| {
                rest.strip_prefix(t.as_str())
                    .and_then(|r| r.strip_prefix('.'))
                    .map(|id| (*t, id))
            })
            .ok_or_else(bad)?;
        if id.is_empty()
            || id.len() > 64
            || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(bad());
        }
        Ok(Self::new(ty, id))
    }
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{KEY_PREFIX}.{}.{}",
            self.resource_type.as_str(),
            self.id
        )
    }
}

/// What a resource group covers inside its account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeObjects {
    /// `*`: the whole account.
    Everything,
    /// These objects only.
    Only(Vec<ResourceKey>),
}

/// A resource group's scope: one account and the objects in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The account (`com.tessera.api.account.<id>`).
    pub account: AccountId,
    /// The objects.
    pub objects: ScopeObjects,
}

impl Scope {
    /// The scope key of `account`.
    #[must_use]
    pub fn account_key(account: AccountId) -> String {
        format!("{KEY_PREFIX}.{account}")
    }

    /// Parses a scope key (`com.tessera.api.account.<id>` or `com.cloudflare.api.account.<id>`)
    /// into its account.
    ///
    /// # Errors
    /// `Invalid` naming `scope.key`.
    pub fn parse_account_key(key: &str) -> Result<AccountId, DomainError> {
        after_prefix(key)
            .and_then(|id| id.parse::<i64>().ok())
            .filter(|id| *id > 0)
            .map(AccountId)
            .ok_or_else(|| {
                DomainError::invalid(
                    "scope.key",
                    format!("'{key}' is not {KEY_PREFIX}.<account_id>"),
                )
            })
    }

    /// Builds a scope from wire keys; `*` anywhere in `objects` means the whole account.
    ///
    /// # Errors
    /// `Invalid` for a malformed key or an empty object list.
    pub fn from_keys(scope_key: &str, objects: &[String]) -> Result<Self, DomainError> {
        let account = Self::parse_account_key(scope_key)?;
        if objects.len() > MAX_SCOPE_OBJECTS {
            return Err(DomainError::invalid(
                "scope.objects",
                format!("at most {MAX_SCOPE_OBJECTS} objects"),
            ));
        }
        if objects.is_empty() {
            return Err(DomainError::invalid(
                "scope.objects",
                "must name at least one object or '*'",
            ));
        }
        if objects.iter().any(|o| o == "*") {
            return Ok(Self {
                account,
                objects: ScopeObjects::Everything,
            });
        }
        let keys = objects
            .iter()
            .map(|o| ResourceKey::parse(o))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            account,
            objects: ScopeObjects::Only(keys),
        })
    }

    /// The object keys as the wire shows them.
    #[must_use]
    pub fn object_keys(&self) -> Vec<String> {
        match &self.objects {
            ScopeObjects::Everything => vec!["*".into()],
            ScopeObjects::Only(keys) => keys.iter().map(ToString::to_string).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        let k = ResourceKey::new(ResourceType::User, 42);
        assert_eq!(k.to_string(), "com.tessera.api.account.user.42");
        assert_eq!(ResourceKey::parse(&k.to_string()).unwrap(), k);
        let sk = ResourceKey::parse(
            "com.tessera.api.account.service_key.0b5d2c7e-1f7a-4c5e-9d42-6a3b2f1e0c9d",
        )
        .unwrap();
        assert_eq!(sk.resource_type, ResourceType::ServiceKey);
        assert!(ResourceKey::parse("com.tessera.api.account.zone.1").is_err());
        assert!(ResourceKey::parse("com.tessera.api.account.user.").is_err());
        assert!(ResourceKey::parse("com.cloudflare.api.accountuser.1").is_err());
        assert!(ResourceKey::parse("com.cloudflare.api.user.1").is_err());
    }

    #[test]
    fn cloudflare_keys_are_synonyms_shown_with_our_prefix() {
        let k = ResourceKey::parse("com.cloudflare.api.account.user.42").unwrap();
        assert_eq!(k, ResourceKey::new(ResourceType::User, 42));
        assert_eq!(k.to_string(), "com.tessera.api.account.user.42");
        let s = Scope::from_keys(
            "com.cloudflare.api.account.7",
            &["com.cloudflare.api.account.sso_connector.ab-12".into()],
        )
        .unwrap();
        assert_eq!(s.account, AccountId(7));
        assert_eq!(
            s.object_keys(),
            vec!["com.tessera.api.account.sso_connector.ab-12"]
        );
        assert_eq!(
            Scope::parse_account_key("com.cloudflare.api.account.x")
                .unwrap_err()
                .to_string(),
            Scope::parse_account_key("com.tessera.api.account.x")
                .unwrap_err()
                .to_string()
                .replace("com.tessera.api.account.x", "com.cloudflare.api.account.x"),
        );
        assert!(Scope::parse_account_key("com.cloudflare.api.account.0").is_err());
        assert!(Scope::parse_account_key("com.example.api.account.7").is_err());
    }

    #[test]
    fn scopes_parse_and_star_means_everything() {
        let s = Scope::from_keys("com.tessera.api.account.7", &["*".into()]).unwrap();
        assert_eq!(s.account, AccountId(7));
        assert_eq!(s.objects, ScopeObjects::Everything);
        assert_eq!(s.object_keys(), vec!["*"]);
        assert!(Scope::from_keys("com.tessera.api.account.x", &["*".into()]).is_err());
        assert!(Scope::from_keys("com.tessera.api.account.7", &[]).is_err());
        assert_eq!(
            Scope::account_key(AccountId(7)),
            "com.tessera.api.account.7"
        );
    }
}
