//! The sealer: AES-256-GCM (aws-lc) under the configured secrets key.
//!
//! A sealed value is `0x01 ‖ key id (4 bytes) ‖ nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`.
//! The key id is the first four bytes of SHA-256 over a label and the key, so that a server
//! holding a new key and its previous ones opens each value with the key that sealed it. The
//! nonce is random per value (96 bits; a key seals far fewer than 2³² values). The purpose is
//! the associated data.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};
use tessera_domain::ports::{SealError, Sealer};
use zeroize::Zeroizing;

/// Format version of a sealed value.
const VERSION: u8 = 1;
/// Bytes of a key id.
const KEY_ID_LEN: usize = 4;
/// Bytes of a secrets key.
pub const SECRETS_KEY_LEN: usize = 32;

/// One key and its id.
struct SealingKey {
    id: [u8; KEY_ID_LEN],
    key: LessSafeKey,
}

impl SealingKey {
    fn new(bytes: &[u8; SECRETS_KEY_LEN]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"tessera secrets key id\0")
            .chain_update(bytes)
            .finalize();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        let unbound = UnboundKey::new(&AES_256_GCM, bytes).expect("a 32-byte AES-256 key");
        Self {
            id,
            key: LessSafeKey::new(unbound),
        }
    }
}

/// Seals under the current key; opens under the current or a previous one.
pub struct AesGcmSealer {
    current: SealingKey,
    previous: Vec<SealingKey>,
    rng: SystemRandom,
}

impl std::fmt::Debug for AesGcmSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AesGcmSealer")
            .field("current", &hex::encode(self.current.id))
            .field("previous", &self.previous.len())
            .finish_non_exhaustive()
    }
}

impl AesGcmSealer {
    /// A sealer with `current` and the keys it replaced.
    #[must_use]
    pub fn new(
        current: &Zeroizing<[u8; SECRETS_KEY_LEN]>,
        previous: &[Zeroizing<[u8; SECRETS_KEY_LEN]>],
    ) -> Self {
        Self {
            current: SealingKey::new(current),
            previous: previous.iter().map(|k| SealingKey::new(k)).collect(),
            rng: SystemRandom::new(),
        }
    }

    /// The current key's id, hex (logged at start so operators can tell keys apart).
    #[must_use]
    pub fn current_key_id(&self) -> String {
        hex::encode(self.current.id)
    }

    fn key(&self, id: &[u8]) -> Option<&SealingKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
    }
}

/// Splits a sealed value: key id, nonce, ciphertext with tag.
fn parts(sealed: &[u8]) -> Option<(&[u8], [u8; NONCE_LEN], &[u8])> {
    let (&version, rest) = sealed.split_first()?;
    if version != VERSION || rest.len() < KEY_ID_LEN + NONCE_LEN + AES_256_GCM.tag_len() {
        return None;
    }
    let (id, rest) = rest.split_at(KEY_ID_LEN);
    let (nonce, body) = rest.split_at(NONCE_LEN);
    Some((id, nonce.try_into().ok()?, body))
}

impl Sealer for AesGcmSealer {
    fn seal(&self, purpose: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .expect("the operating system's random source failed");
        let mut body = plaintext.to_vec();
        self.current
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(purpose.as_bytes()),
                &mut body,
            )
            .expect("AES-GCM sealing of an in-memory buffer");
        let mut out = Vec::with_capacity(1 + KEY_ID_LEN + NONCE_LEN + body.len());
        out.push(VERSION);
        out.extend_from_slice(&self.current.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&body);
        body.iter_mut().for_each(|b| *b = 0);
        out
    }

    fn open(&self, purpose: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let (id, nonce, body) = parts(sealed).ok_or(SealError::Corrupt)?;
        let key = self.key(id).ok_or(SealError::UnknownKey)?;
        let mut buf = Zeroizing::new(body.to_vec());
        let plain = key
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(purpose.as_bytes()),
                &mut buf,
            )
            .map_err(|_| SealError::Corrupt)?;
        Ok(plain.to_vec())
    }

    fn is_current(&self, sealed: &[u8]) -> bool {
        parts(sealed).is_some_and(|(id, _, _)| id == self.current.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> Zeroizing<[u8; SECRETS_KEY_LEN]> {
        Zeroizing::new([b; SECRETS_KEY_LEN])
    }

    #[test]
    fn sealed_values_open_for_their_purpose_only() {
        let s = AesGcmSealer::new(&key(1), &[]);
        let sealed = s.seal("totp:7", b"seed");
        assert_eq!(s.open("totp:7", &sealed).unwrap(), b"seed");
        assert_eq!(s.open("totp:8", &sealed), Err(SealError::Corrupt));
        assert!(!sealed.windows(4).any(|w| w == b"seed"));
        // Random nonces: the same value seals differently each time.
        assert_ne!(s.seal("totp:7", b"seed"), sealed);
    }

    #[test]
    fn tampering_and_truncation_are_refused() {
        let s = AesGcmSealer::new(&key(1), &[]);
        let sealed = s.seal("p", b"secret value");
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(s.open("p", &bad).is_err(), "byte {i} flipped");
        }
        for len in 0..sealed.len() {
            assert!(s.open("p", &sealed[..len]).is_err(), "cut to {len}");
        }
    }

    #[test]
    fn a_rotated_key_still_opens_and_is_reported_not_current() {
        let old = AesGcmSealer::new(&key(1), &[]);
        let sealed = old.seal("p", b"v");
        let new = AesGcmSealer::new(&key(2), &[key(1)]);
        assert_eq!(new.open("p", &sealed).unwrap(), b"v");
        assert!(!new.is_current(&sealed));
        assert!(new.is_current(&new.seal("p", b"v")));
        let other = AesGcmSealer::new(&key(3), &[]);
        assert_eq!(other.open("p", &sealed), Err(SealError::UnknownKey));
    }
}
