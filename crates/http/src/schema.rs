//! Documentation-only mirrors of domain enums, so that the OpenAPI document lists their values
//! while the domain stays free of web concerns. Fields use them through
//! `#[schema(value_type = …)]`.

#![allow(dead_code)]

use utoipa::ToSchema;

/// A user's status.
#[derive(ToSchema)]
#[schema(as = UserStatus)]
#[allow(clippy::enum_variant_names)]
pub enum UserStatusDoc {
    /// `active`.
    #[schema(rename = "active")]
    Active,
    /// `inactive`.
    #[schema(rename = "inactive")]
    Inactive,
    /// `pending`.
    #[schema(rename = "pending")]
    Pending,
}

/// An access key's status.
#[derive(ToSchema)]
#[schema(as = KeyStatus)]
pub enum KeyStatusDoc {
    /// `active`.
    #[schema(rename = "active")]
    Active,
    /// `inactive`.
    #[schema(rename = "inactive")]
    Inactive,
}

/// A membership's status.
#[derive(ToSchema)]
#[schema(as = MemberStatus)]
pub enum MemberStatusDoc {
    /// `accepted`.
    #[schema(rename = "accepted")]
    Accepted,
    /// `pending`.
    #[schema(rename = "pending")]
    Pending,
}

/// A policy's access.
#[derive(ToSchema)]
#[schema(as = Access)]
pub enum EffectDoc {
    /// `allow`.
    #[schema(rename = "allow")]
    Allow,
    /// `deny`.
    #[schema(rename = "deny")]
    Deny,
}

/// A permission level.
#[derive(ToSchema)]
#[schema(as = Level)]
pub enum LevelDoc {
    /// `read`.
    #[schema(rename = "read")]
    Read,
    /// `write`.
    #[schema(rename = "write")]
    Write,
}
