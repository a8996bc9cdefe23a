//! Errors raised by domain rules. Each rule that a wire format reports with its own code has its
//! own variant, so adapters never match on message text.

/// A violated domain rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A value breaks a format or range rule; `field` names it, `reason` says how.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field that was rejected.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A login shorter than 5 or longer than 20 characters.
    #[error("login must be 5 to 20 characters long")]
    LoginLength,
    /// A login whose first character is not a letter.
    #[error("login must start with a letter")]
    LoginMustStartWithLetter,
    /// A login with a character outside `[a-z0-9._-]`.
    #[error("login may contain only letters, digits, '.', '_' and '-'")]
    LoginCharacters,
    /// A password that misses one of the policy's requirements (named in the message).
    #[error("password is too weak: {0}")]
    PasswordTooWeak(&'static str),
    /// A password containing whitespace.
    #[error("password must not contain spaces")]
    PasswordHasWhitespace,
    /// A role id that is not in the catalog.
    #[error("unknown role id {0}")]
    UnknownRoleId(i64),
    /// A role name that is not in the catalog.
    #[error("unknown role name '{0}'")]
    UnknownRoleName(String),
}

impl DomainError {
    /// Shorthand for [`DomainError::Invalid`].
    #[must_use]
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
