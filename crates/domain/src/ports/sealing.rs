//! Secrets the server must be able to read back (IdP client secrets, TOTP seeds), sealed with an
//! authenticated cipher before they reach storage.

/// Why a sealed value could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The value was sealed under a key this server does not hold (rotated away, or another
    /// deployment's key).
    #[error("the value was sealed under a key this server does not hold")]
    UnknownKey,
    /// The value is damaged, truncated, or was sealed for another purpose (another row).
    #[error("the sealed value is damaged or belongs elsewhere")]
    Corrupt,
}

/// Seals and opens secrets. `purpose` is bound to the value as associated data (for example
/// `totp:<user id>`): a value copied into another row does not open there.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait Sealer: Send + Sync {
    /// Seals `plaintext` for `purpose` under the current key.
    fn seal(&self, purpose: &str, plaintext: &[u8]) -> Vec<u8>;

    /// Opens a value sealed for `purpose` by `seal` under the current or a previous key.
    ///
    /// # Errors
    /// `UnknownKey` or `Corrupt`.
    fn open(&self, purpose: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError>;

    /// Whether `sealed` was sealed under the current key (a value that was not is re-sealed by
    /// `tessera secrets reseal`).
    fn is_current(&self, sealed: &[u8]) -> bool;
}
