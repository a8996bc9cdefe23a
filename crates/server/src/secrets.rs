//! The secrets key: what seals IdP client secrets and TOTP seeds at rest.
//!
//! `secrets.key` (env `TESSERA__SECRETS__KEY`) holds 32 bytes as base64 or 64 hex digits; the
//! keys it replaced go in `secrets.previous_keys` so that values sealed under them still open
//! until `tessera secrets reseal` has sealed everything again under the current key. With no key
//! configured, one is generated into `<data_dir>/secrets.key` (mode 0600) on first start and read
//! from there afterwards.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tessera_app::infra::{AesGcmSealer, SECRETS_KEY_LEN};
use zeroize::Zeroizing;

use crate::config::{ConfigError, SecretsSettings};

/// The generated key's file in the data directory.
pub const SECRETS_KEY_FILE: &str = "secrets.key";

/// A 32-byte key.
pub type SecretsKey = Zeroizing<[u8; SECRETS_KEY_LEN]>;

/// Where the current key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `secrets.key`.
    Configured,
    /// The data directory's key file, read.
    File(PathBuf),
    /// The data directory's key file, written now.
    Generated(PathBuf),
}

/// Parses a key: base64 (standard, padded or not) or 64 hex digits, surrounding space ignored.
///
/// # Errors
/// `Invalid` naming `what` (never quoting the value).
pub fn parse_key(what: &str, text: &str) -> Result<SecretsKey, ConfigError> {
    let text = text.trim();
    let bytes = Zeroizing::new(if text.len() == 2 * SECRETS_KEY_LEN {
        hex::decode(text).ok()
    } else {
        STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .ok()
    });
    match bytes.as_deref() {
        Some(b) if b.len() == SECRETS_KEY_LEN => {
            let mut key = Zeroizing::new([0u8; SECRETS_KEY_LEN]);
            key.copy_from_slice(b);
            Ok(key)
        }
        _ => Err(ConfigError::Invalid(format!(
            "{what} must be {SECRETS_KEY_LEN} bytes as base64 or {} hex digits (generate one with `openssl rand -base64 32`)",
            2 * SECRETS_KEY_LEN
        ))),
    }
}

/// A new random key, base64.
#[must_use]
pub fn generate_key_text() -> Zeroizing<String> {
    let mut key = Zeroizing::new([0u8; SECRETS_KEY_LEN]);
    SystemRandom::new()
        .fill(key.as_mut())
        .expect("the operating system's random source failed");
    Zeroizing::new(STANDARD.encode(key.as_ref()))
}

/// The sealer of these settings: the configured key, or the data directory's key file (created
/// when missing).
///
/// # Errors
/// `Invalid` for a malformed key; `File` when the key file cannot be read or written.
pub fn load_sealer(
    settings: &SecretsSettings,
    data_dir: &Path,
) -> Result<(AesGcmSealer, KeySource), ConfigError> {
    let previous = settings
        .previous_keys
        .iter()
        .enumerate()
        .map(|(i, k)| parse_key(&format!("secrets.previous_keys[{i}]"), k))
        .collect::<Result<Vec<_>, _>>()?;
    let (current, source) = if settings.key.trim().is_empty() {
        key_file(data_dir)?
    } else {
        (
            parse_key("secrets.key", &settings.key)?,
            KeySource::Configured,
        )
    };
    Ok((AesGcmSealer::new(&current, &previous), source))
}

