use chrono::{DateTime, Utc};

use crate::ids::Hex32;
use crate::secret::Secret;

use super::RepoError;

/// The current time.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// Random ids and secrets, from a cryptographically secure source.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait IdGenerator: Send + Sync {
    /// 128 random bits (user groups, policies, resource groups, SSO connectors).
    fn hex32(&self) -> Hex32;
    /// A random UUID (service keys).
    fn uuid(&self) -> uuid::Uuid;
    /// `AK` + 18 random upper-case letters and digits.
    fn access_key_id(&self) -> String;
    /// A random URL-safe secret with at least 256 bits of entropy.
    fn secret(&self) -> Secret;
    /// A random password that satisfies the password policy (for bootstrap owners).
    fn password(&self) -> Secret;
}

/// Why hashing failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// The stored hash is not a hash this hasher understands.
    #[error("unreadable password hash")]
    Malformed,
    /// The hasher itself failed.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// Password hashing (argon2id in production).
///
/// Implementations block the calling thread for tens of milliseconds and bound how many hashes
/// run at once; call them only from a blocking pool.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait PasswordHasher: Send + Sync {
    /// Hashes a password into a self-describing string (PHC format).
    ///
    /// # Errors
    /// `HashError::Failed` when the hasher cannot run.
    fn hash(&self, password: &Secret) -> Result<String, HashError>;

    /// Checks a password against a stored hash, in constant time.
    ///
    /// # Errors
    /// `HashError::Malformed` when `hash` cannot be read.
    fn verify(&self, hash: &str, password: &Secret) -> Result<bool, HashError>;

    /// Spends the same time as a `verify` that fails, without a stored hash: used for unknown
    /// logins so that they cannot be told from wrong passwords.
    fn waste_time(&self, password: &Secret);
}

/// Readiness of the storage.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait Health: Send + Sync {
    /// Runs a trivial query.
    ///
    /// # Errors
    /// `RepoError::Unavailable` when the database cannot be reached.
    fn ping(&self) -> Result<(), RepoError>;
}

/// A freshly generated key pair: the private half leaves the process once, the public half is
/// stored.
#[derive(Debug, Clone)]
pub struct GeneratedKeyPair {
    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub private_pem: Secret,
    /// SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`).
    pub public_pem: String,
}

/// Key generation: RSA for service keys, P-256 for Tessera's token-signing keys.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait KeyPairGenerator: Send + Sync {
    /// A new RSA-2048 key pair.
    ///
    /// # Errors
    /// A message when the crypto library fails.
    fn rsa_2048(&self) -> Result<GeneratedKeyPair, String>;

    /// A new ECDSA P-256 key pair (OAuth token signing, ES256).
    ///
    /// # Errors
    /// A message when the crypto library fails.
    fn p256(&self) -> Result<GeneratedKeyPair, String>;
}
