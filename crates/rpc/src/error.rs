//! Voximplant error objects and the one mapping from `AppError` to their codes.

use serde::Serialize;
use tessera_app::{AppError, AuthFailure, OAuthError, SsoFailure};
use tessera_domain::DomainError;
use tessera_domain::{Entity, Field};

/// An error as the method API shows it: `{"error": {"code", "msg"}}`, always with HTTP 200.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RpcError {
    /// Voximplant's code.
    pub code: u32,
    /// Message.
    pub msg: String,
}

/// The codes used.
pub mod codes {
    /// Authentication failed.
    pub const AUTH_FAILED: u32 = 100;
    /// Invalid argument.
    pub const INVALID_ARGUMENT: u32 = 101;
    /// No `cmd`.
    pub const MISSING_CMD: u32 = 102;
    /// Unknown method.
    pub const UNKNOWN_METHOD: u32 = 103;
    /// Forbidden.
    pub const FORBIDDEN: u32 = 104;
    /// A required parameter is missing or empty.
    pub const REQUIRED: u32 = 134;
    /// Too many requests.
    pub const RATE_LIMIT: u32 = 340;
    /// Invalid key id.
    pub const INVALID_KEY_ID: u32 = 433;
    /// Invalid subuser id.
    pub const INVALID_SUBUSER_ID: u32 = 434;
    /// Invalid role set.
    pub const INVALID_ROLE_SET: u32 = 435;
    /// Login not unique.
    pub const LOGIN_NOT_UNIQUE: u32 = 436;
    /// Too many keys.
    pub const TOO_MANY_KEYS: u32 = 437;
    /// Too many subusers.
    pub const TOO_MANY_SUBUSERS: u32 = 438;
    /// The subuser's keys hold the roles.
    pub const KEYS_HOLD_ROLES: u32 = 439;
    /// Invalid role id.
    pub const INVALID_ROLE_ID: u32 = 440;
    /// Invalid role name.
    pub const INVALID_ROLE_NAME: u32 = 441;
    /// Invalid token format.
    pub const TOKEN_FORMAT: u32 = 447;
    /// Old password required.
    pub const OLD_PASSWORD_REQUIRED: u32 = 448;
    /// `role_id` and `role_name` together.
    pub const ROLE_ID_AND_NAME: u32 = 449;
    /// Login length.
    pub const LOGIN_LENGTH: u32 = 452;
    /// Login must start with a letter.
    pub const LOGIN_FIRST_LETTER: u32 = 453;
    /// Token lifetime too long.
    pub const TOKEN_LIFETIME: u32 = 454;
    /// Token issued in the future.
    pub const TOKEN_FUTURE: u32 = 455;
    /// Token expired.
    pub const TOKEN_EXPIRED: u32 = 456;
    /// Internal error.
    pub const INTERNAL: u32 = 500;
    /// The service cannot reach its database; retry later.
    pub const UNAVAILABLE: u32 = 503;
    /// Password too weak.
    pub const PASSWORD_WEAK: u32 = 523;
    /// Password contains spaces.
    pub const PASSWORD_SPACES: u32 = 524;
}

impl RpcError {
    /// An error with `code` and `msg`.
    #[must_use]
    pub fn new(code: u32, msg: impl Into<String>) -> Self {
        Self {
            code,
            msg: msg.into(),
        }
    }

    /// 101 naming `param`.
    #[must_use]
    pub fn invalid(param: &str, why: impl std::fmt::Display) -> Self {
        Self::new(
            codes::INVALID_ARGUMENT,
            format!("Invalid argument '{param}': {why}"),
        )
    }

    /// 134 naming `param`.
    #[must_use]
    pub fn required(param: &str) -> Self {
        Self::new(
            codes::REQUIRED,
            format!("Required parameter '{param}' is empty"),
        )
    }
}

/// The wire name of a domain field in the method API.
fn param_name(field: &str) -> &str {
    match field {
        "login" => "new_subuser_name",
        "password" => "new_subuser_password",
        "old_password" => "old_subuser_password",
        "name" => "key_name",
        other => other,
    }
}

fn domain(e: &DomainError) -> RpcError {
    use codes::*;
    let msg = e.to_string();
    match e {
        DomainError::LoginLength => RpcError::new(LOGIN_LENGTH, msg),
        DomainError::LoginMustStartWithLetter => RpcError::new(LOGIN_FIRST_LETTER, msg),
        DomainError::LoginCharacters => RpcError::invalid("new_subuser_name", e),
        DomainError::PasswordTooWeak(_) => RpcError::new(PASSWORD_WEAK, msg),
        DomainError::PasswordHasWhitespace => RpcError::new(PASSWORD_SPACES, msg),
        DomainError::UnknownRoleId(_) => RpcError::new(INVALID_ROLE_ID, msg),
        DomainError::UnknownRoleName(_) => RpcError::new(INVALID_ROLE_NAME, msg),
        DomainError::Invalid { field, reason } => RpcError::invalid(param_name(field), reason),
    }
}

impl From<DomainError> for RpcError {
    fn from(e: DomainError) -> Self {
        domain(&e)
    }
}

