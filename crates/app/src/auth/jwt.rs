//! Service-key JWTs (RS256): the claims' checks, then the signature with the stored public key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tessera_domain::ids::{AccountId, ServiceKeyId};

use crate::error::AuthFailure;

/// Longest lifetime (`exp - iat`) accepted, seconds.
pub(crate) const MAX_LIFETIME_SECS: i64 = 3600;
/// Clock skew tolerated on `iat` and `exp`, seconds.
pub(crate) const SKEW_SECS: i64 = 30;

/// `iss` is the account id, as a JSON string (the Python client) or number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Issuer {
    Number(i64),
    Text(String),
}

#[derive(Deserialize)]
struct Claims {
    iss: Issuer,
    iat: i64,
    exp: i64,
}

/// What the token claims, before its signature is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Inspected {
    pub key_id: ServiceKeyId,
    pub account: AccountId,
    pub expires_at: i64,
}

/// Reads header and claims and checks the times.
///
/// # Errors
/// `TokenFormat` for anything that is not a JWT with `kid`, `iss`, `iat` and `exp`;
/// `TokenLifetime`, `TokenFromFuture`, `TokenExpired` for the time rules; `Failed` for a `kid`
/// that cannot name a key or an algorithm other than RS256.
pub(crate) fn inspect(token: &str, now: i64) -> Result<Inspected, AuthFailure> {
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthFailure::TokenFormat);
    };
    let header = jsonwebtoken::decode_header(token).map_err(|_| AuthFailure::TokenFormat)?;
    // A critical extension we do not implement must not be ignored (RFC 7515 §4.1.11).
    let raw_header = URL_SAFE_NO_PAD
        .decode(
            token
                .split('.')
                .next()
                .unwrap_or_default()
                .trim_end_matches('='),
        )
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
    if raw_header.is_some_and(|h| h.get("crit").is_some()) {
        return Err(AuthFailure::TokenFormat);
    }
    let kid = header.kid.ok_or(AuthFailure::TokenFormat)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| AuthFailure::TokenFormat)?;
    let claims: Claims = serde_json::from_slice(&bytes).map_err(|_| AuthFailure::TokenFormat)?;
    if header.alg != Algorithm::RS256 {
        return Err(AuthFailure::Failed);
    }
    // Untrusted numbers: every sum and difference is checked. A lifetime that does not fit
    // in an i64 is too long; an `exp` so large that the skew overflows is too long as well.
    match claims.exp.checked_sub(claims.iat) {
        Some(lifetime) if lifetime <= MAX_LIFETIME_SECS => {}
        _ => return Err(AuthFailure::TokenLifetime),
    }
    if claims.iat > now.saturating_add(SKEW_SECS) {
        return Err(AuthFailure::TokenFromFuture);
    }
    let Some(expires_with_skew) = claims.exp.checked_add(SKEW_SECS) else {
        return Err(AuthFailure::TokenLifetime);
    };
    if expires_with_skew <= now {
        return Err(AuthFailure::TokenExpired);
    }
    let account = match claims.iss {
        Issuer::Number(n) => n,
        // The account id as the clients write it: digits, nothing around them.
        Issuer::Text(t) => match t.parse::<i64>() {
            Ok(n) if n.to_string() == t => n,
            _ => return Err(AuthFailure::Failed),
        },
    };
    Ok(Inspected {
        key_id: kid.parse().map_err(|_| AuthFailure::Failed)?,
        account: AccountId(account),
        expires_at: claims.exp,
    })
}

