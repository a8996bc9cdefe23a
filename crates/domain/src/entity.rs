//! What an error is about: the kind of object that is missing or in use, and the field whose
//! value clashed. Adapters pick wire codes by matching these variants, never message text.

use std::fmt;

/// A kind of object, as errors name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    /// An account.
    Account,
    /// A user.
    User,
    /// A user's membership of a user group.
    Member,
    /// A Restcomm access key.
    AccessKey,
    /// A service key.
    ServiceKey,
    /// A password session.
    Session,
    /// A user group.
    UserGroup,
    /// A resource group.
    ResourceGroup,
    /// A permission group.
    PermissionGroup,
    /// A policy of a user group.
    Policy,
    /// An SSO connector.
    SsoConnector,
    /// An entry of an account's authorized-IP list.
    AuthorizedIp,
    /// A user's TOTP enrolment.
    TotpEnrolment,
    /// An OAuth client.
    OAuthClient,
    /// An object whose kind the request did not make known (a malformed id in a path).
    Object,
}

impl Entity {
    /// The name used in messages (`user`, `service key`, …).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::User => "user",
            Self::Member => "member",
            Self::AccessKey => "access key",
            Self::ServiceKey => "service key",
            Self::Session => "session",
            Self::UserGroup => "user group",
            Self::ResourceGroup => "resource group",
            Self::PermissionGroup => "permission group",
            Self::Policy => "policy",
            Self::SsoConnector => "sso connector",
            Self::AuthorizedIp => "authorized ip",
            Self::TotpEnrolment => "totp enrolment",
            Self::OAuthClient => "oauth client",
            Self::Object => "object",
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A field whose value must be unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// A user's login (unique per account).
    Login,
    /// A name (of a group, a key, …; unique per account).
    Name,
    /// An SSO connector's email domain.
    EmailDomain,
    /// A permission group named twice in one policy.
    PermissionGroup,
    /// A policy id.
    PolicyId,
    /// A resource group named twice in one policy.
    ResourceGroup,
    /// A network an account's authorized-IP list holds already.
    AuthorizedIp,
    /// A value the database found duplicated where no rule above names it.
    Value,
}

impl Field {
    /// The field's name in messages.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Name => "name",
            Self::EmailDomain => "email_domain",
            Self::PermissionGroup => "permission group",
            Self::PolicyId => "policy id",
            Self::ResourceGroup => "resource group",
            Self::AuthorizedIp => "authorized_ip",
            Self::Value => "value",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