impl From<AppError> for RpcError {
    fn from(e: AppError) -> Self {
        use codes::*;
        let msg = e.to_string();
        match &e {
            AppError::Invalid(d) => domain(d),
            AppError::NotFound(entity) => match entity {
                Entity::User | Entity::Member => {
                    RpcError::new(INVALID_SUBUSER_ID, "Invalid subuser_id")
                }
                Entity::ServiceKey => RpcError::new(INVALID_KEY_ID, "Invalid key_id"),
                Entity::Account
                | Entity::AccessKey
                | Entity::Session
                | Entity::UserGroup
                | Entity::ResourceGroup
                | Entity::PermissionGroup
                | Entity::Policy
                | Entity::SsoConnector
                | Entity::AuthorizedIp
                | Entity::TotpEnrolment
                | Entity::OAuthClient
                | Entity::Object => RpcError::new(INVALID_ARGUMENT, msg),
            },
            AppError::Conflict(field) => match field {
                Field::Login => {
                    RpcError::new(LOGIN_NOT_UNIQUE, "The login is not unique in the account")
                }
                Field::Name
                | Field::EmailDomain
                | Field::PermissionGroup
                | Field::PolicyId
                | Field::ResourceGroup
                | Field::AuthorizedIp
                | Field::Value => RpcError::new(INVALID_ARGUMENT, msg),
            },
            AppError::LastOwner
            | AppError::InUse(_)
            | AppError::TooManyChildAccounts(_)
            | AppError::AccountTooDeep(_)
            | AppError::TooManyAuthorizedIps(_)
            | AppError::MfaEnrolled => RpcError::new(INVALID_ARGUMENT, msg),
            AppError::WouldLockOut(_) => RpcError::invalid("force", msg),
            AppError::AddressNotAuthorized => RpcError::new(AUTH_FAILED, msg),
            AppError::Forbidden(_) | AppError::SsoRequired(_) | AppError::SessionRequired => {
                RpcError::new(FORBIDDEN, msg)
            }
            AppError::RoleNotGrantable(_) => RpcError::new(INVALID_ROLE_SET, msg),
            // OAuth clients are a REST resource; no method reaches them.
            AppError::ScopeNotGrantable(_) => RpcError::new(FORBIDDEN, msg),
            AppError::TooManyOAuthClients(_) => RpcError::new(INVALID_ARGUMENT, msg),
            AppError::OAuthClient(_) => RpcError::new(AUTH_FAILED, msg),
            AppError::Unauthenticated(failure) => {
                let code = match failure {
                    // Refused like a deleted key (Voximplant has no code of its own for it); the
                    // message says why.
                    AuthFailure::Failed
                    | AuthFailure::Missing
                    | AuthFailure::KeyExpired
                    | AuthFailure::KeyNotYetValid => AUTH_FAILED,
                    AuthFailure::TokenFormat => TOKEN_FORMAT,
                    AuthFailure::TokenLifetime => TOKEN_LIFETIME,
                    AuthFailure::TokenFromFuture => TOKEN_FUTURE,
                    AuthFailure::TokenExpired => TOKEN_EXPIRED,
                };
                RpcError::new(code, msg)
            }
            AppError::RateLimited { .. } => RpcError::new(RATE_LIMIT, msg),
            AppError::TooManyUsers(_) => RpcError::new(TOO_MANY_SUBUSERS, msg),
            AppError::TooManyKeys(_) => RpcError::new(TOO_MANY_KEYS, msg),
            AppError::KeysHoldRoles(_) => RpcError::new(KEYS_HOLD_ROLES, msg),
            AppError::OldPasswordRequired => RpcError::new(OLD_PASSWORD_REQUIRED, msg),
            AppError::Overloaded { .. } => RpcError::new(UNAVAILABLE, msg),
            // SSO sign-in is a browser flow of the REST API; no method reaches it.
            AppError::Sso(failure) => match failure {
                SsoFailure::TooManySignIns => RpcError::new(RATE_LIMIT, msg),
                SsoFailure::IdpUnavailable(_) => RpcError::new(UNAVAILABLE, msg),
                SsoFailure::NotConfigured
                | SsoFailure::InvalidState
                | SsoFailure::WrongBrowser
                | SsoFailure::IdpDenied(_)
                | SsoFailure::CodeRefused(_)
                | SsoFailure::InvalidIdToken(_)
                | SsoFailure::EmailMissing(_)
                | SsoFailure::EmailOutsideDomain(_)
                | SsoFailure::EmailNotVerified
                | SsoFailure::NoUser
                | SsoFailure::UserInactive
                | SsoFailure::AmbiguousEmail => RpcError::new(AUTH_FAILED, msg),
            },
            // OAuth is a protocol of the REST side; no method reaches it.
            AppError::OAuth(o) => match o {
                OAuthError::InvalidClient | OAuthError::InvalidToken => {
                    RpcError::new(AUTH_FAILED, msg)
                }
                OAuthError::InsufficientScope(_) => RpcError::new(FORBIDDEN, msg),
                OAuthError::InvalidRequest(_)
                | OAuthError::InvalidGrant(_)
                | OAuthError::UnauthorizedClient(_)
                | OAuthError::UnsupportedGrantType
                | OAuthError::InvalidScope(_) => RpcError::new(INVALID_ARGUMENT, msg),
            },
            AppError::Unavailable(_) => RpcError::new(
                UNAVAILABLE,
                "Service unavailable: the database cannot be reached; retry later",
            ),
            AppError::Internal(_) => {
                tracing::error!(error = %e, "internal error");
                RpcError::new(INTERNAL, "Internal error")
            }
        }
    }
}