/// Reads the data directory's key file, or writes a new one (0600, never overwriting). Instances
/// starting together on a shared data directory agree on one key: the new key is written whole
/// into a file of this process and hard-linked into place, which fails when another instance
/// linked its own first (then that one is read).
fn key_file(data_dir: &Path) -> Result<(SecretsKey, KeySource), ConfigError> {
    let path = data_dir.join(SECRETS_KEY_FILE);
    let failed = |cause: std::io::Error| ConfigError::File {
        what: "the secrets key file",
        key: "secrets.key",
        path: path.clone(),
        cause: crate::cause::Cause(cause),
    };
    match read_key_file(&path).map_err(failed)? {
        Some(key) => Ok((key, KeySource::File(path))),
        None => {
            tessera_store::db::create_private_dir(data_dir).map_err(failed)?;
            let text = generate_key_text();
            // A random name: containers sharing the volume may all be process 1.
            let mut nonce = [0u8; 8];
            SystemRandom::new()
                .fill(&mut nonce)
                .expect("the operating system's random source failed");
            let mine = data_dir.join(format!(".{SECRETS_KEY_FILE}.{}", hex::encode(nonce)));
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&mine)
                .map_err(failed)?;
            let written = file
                .write_all(format!("{}\n", text.as_str()).as_bytes())
                .and_then(|()| file.sync_all())
                .and_then(|()| fs::hard_link(&mine, &path));
            let _ = fs::remove_file(&mine);
            match written {
                Ok(()) => Ok((
                    parse_key("the generated key", &text)?,
                    KeySource::Generated(path),
                )),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let key = read_key_file(&path)
                        .map_err(failed)?
                        .ok_or_else(|| failed(std::io::ErrorKind::NotFound.into()))?;
                    Ok((key, KeySource::File(path)))
                }
                Err(e) => Err(failed(e)),
            }
        }
    }
}

/// The key in `path`, `None` when there is no such file.
fn read_key_file(path: &Path) -> std::io::Result<Option<SecretsKey>> {
    match fs::read_to_string(path) {
        Ok(text) => {
            let mode = fs::metadata(path)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(path = %path.display(), mode = format!("{:o}", mode & 0o777), "the secrets key file is readable by others; chmod 600 it");
            }
            parse_key(&format!("{}", path.display()), &Zeroizing::new(text))
                .map(Some)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_domain::ports::Sealer;

    fn settings(key: &str, previous: &[&str]) -> SecretsSettings {
        SecretsSettings {
            key: key.into(),
            previous_keys: previous.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn keys_parse_as_base64_or_hex_and_nothing_else() {
        let b64 = STANDARD.encode([5u8; 32]);
        assert_eq!(*parse_key("k", &format!(" {b64}\n")).unwrap(), [5u8; 32]);
        assert_eq!(*parse_key("k", &"0a".repeat(32)).unwrap(), [10u8; 32]);
        let short = STANDARD.encode([5u8; 16]);
        let err = parse_key("secrets.key", &short).unwrap_err().to_string();
        assert!(err.contains("secrets.key must be 32 bytes"), "{err}");
        assert!(!err.contains(&short), "the value is never echoed: {err}");
        assert!(parse_key("k", "not a key").is_err());
    }

    #[test]
    fn a_missing_key_is_generated_once_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("tessera-secrets-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let (first, source) = load_sealer(&settings("", &[]), &dir).unwrap();
        let path = dir.join(SECRETS_KEY_FILE);
        assert_eq!(source, KeySource::Generated(path.clone()));
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let sealed = first.seal("p", b"v");
        let (second, source) = load_sealer(&settings("", &[]), &dir).unwrap();
        assert_eq!(source, KeySource::File(path));
        assert_eq!(second.open("p", &sealed).unwrap(), b"v");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn instances_starting_together_agree_on_one_generated_key() {
        let dir = std::env::temp_dir().join(format!("tessera-secrets-race-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
        let sealers: Vec<AesGcmSealer> = (0..8)
            .map(|_| {
                let (dir, barrier) = (dir.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    load_sealer(&settings("", &[]), &dir).unwrap().0
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        let ids: std::collections::BTreeSet<String> =
            sealers.iter().map(AesGcmSealer::current_key_id).collect();
        assert_eq!(ids.len(), 1, "{ids:?}");
        let leftovers = fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1, "only secrets.key remains");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn previous_keys_open_old_values() {
        let old = STANDARD.encode([1u8; 32]);
        let new = STANDARD.encode([2u8; 32]);
        let dir = Path::new("/nonexistent");
        let (before, _) = load_sealer(&settings(&old, &[]), dir).unwrap();
        let sealed = before.seal("p", b"v");
        let (after, source) = load_sealer(&settings(&new, &[&old]), dir).unwrap();
        assert_eq!(source, KeySource::Configured);
        assert_eq!(after.open("p", &sealed).unwrap(), b"v");
        assert!(!after.is_current(&sealed));
        let err = load_sealer(&settings(&new, &["bad"]), dir).unwrap_err();
        assert!(
            err.to_string().contains("secrets.previous_keys[0]"),
            "{err}"
        );
    }
}
