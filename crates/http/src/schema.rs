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

/// The second factor a credential's sign-in needs.
#[derive(ToSchema)]
#[schema(as = MfaKind)]
pub enum MfaKindDoc {
    /// `totp`: a user with a confirmed TOTP enrolment.
    #[schema(rename = "totp")]
    Totp,
    /// `none`: a user without one, or a key (one factor).
    #[schema(rename = "none")]
    None,
}

/// What a credential report row describes.
#[derive(ToSchema)]
#[schema(as = CredentialType)]
pub enum CredentialTypeDoc {
    /// `user`: a user and its password sign-in.
    #[schema(rename = "user")]
    User,
    /// `access_key`.
    #[schema(rename = "access_key")]
    AccessKey,
    /// `service_key`.
    #[schema(rename = "service_key")]
    ServiceKey,
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

/// How a session was opened.
#[derive(ToSchema)]
#[schema(as = SignInMethod)]
pub enum SignInMethodDoc {
    /// `password`: a password alone.
    #[schema(rename = "password")]
    Password,
    /// `password_totp`: a password and a one-time (or recovery) code.
    #[schema(rename = "password_totp")]
    PasswordTotp,
    /// `sso`: the account's identity provider.
    #[schema(rename = "sso")]
    Sso,
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

/// A role's name, as the catalog spells it (`Developer`, `User Manager`, …).
pub struct RoleName;

impl utoipa::PartialSchema for RoleName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("A role's name, as the catalog spells it."))
            .enum_values(Some(tessera_domain::roles::ROLES.iter().map(|r| r.name)))
            .into()
    }
}

impl ToSchema for RoleName {}

/// An id sent as a string (matching `pattern`, when given) or as a positive number.
#[must_use]
pub fn id_string_or_number(
    description: &str,
    pattern: Option<&str>,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .description(Some(description))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .pattern(pattern),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Int64,
                )))
                .minimum(Some(1)),
        )
        .into()
}

/// The principal of an authorization question: a user id, a service key's UUID or an access
/// key's id.
pub struct PrincipalIdDoc;

impl utoipa::PartialSchema for PrincipalIdDoc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        id_string_or_number(
            "A user id (string or number), a service key's UUID or an access key's `AK…` id.",
            None,
        )
    }
}

impl ToSchema for PrincipalIdDoc {}
