//! Users (Voximplant "subusers", Restcomm "users", Cloudflare "members") and their rules.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::{AccountId, UserId};
use crate::roles::RoleId;
use crate::secret::Secret;

/// A login: 5–20 characters of `[a-z0-9._-]`, starting with a letter, always lower-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Login(String);

impl Login {
    /// Lower-cases `raw` and checks it, length first, then the first character, then the rest.
    ///
    /// # Errors
    /// [`DomainError::LoginLength`], [`DomainError::LoginMustStartWithLetter`] or
    /// [`DomainError::LoginCharacters`].
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let login = raw.trim().to_lowercase();
        let len = login.chars().count();
        if !(5..=20).contains(&len) {
            return Err(DomainError::LoginLength);
        }
        if !login.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(DomainError::LoginMustStartWithLetter);
        }
        if !login.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        }) {
            return Err(DomainError::LoginCharacters);
        }
        Ok(Self(login))
    }

    /// Wraps a login read back from storage, where it was validated on the way in.
    #[must_use]
    pub fn from_trusted(login: String) -> Self {
        Self(login)
    }

    /// The login.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Longest password accepted (argon2 would take more, but nothing good comes of it).
pub const MAX_PASSWORD_LEN: usize = 128;

/// Checks the password policy: at least 8 characters, one upper-case letter, one lower-case
/// letter, one digit, one special character, no whitespace.
///
/// # Errors
/// [`DomainError::PasswordHasWhitespace`] first, then [`DomainError::PasswordTooWeak`] naming
/// the first rule broken, or `Invalid` when longer than [`MAX_PASSWORD_LEN`].
pub fn check_password_policy(password: &Secret) -> Result<(), DomainError> {
    let p = password.expose();
    if p.chars().any(char::is_whitespace) {
        return Err(DomainError::PasswordHasWhitespace);
    }
    if p.chars().count() < 8 {
        return Err(DomainError::PasswordTooWeak(
            "it must be at least 8 characters long",
        ));
    }
    if p.chars().count() > MAX_PASSWORD_LEN {
        return Err(DomainError::invalid(
            "password",
            "must be at most 128 characters",
        ));
    }
    if !p.chars().any(char::is_uppercase) {
        return Err(DomainError::PasswordTooWeak(
            "it needs an upper-case letter",
        ));
    }
    if !p.chars().any(char::is_lowercase) {
        return Err(DomainError::PasswordTooWeak("it needs a lower-case letter"));
    }
    if !p.chars().any(|c| c.is_ascii_digit()) {
        return Err(DomainError::PasswordTooWeak("it needs a digit"));
    }
    if !p.chars().any(|c| !c.is_alphanumeric()) {
        return Err(DomainError::PasswordTooWeak("it needs a special character"));
    }
    Ok(())
}

/// Longest email accepted.
pub const MAX_EMAIL_LEN: usize = 90;

/// Checks an email address: at most 90 characters, one `@` with text on both sides, no spaces.
///
/// # Errors
/// `Invalid` naming `email`.
pub fn check_email(email: &str) -> Result<(), DomainError> {
    if email.chars().count() > MAX_EMAIL_LEN {
        return Err(DomainError::invalid(
            "email",
            "must be at most 90 characters",
        ));
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !email.chars().any(char::is_whitespace) =>
        {
            Ok(())
        }
        _ => Err(DomainError::invalid("email", "must be an email address")),
    }
}

/// Checks a phone number: 3–32 characters of digits, spaces, `+`, `-`, `(` and `)`, with at least
/// three digits.
///
/// # Errors
/// `Invalid` naming `phone_number`.
pub fn check_phone_number(phone: &str) -> Result<(), DomainError> {
    let ok = (3..=32).contains(&phone.len())
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '(' | ')' | ' '))
        && phone.chars().filter(char::is_ascii_digit).count() >= 3;
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "phone_number",
            "must be a phone number",
        ))
    }
}

/// Longest description accepted.
pub const MAX_DESCRIPTION_LEN: usize = 1024;

/// Checks a free-text description's length.
///
/// # Errors
/// `Invalid` naming `description`.
pub fn check_description(text: &str) -> Result<(), DomainError> {
    if text.chars().count() > MAX_DESCRIPTION_LEN {
        Err(DomainError::invalid(
            "description",
            "must be at most 1024 characters",
        ))
    } else {
        Ok(())
    }
}

