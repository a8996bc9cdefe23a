//! Proof Key for Code Exchange (RFC 7636), `S256` only: the authorization request carries
//! `code_challenge = base64url(SHA-256(code_verifier))`, the token request the verifier. The
//! `plain` method is refused: it protects nothing once the authorization request is seen.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::DomainError;

/// The one method accepted, as written on the wire.
pub const S256: &str = "S256";

/// The length of an `S256` challenge: 32 bytes in unpadded base64url.
pub const CHALLENGE_LEN: usize = 43;

/// A code verifier's shortest and longest length (RFC 7636 §4.1).
pub const VERIFIER_LEN: std::ops::RangeInclusive<usize> = 43..=128;

/// An `S256` code challenge, checked for shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// The challenge of `code_challenge` and `code_challenge_method` (absent means `plain`, RFC
    /// 7636 §4.3, so it is refused too).
    ///
    /// # Errors
    /// `Invalid` naming `code_challenge_method` for any method but `S256`, or `code_challenge`
    /// for a value that is not 43 base64url characters.
    pub fn parse(challenge: &str, method: Option<&str>) -> Result<Self, DomainError> {
        if method != Some(S256) {
            return Err(DomainError::invalid(
                "code_challenge_method",
                "only S256 is supported (plain is refused)",
            ));
        }
        let decodes = URL_SAFE_NO_PAD
            .decode(challenge)
            .is_ok_and(|bytes| bytes.len() == 32);
        if challenge.len() != CHALLENGE_LEN || !decodes {
            return Err(DomainError::invalid(
                "code_challenge",
                "must be base64url(SHA-256(code_verifier)): 43 characters",
            ));
        }
        Ok(Self(challenge.to_owned()))
    }

    /// A challenge read back from storage (checked when it was made).
    #[must_use]
    pub fn stored(challenge: String) -> Self {
        Self(challenge)
    }

    /// The challenge as sent.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The challenge of `verifier` (what a client computes).
    #[must_use]
    pub fn of_verifier(verifier: &str) -> Self {
        Self(URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())))
    }

    /// Whether `verifier` is well formed (43 to 128 characters of `[A-Za-z0-9-._~]`) and hashes
    /// to this challenge, compared in constant time.
    #[must_use]
    pub fn verifies(&self, verifier: &str) -> bool {
        let well_formed = VERIFIER_LEN.contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        let computed = Self::of_verifier(verifier);
        well_formed && bool::from(computed.0.as_bytes().ct_eq(self.0.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_example_verifies() {
        let c = CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap();
        assert!(c.verifies(VERIFIER));
        assert_eq!(CodeChallenge::of_verifier(VERIFIER), c);
        assert!(!c.verifies(&VERIFIER.replace('d', "e")));
        assert!(!c.verifies(""));
    }

    #[test]
    fn plain_a_missing_method_and_malformed_challenges_are_refused() {
        for method in [None, Some("plain"), Some("s256"), Some("S512"), Some("")] {
            let err = CodeChallenge::parse(CHALLENGE, method).unwrap_err();
            assert!(
                matches!(
                    err,
                    DomainError::Invalid {
                        field: "code_challenge_method",
                        ..
                    }
                ),
                "{method:?}"
            );
        }
        for bad in [
            "",
            "short",
            &format!("{CHALLENGE}A"),
            &CHALLENGE.replace('-', "+"),
            &CHALLENGE.replace('E', "="),
            VERIFIER,
        ] {
            if bad == VERIFIER {
                // 43 characters that happen to be base64url: shape-valid, just not this one.
                assert!(CodeChallenge::parse(bad, Some(S256)).is_ok());
                continue;
            }
            let err = CodeChallenge::parse(bad, Some(S256)).unwrap_err();
            assert!(
                matches!(
                    err,
                    DomainError::Invalid {
                        field: "code_challenge",
                        ..
                    }
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_verifier_of_the_wrong_shape_never_verifies_even_when_it_hashes_right() {
        for bad in [
            "a".repeat(42),
            "a".repeat(129),
            format!("{}+", "a".repeat(43)),
        ] {
            let c = CodeChallenge::of_verifier(&bad);
            assert!(!c.verifies(&bad), "{bad}");
        }
        let longest = "~".repeat(128);
        assert!(CodeChallenge::of_verifier(&longest).verifies(&longest));
    }

    proptest! {
        #[test]
        fn only_its_own_verifier_verifies_a_challenge(
            a in "[A-Za-z0-9._~-]{43,128}",
            b in "[A-Za-z0-9._~-]{43,128}",
        ) {
            let c = CodeChallenge::of_verifier(&a);
            prop_assert!(CodeChallenge::parse(c.as_str(), Some(S256)).is_ok());
            prop_assert!(c.verifies(&a));
            prop_assert_eq!(c.verifies(&b), a == b);
        }
    }
}
