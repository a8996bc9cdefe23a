//! Reading an access token: header, signature with a published key, times, issuer and
//! audience. What it says about its subject is checked by the authentication path
//! (`auth::oauth`).

use jsonwebtoken::{Algorithm, Validation};
use tessera_domain::oauth::{AccessTokenClaims, MAX_ACCESS_TOKEN_TTL_SECS, TOKEN_SKEW_SECS};

use chrono::{DateTime, Utc};

use crate::App;
use crate::error::AppResult;

/// Why a token was refused before its subject was looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenFault {
    /// Not a JWT with the access-token header (`typ: at+jwt`, `alg: ES256`, `kid`), or claims
    /// that do not read.
    Format,
    /// Its `kid` names no published key, or the signature does not verify.
    Signature,
    /// Past its `exp` (beyond the skew).
    Expired,
    /// A lifetime past the longest, or issued in the future.
    Times,
    /// Another issuer, or another audience.
    Elsewhere,
}

/// Which audience a token must be for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Audience {
    /// Tessera's own API (its issuer): a token used to call Tessera.
    Tessera,
    /// Any: a resource server introspecting (or a client revoking) a token sent to it.
    Any,
}

/// Whether `token` presents itself as an access token (its header's `typ` is `at+jwt`): the
/// authentication path tells it from a service-key JWT by this.
pub(crate) fn is_access_token(token: &str) -> bool {
    jsonwebtoken::decode_header(token).is_ok_and(|h| h.typ.as_deref().is_some_and(is_at_jwt))
}

fn is_at_jwt(typ: &str) -> bool {
    typ.eq_ignore_ascii_case("at+jwt") || typ.eq_ignore_ascii_case("application/at+jwt")
}

impl App {
    /// The claims of `token` when it is one of Tessera's access tokens, valid at `now`, for
    /// this issuer and for `audience`.
    pub(crate) fn decode_access_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
        audience: Audience,
    ) -> AppResult<Result<AccessTokenClaims, TokenFault>> {
        let Ok(header) = jsonwebtoken::decode_header(token) else {
            return Ok(Err(TokenFault::Format));
        };
        if !header.typ.as_deref().is_some_and(is_at_jwt)
            || header.alg != Algorithm::ES256
            || header.crit.is_some()
        {
            return Ok(Err(TokenFault::Format));
        }
        let Some(kid) = header.kid.as_deref() else {
            return Ok(Err(TokenFault::Format));
        };
        let Some(key) = self.verifying_key(kid, now)? else {
            return Ok(Err(TokenFault::Signature));
        };
        let mut validation = Validation::new(Algorithm::ES256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let claims = match jsonwebtoken::decode::<AccessTokenClaims>(token, &key, &validation) {
            Ok(data) => data.claims,
            Err(e) => {
                return Ok(Err(match e.kind() {
                    jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenFault::Signature,
                    _ => TokenFault::Format,
                }));
            }
        };
        let now = now.timestamp();
        // Untrusted numbers (although signed by us): every sum and difference is checked.
        match claims.exp.checked_sub(claims.iat) {
            Some(lifetime) if (0..=MAX_ACCESS_TOKEN_TTL_SECS).contains(&lifetime) => {}
            _ => return Ok(Err(TokenFault::Times)),
        }
        if claims.iat > now.saturating_add(TOKEN_SKEW_SECS) {
            return Ok(Err(TokenFault::Times));
        }
        if claims.exp.saturating_add(TOKEN_SKEW_SECS) <= now {
            return Ok(Err(TokenFault::Expired));
        }
        if let Some(issuer) = &self.settings.oauth_issuer {
            if claims.iss != *issuer {
                return Ok(Err(TokenFault::Elsewhere));
            }
        }
        if audience == Audience::Tessera && claims.aud != claims.iss {
            return Ok(Err(TokenFault::Elsewhere));
        }
        Ok(Ok(claims))
    }
}