/// A user's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    /// May sign in and use its keys.
    Active,
    /// Refused everywhere until re-activated.
    Inactive,
    /// Invited, not yet active (refused like `Inactive`).
    Pending,
}

impl UserStatus {
    /// The wire and storage name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Pending => "pending",
        }
    }

    /// Parses a wire or storage name.
    ///
    /// # Errors
    /// `Invalid` naming `status`.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "active" => Ok(Self::Active),
            "inactive" => Ok(Self::Inactive),
            "pending" => Ok(Self::Pending),
            _ => Err(DomainError::invalid(
                "status",
                "must be active, inactive or pending",
            )),
        }
    }
}

/// A user, with its roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Id (global, never reused).
    pub id: UserId,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// Login, unique in the account.
    pub login: Login,
    /// Contact email.
    pub email: Option<String>,
    /// Phone number.
    pub phone_number: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Status.
    pub status: UserStatus,
    /// Roles, ascending id.
    pub roles: Vec<RoleId>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Last password sign-in.
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// The client address of that sign-in.
    pub last_sign_in_from: Option<String>,
}

impl User {
    /// Whether the user holds the `Owner` role.
    #[must_use]
    pub fn is_owner(&self) -> bool {
        self.roles.contains(&crate::roles::ids::OWNER)
    }

    /// Whether the user is an active owner.
    #[must_use]
    pub fn is_active_owner(&self) -> bool {
        self.is_owner() && self.status == UserStatus::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_is_lower_cased_and_checked_in_order() {
        assert_eq!(Login::parse("Alice.Smith").unwrap().as_str(), "alice.smith");
        assert_eq!(Login::parse("abcd"), Err(DomainError::LoginLength));
        assert_eq!(
            Login::parse("a".repeat(21).as_str()),
            Err(DomainError::LoginLength)
        );
        assert_eq!(
            Login::parse("1abcde"),
            Err(DomainError::LoginMustStartWithLetter)
        );
        assert_eq!(
            Login::parse("_abcde"),
            Err(DomainError::LoginMustStartWithLetter)
        );
        assert_eq!(Login::parse("abc de"), Err(DomainError::LoginCharacters));
        assert_eq!(Login::parse("abcdé"), Err(DomainError::LoginCharacters));
        assert!(Login::parse("a-b_c.d9").is_ok());
        assert!(Login::parse(&"a".repeat(20)).is_ok());
    }

    #[test]
    fn password_policy_names_the_missing_rule() {
        let check = |p: &str| check_password_policy(&Secret::new(p));
        assert_eq!(check("Abcdef1!"), Ok(()));
        assert_eq!(check("Abc def1!"), Err(DomainError::PasswordHasWhitespace));
        assert_eq!(
            check("Ab1!"),
            Err(DomainError::PasswordTooWeak(
                "it must be at least 8 characters long"
            ))
        );
        assert_eq!(
            check("abcdefg1!"),
            Err(DomainError::PasswordTooWeak(
                "it needs an upper-case letter"
            ))
        );
        assert_eq!(
            check("ABCDEFG1!"),
            Err(DomainError::PasswordTooWeak("it needs a lower-case letter"))
        );
        assert_eq!(
            check("Abcdefgh!"),
            Err(DomainError::PasswordTooWeak("it needs a digit"))
        );
        assert_eq!(
            check("Abcdefgh1"),
            Err(DomainError::PasswordTooWeak("it needs a special character"))
        );
    }

    #[test]
    fn email_rules() {
        assert!(check_email("a@example.com").is_ok());
        assert!(check_email("a@b").is_err());
        assert!(check_email("@example.com").is_err());
        assert!(check_email("a b@example.com").is_err());
        let long = format!("{}@example.com", "a".repeat(80));
        assert_eq!(long.len(), 92);
        assert!(check_email(&long).is_err());
    }

    #[test]
    fn phone_and_description_rules() {
        assert!(check_phone_number("+1 (555) 010-0000").is_ok());
        assert!(check_phone_number("12").is_err());
        assert!(check_phone_number("call me").is_err());
        assert!(check_description(&"x".repeat(1024)).is_ok());
        assert!(check_description(&"x".repeat(1025)).is_err());
    }
}
