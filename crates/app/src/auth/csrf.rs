//! The CSRF token of a session: what a page signed in with the session cookie sends in
//! `X-CSRF-Token` with every write. It is derived from the session token
//! (`base64url(SHA-256("tessera csrf\0" ‖ token))`, unpadded), so it needs no storage, changes
//! with every session, and cannot be made without the token; a cross-site page, which the
//! browser lets send the cookie but never read it, cannot know it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tessera_domain::Secret;

/// What the derivation hashes before the token: a CSRF token is never the digest of anything
/// else (the stored session digest is SHA-256 of the token alone).
const CONTEXT: &[u8] = b"tessera csrf\0";

/// The CSRF token of the session whose token is `session_token`.
#[must_use]
pub fn csrf_token(session_token: &Secret) -> String {
    let mut h = Sha256::new();
    h.update(CONTEXT);
    h.update(session_token.expose().as_bytes());
    URL_SAFE_NO_PAD.encode(h.finalize())
}

/// Whether `presented` is the CSRF token of `session_token`, compared in constant time (a
/// value of another length fails at once: the length of a CSRF token is no secret).
#[must_use]
pub fn csrf_token_matches(session_token: &Secret, presented: &str) -> bool {
    let expected = csrf_token(session_token);
    bool::from(expected.as_bytes().ct_eq(presented.trim().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_the_documented_derivation() {
        let token = Secret::new("tss_example");
        let mut h = Sha256::new();
        h.update(b"tessera csrf\0tss_example");
        assert_eq!(csrf_token(&token), URL_SAFE_NO_PAD.encode(h.finalize()));
        assert_eq!(csrf_token(&token).len(), 43);
        assert_ne!(
            csrf_token(&token),
            URL_SAFE_NO_PAD.encode(Sha256::digest(b"tss_example")),
            "not the stored digest of the token"
        );
    }

    #[test]
    fn only_the_sessions_own_token_matches() {
        let token = Secret::new("tss_one");
        let good = csrf_token(&token);
        assert!(csrf_token_matches(&token, &good));
        assert!(csrf_token_matches(&token, &format!(" {good} ")));
        assert!(!csrf_token_matches(&Secret::new("tss_two"), &good));
        assert!(!csrf_token_matches(&token, ""));
        assert!(!csrf_token_matches(&token, &good[..42]));
        assert!(!csrf_token_matches(&token, &format!("{good}A")));
        assert!(!csrf_token_matches(&token, &good.to_uppercase()));
    }
}
