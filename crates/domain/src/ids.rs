//! Typed identifiers, so that one kind of id can never be passed where another is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(value: i64) -> Self {
                Self(value)
            }
        }
    };
}

numeric_id!(
    /// An account's id (`account_id` on both wires).
    AccountId
);
numeric_id!(
    /// A user's id (`subuser_id` on the method API, `user_id` on REST).
    UserId
);

/// A service key's id: a UUID, shown as its hyphenated lower-case form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ServiceKeyId(pub uuid::Uuid);

impl fmt::Display for ServiceKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for ServiceKeyId {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s.trim())
            .map(Self)
            .map_err(|_| DomainError::invalid("key_id", "must be a UUID"))
    }
}

/// An access key's id: `AK` followed by 18 upper-case letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccessKeyId(String);

impl AccessKeyId {
    /// Length of an access key id, prefix included.
    pub const LEN: usize = 20;

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccessKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for AccessKeyId {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid = s.len() == Self::LEN
            && s.starts_with("AK")
            && s[2..]
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err(DomainError::invalid(
                "key_id",
                "must be AK followed by 18 upper-case letters or digits",
            ))
        }
    }
}

/// A 128-bit identifier rendered as 32 lower-case hex digits (Cloudflare style).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hex32(pub [u8; 16]);

impl Hex32 {
    /// Parses 32 hex digits (either case).
    ///
    /// # Errors
    /// `DomainError::Invalid` naming `field` when `s` is not 32 hex digits.
    pub fn parse(field: &'static str, s: &str) -> Result<Self, DomainError> {
        let mut out = [0u8; 16];
        if s.len() != 32 || hex::decode_to_slice(s, &mut out).is_err() {
            return Err(DomainError::invalid(field, "must be 32 hex digits"));
        }
        Ok(Self(out))
    }
}

impl fmt::Display for Hex32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

macro_rules! hex_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub Hex32);

        impl $name {
            /// Parses 32 hex digits.
            ///
            /// # Errors
            /// `DomainError::Invalid` when `s` is not 32 hex digits.
            pub fn parse(s: &str) -> Result<Self, DomainError> {
                Hex32::parse($field, s).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

hex_id!(
    /// A user group's id.
    UserGroupId,
    "user_group_id"
);
hex_id!(
    /// A policy's id (inside a user group).
    PolicyId,
    "policy_id"
);
hex_id!(
    /// A resource group's id.
    ResourceGroupId,
    "resource_group_id"
);
hex_id!(
    /// A permission group's id (fixed catalog).
    PermissionGroupId,
    "permission_group_id"
);
hex_id!(
    /// An SSO connector's id.
    SsoConnectorId,
    "sso_connector_id"
);
hex_id!(
    /// An OAuth client's id (`client_id`): random, 32 hex digits.
    OAuthClientId,
    "oauth_client_id"
);
hex_id!(
    /// A session's public id: random, not derived from its token (which is stored only as a
    /// digest), so that it can be shown, listed and named in a path without revealing anything.
    SessionId,
    "session_id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_key_id_accepts_only_the_documented_shape() {
        assert!("AKABCDEFGHIJ0123456789".parse::<AccessKeyId>().is_err());
        assert!("AKABCDEFGHIJ01234567".parse::<AccessKeyId>().is_ok());
        assert!("AKabcdefghij01234567".parse::<AccessKeyId>().is_err());
        assert!("XXABCDEFGHIJ01234567".parse::<AccessKeyId>().is_err());
    }

    #[test]
    fn hex_ids_round_trip_and_reject_garbage() {
        let id = UserGroupId::parse("0123456789abcdef0123456789ABCDEF").unwrap();
        assert_eq!(id.to_string(), "0123456789abcdef0123456789abcdef");
        assert!(UserGroupId::parse("0123").is_err());
        assert!(UserGroupId::parse("zz23456789abcdef0123456789abcdef").is_err());
    }
}
