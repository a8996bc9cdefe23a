//! Minting: access tokens (RFC 9068) and, for the OpenID Connect flow, ID tokens, both signed
//! with the current key.

use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{Algorithm, Header};
use serde::Serialize;
use tessera_domain::Secret;
use tessera_domain::audit::{Actor, ActorKind, AuditRecord, Outcome, RequestMeta};
use tessera_domain::ids::AccountId;
use tessera_domain::oauth::{
    ACCESS_TOKEN_TYPE, AccessTokenClaims, GrantId, MAX_ACCESS_TOKEN_TTL_SECS,
    MAX_ID_TOKEN_TTL_SECS, ScopeSet, TokenSubject,
};

use crate::App;
use crate::error::{AppError, AppResult};

/// An access token to mint. The caller has decided that `subject` may have it (its scopes are
/// within what the subject holds, or what its grant allows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccessToken {
    /// The subject's account.
    pub account: AccountId,
    /// Who the token acts for.
    pub subject: TokenSubject,
    /// The client it is issued to (`None`: the subject itself, as for the machine grants).
    pub client_id: Option<String>,
    /// Its scopes.
    pub scopes: ScopeSet,
    /// The grant it comes from (the authorization-code flow, refresh tokens).
    pub grant: Option<GrantId>,
    /// The issuer (see [`App::oauth_issuer`]).
    pub issuer: String,
    /// The audience (`None`: the issuer, i.e. Tessera's own API).
    pub audience: Option<String>,
}

/// A minted access token.
#[derive(Debug, Clone)]
pub struct IssuedAccessToken {
    /// The JWT.
    pub token: Secret,
    /// Its `jti`.
    pub jti: String,
    /// Its scopes.
    pub scopes: ScopeSet,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
}

impl App {
    /// The issuer Tessera names in its tokens and discovery documents: `server.public_url`
    /// when configured, else the request's own origin (`scheme://host[:port]`).
    #[must_use]
    pub fn oauth_issuer(&self, request_origin: &str) -> String {
        self.settings
            .oauth_issuer
            .clone()
            .unwrap_or_else(|| request_origin.trim_end_matches('/').to_owned())
    }

    /// The access tokens' lifetime, seconds (the configured one, at most 10 minutes).
    #[must_use]
    pub fn access_token_ttl_secs(&self) -> i64 {
        self.settings
            .access_token_ttl_secs
            .clamp(1, MAX_ACCESS_TOKEN_TTL_SECS)
    }

    /// Mints an access token (audited as `oauth.token.issue`, with its `jti`, never the
    /// token).
    ///
    /// # Errors
    /// `Internal` when no key can sign; storage errors.
    pub fn issue_access_token(
        &self,
        new: &NewAccessToken,
        meta: &RequestMeta,
    ) -> AppResult<IssuedAccessToken> {
        let now = self.ports.clock.now();
        let ttl = self.access_token_ttl_secs();
        let jti = self.ports.ids.hex32().to_string();
        let client_id = new.client_id.clone().unwrap_or_else(|| new.subject.sub());
        let claims = AccessTokenClaims {
            iss: new.issuer.clone(),
            sub: new.subject.sub(),
            sub_type: new.subject.kind().to_owned(),
            aud: new.audience.clone().unwrap_or_else(|| new.issuer.clone()),
            client_id: client_id.clone(),
            scope: new.scopes.to_string(),
            exp: now.timestamp() + ttl,
            iat: now.timestamp(),
            jti: jti.clone(),
            account_id: new.account.0,
            grant_id: new.grant.map(|g| g.to_string()),
        };
        let token = self.sign(ACCESS_TOKEN_TYPE, &claims, now)?;
        let audit = AuditRecord {
            account_id: Some(new.account),
            actor: subject_actor(&new.subject),
            action: "oauth.token.issue".into(),
            target: Some(format!("oauth_token:{jti}")),
            outcome: Outcome::Success,
            client_ip: meta.client_ip.clone(),
            request_id: meta.request_id.clone(),
            at: now,
            details: serde_json::json!({
                "client_id": client_id,
                "scope": claims.scope,
                "aud": claims.aud,
                "grant_id": claims.grant_id,
                "expires_in": ttl,
            }),
        };
        self.ports.audit.append_audit(&audit)?;
        Ok(IssuedAccessToken {
            token: Secret::new(token),
            jti,
            scopes: new.scopes,
            expires_in: ttl,
            expires_at: now + TimeDelta::seconds(ttl),
        })
    }

    /// Signs an ID token (or any JWT Tessera vouches for) with the current key: header
    /// `typ: JWT`, `alg: ES256`, `kid`. The claims are the caller's; they must hold numeric
    /// `iat` and `exp` at most [`MAX_ID_TOKEN_TTL_SECS`] apart (keys are published only as long
    /// as what they signed can be valid).
    ///
    /// # Errors
    /// `Internal` for claims without `iat`/`exp`, a longer lifetime, or no key to sign with.
    pub fn sign_id_token(&self, claims: &serde_json::Value) -> AppResult<String> {
        let time = |name: &str| claims.get(name).and_then(serde_json::Value::as_i64);
        match (time("iat"), time("exp")) {
            (Some(iat), Some(exp))
                if exp > iat && exp.saturating_sub(iat) <= MAX_ID_TOKEN_TTL_SECS => {}
            _ => {
                return Err(AppError::Internal(format!(
                    "an ID token needs iat and exp at most {MAX_ID_TOKEN_TTL_SECS} s apart"
                )));
            }
        }
        self.sign("JWT", claims, self.ports.clock.now())
    }

    fn sign<T: Serialize>(&self, typ: &str, claims: &T, now: DateTime<Utc>) -> AppResult<String> {
        let (kid, key) = self.current_signing_key(now)?;
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(typ.to_owned());
        header.kid = Some(kid);
        jsonwebtoken::encode(&header, claims, &key)
            .map_err(|e| AppError::Internal(format!("signing a token: {e}")))
    }
}

/// Who the audit log names for a token's subject.
pub(crate) fn subject_actor(subject: &TokenSubject) -> Actor {
    match subject {
        TokenSubject::User(u) => Actor {
            kind: ActorKind::User,
            id: u.to_string(),
        },
        TokenSubject::AccessKey(k) => Actor {
            kind: ActorKind::AccessKey,
            id: k.to_string(),
        },
        TokenSubject::ServiceKey(k) => Actor {
            kind: ActorKind::ServiceKey,
            id: k.to_string(),
        },
    }
}