/// Checks the signature with the key's public half.
///
/// # Errors
/// `Failed` for a bad signature or an unusable stored key.
pub(crate) fn verify_signature(token: &str, public_pem: &str) -> Result<(), AuthFailure> {
    let key = DecodingKey::from_rsa_pem(public_pem.as_bytes()).map_err(|_| AuthFailure::Failed)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
        .map(|_| ())
        .map_err(|_| AuthFailure::Failed)
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header, encode};
    use tessera_domain::ports::KeyPairGenerator;

    use super::*;
    use crate::infra::AwsLcKeyPairs;

    const NOW: i64 = 1_790_000_000;
    const KID: &str = "0b5d2c7e-1f7a-4c5e-9d42-6a3b2f1e0c9d";

    fn sign(claims: &serde_json::Value, kid: Option<&str>, pem: &str) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = kid.map(str::to_owned);
        encode(
            &header,
            claims,
            &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn each_rule_has_its_own_failure() {
        let pair = AwsLcKeyPairs.rsa_2048().unwrap();
        let pem = pair.private_pem.expose();
        let tok = |iss: serde_json::Value, iat: i64, exp: i64| {
            sign(
                &serde_json::json!({"iss": iss, "iat": iat, "exp": exp}),
                Some(KID),
                pem,
            )
        };
        let ok = inspect(&tok("7".into(), NOW, NOW + 64), NOW).unwrap();
        assert_eq!(ok.account, AccountId(7));
        assert_eq!(ok.key_id.to_string(), KID);
        assert_eq!(
            inspect(&tok(7.into(), NOW, NOW + 64), NOW).unwrap().account,
            AccountId(7)
        );
        assert_eq!(inspect("not-a-jwt", NOW), Err(AuthFailure::TokenFormat));
        assert_eq!(inspect("a.b.c", NOW), Err(AuthFailure::TokenFormat));
        assert_eq!(
            inspect(&tok("7".into(), NOW, NOW + 3601), NOW),
            Err(AuthFailure::TokenLifetime)
        );
        assert_eq!(
            inspect(&tok("7".into(), NOW + 31, NOW + 100), NOW),
            Err(AuthFailure::TokenFromFuture)
        );
        assert!(
            inspect(&tok("7".into(), NOW + 29, NOW + 100), NOW).is_ok(),
            "small skew is fine"
        );
        assert_eq!(
            inspect(&tok("7".into(), NOW - 100, NOW - 31), NOW),
            Err(AuthFailure::TokenExpired)
        );
        let no_kid = sign(
            &serde_json::json!({"iss": "7", "iat": NOW, "exp": NOW + 60}),
            None,
            pem,
        );
        assert_eq!(inspect(&no_kid, NOW), Err(AuthFailure::TokenFormat));
        let bad_kid = sign(
            &serde_json::json!({"iss": "7", "iat": NOW, "exp": NOW + 60}),
            Some("x"),
            pem,
        );
        assert_eq!(inspect(&bad_kid, NOW), Err(AuthFailure::Failed));
        for odd in [" 7", "07", "+7", "7 "] {
            assert_eq!(
                inspect(&tok(odd.into(), NOW, NOW + 60), NOW),
                Err(AuthFailure::Failed),
                "iss {odd:?}"
            );
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(KID.into());
        header.crit = Some(vec!["exp".into()]);
        let critical = encode(
            &header,
            &serde_json::json!({"iss": "7", "iat": NOW, "exp": NOW + 60}),
            &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(inspect(&critical, NOW), Err(AuthFailure::TokenFormat));
    }

    #[test]
    fn extreme_times_never_overflow_into_a_valid_token() {
        let pair = AwsLcKeyPairs.rsa_2048().unwrap();
        let pem = pair.private_pem.expose();
        let tok = |iat: i64, exp: i64| {
            sign(
                &serde_json::json!({"iss": "7", "iat": iat, "exp": exp}),
                Some(KID),
                pem,
            )
        };
        // Wrapping arithmetic would take `exp - iat` for a small positive number: a token
        // that never expires.
        assert_eq!(
            inspect(&tok(i64::MIN, i64::MAX - 30), NOW),
            Err(AuthFailure::TokenLifetime)
        );
        assert_eq!(
            inspect(&tok(i64::MAX - 10, i64::MAX), NOW),
            Err(AuthFailure::TokenFromFuture)
        );
        assert_eq!(
            inspect(&tok(i64::MIN, i64::MIN + 60), NOW),
            Err(AuthFailure::TokenExpired)
        );
        assert_eq!(
            inspect(&tok(NOW, NOW), i64::MAX),
            Err(AuthFailure::TokenExpired)
        );
        assert_eq!(
            inspect(&tok(NOW, NOW + 60), i64::MIN),
            Err(AuthFailure::TokenFromFuture)
        );
        let claims = |iat: i64, exp: i64, now: i64| {
            let lifetime = i128::from(exp) - i128::from(iat);
            lifetime <= 3600
                && i128::from(iat) <= i128::from(now) + 30
                && i128::from(exp) + 30 > i128::from(now)
        };
        let cases = [
            (i64::MIN, i64::MIN, NOW),
            (i64::MAX, i64::MAX, i64::MAX),
            (i64::MAX - 3600, i64::MAX, i64::MAX),
            (0, 3600, 100),
            (-5, 10, 0),
        ];
        for (iat, exp, now) in cases {
            assert_eq!(
                inspect(&tok(iat, exp), now).is_ok(),
                claims(iat, exp, now) && i64::checked_add(exp, 30).is_some(),
                "iat {iat}, exp {exp}, now {now}"
            );
        }
    }

    #[test]
    fn only_the_keys_own_signature_verifies() {
        let pair = AwsLcKeyPairs.rsa_2048().unwrap();
        let other = AwsLcKeyPairs.rsa_2048().unwrap();
        let token = sign(
            &serde_json::json!({"iss": "7", "iat": NOW, "exp": NOW + 60}),
            Some(KID),
            pair.private_pem.expose(),
        );
        assert_eq!(verify_signature(&token, &pair.public_pem), Ok(()));
        assert_eq!(
            verify_signature(&token, &other.public_pem),
            Err(AuthFailure::Failed)
        );
        // Change one character in the middle of the signature.
        let sig_start = token.rfind('.').unwrap() + 1;
        let at = sig_start + 20;
        let mut forged = token.clone();
        let swapped = if &token[at..=at] == "A" { "B" } else { "A" };
        forged.replace_range(at..=at, swapped);
        assert_eq!(
            verify_signature(&forged, &pair.public_pem),
            Err(AuthFailure::Failed)
        );
    }

    #[test]
    fn other_algorithms_are_refused() {
        let header = Header::new(Algorithm::HS256);
        let mut h = header;
        h.kid = Some(KID.into());
        let token = encode(
            &h,
            &serde_json::json!({"iss": "7", "iat": NOW, "exp": NOW + 60}),
            &EncodingKey::from_secret(b"secret"),
        )
        .unwrap();
        assert_eq!(inspect(&token, NOW), Err(AuthFailure::Failed));
    }
}
