//! Introspection (RFC 7662), revocation (RFC 7009) and userinfo (OpenID Connect Core §5.3).
//!
//! Another account's tokens are never described nor revoked: to a caller of another account
//! they are simply inactive, exactly like a token that does not exist.

use tessera_domain::audit::{AuditRecord, Outcome, RequestMeta};
use tessera_domain::ids::AccountId;
use tessera_domain::oauth::{AccessTokenClaims, IdentityScope, TokenSubject};
use tessera_domain::permissions::{Capability, Permission};

use super::OAuthError;
use super::verify::Audience;
use crate::App;
use crate::error::{AppError, AppResult};
use crate::principal::{Credential, Principal};

/// An active access token, as introspection describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenInfo {
    /// Its claims.
    pub claims: AccessTokenClaims,
}

impl App {
    /// Describes `token` to `caller` (RFC 7662): `None` (inactive) for anything that is not a
    /// token usable right now — malformed, forged, expired, revoked, its subject gone — and for
    /// a token of another account, or one the caller may not see: its own (its user's, or its
    /// key's) tokens, or any of its account's with API Credentials read. Tokens for any
    /// audience are described (a resource server introspects the tokens sent to it).
    ///
    /// # Errors
    /// Storage errors only.
    pub fn introspect(
        &self,
        caller: &Principal,
        token: &str,
    ) -> AppResult<Option<AccessTokenInfo>> {
        let now = self.ports.clock.now();
        let Ok(claims) = self.decode_access_token(token, now, Audience::Any)? else {
            return Ok(None);
        };
        if AccountId(claims.account_id) != caller.account_id {
            return Ok(None);
        }
        let Some(principal) = self.token_principal(claims.clone(), now)? else {
            return Ok(None);
        };
        let read = Permission::read(Capability::ApiCredentials);
        let visible = owns(caller, &principal, &claims)
            || self.holds(caller, caller.account_id, read, None)?;
        Ok(visible.then_some(AccessTokenInfo { claims }))
    }

    /// Revokes access token `token` until it expires (RFC 7009; audited as
    /// `oauth.token.revoke` with its `jti`). Anything that is not a live token of the caller's
    /// account is ignored, as the RFC asks; so is a token the caller may not revoke — its own
    /// (its user's, or its key's) tokens, or any of its account's with API Credentials write.
    ///
    /// # Errors
    /// Storage errors only.
    pub fn revoke_access_token(
        &self,
        caller: &Principal,
        token: &str,
        meta: &RequestMeta,
    ) -> AppResult<()> {
        let now = self.ports.clock.now();
        let Ok(claims) = self.decode_access_token(token, now, Audience::Any)? else {
            return Ok(());
        };
        let account = AccountId(claims.account_id);
        if account != caller.account_id {
            return Ok(());
        }
        let owner = match self.token_principal(claims.clone(), now)? {
            Some(principal) => owns(caller, &principal, &claims),
            // Its subject is gone already: only an administrator's revocation is recorded.
            None => false,
        };
        let write = Permission::write(Capability::ApiCredentials);
        if !(owner || self.holds(caller, account, write, None)?) {
            return Ok(());
        }
        let Some(expires_at) = chrono::DateTime::from_timestamp(
            claims
                .exp
                .saturating_add(tessera_domain::oauth::TOKEN_SKEW_SECS),
            0,
        ) else {
            return Ok(());
        };
        let audit = AuditRecord {
            account_id: Some(account),
            actor: caller.actor(),
            action: "oauth.token.revoke".into(),
            target: Some(format!("oauth_token:{}", claims.jti)),
            outcome: Outcome::Success,
            client_ip: meta.client_ip.clone(),
            request_id: meta.request_id.clone(),
            at: now,
            details: serde_json::json!({ "client_id": claims.client_id, "sub": claims.sub }),
        };
        let revoked = self
            .ports
            .oauth_tokens
            .revoke_token(account, &claims.jti, expires_at, &audit)
            .map_err(AppError::from);
        self.invalidating(revoked).map(|_| ())
    }

    /// The OpenID Connect claims about the user an access token acts for: `sub`; `email` and
    /// `email_verified` with the `email` scope; `name` and `preferred_username` with
    /// `profile`.
    ///
    /// # Errors
    /// `OAuth(InvalidToken)` for a principal that did not authenticate with an access token
    /// acting for a user; `OAuth(InsufficientScope)` without `openid`.
    pub fn userinfo(&self, principal: &Principal) -> AppResult<serde_json::Value> {
        let Credential::OAuthToken(token) = &principal.credential else {
            return Err(OAuthError::InvalidToken.into());
        };
        let TokenSubject::User(user) = token.subject else {
            return Err(OAuthError::InsufficientScope(
                "userinfo describes users; this token acts for a key".into(),
            )
            .into());
        };
        if !token.scopes.has(IdentityScope::OpenId) {
            return Err(
                OAuthError::InsufficientScope("the openid scope is required".into()).into(),
            );
        }
        let Some(user) = self.active_user(principal.account_id, user)? else {
            return Err(OAuthError::InvalidToken.into());
        };
        let mut claims = serde_json::json!({ "sub": user.id.to_string() });
        if token.scopes.has(IdentityScope::Email) {
            claims["email"] = serde_json::json!(user.email);
            // Tessera does not prove addresses: an email is never claimed as verified.
            claims["email_verified"] = serde_json::json!(false);
        }
        if token.scopes.has(IdentityScope::Profile) {
            claims["name"] = serde_json::json!(user.login.to_string());
            claims["preferred_username"] = serde_json::json!(user.login.to_string());
        }
        Ok(claims)
    }
}

/// Whether `caller` is the token's own subject: the same key, or the same user acting as
/// itself (its session or access key; a service key never acts as its owner). A caller that
/// is itself an access token reaches only the tokens of its own subject issued to its own
/// client: one OAuth client never reads nor revokes what a user granted another.
fn owns(caller: &Principal, token_principal: &Principal, claims: &AccessTokenClaims) -> bool {
    let same_user = || {
        claims.sub_type == "user"
            && caller.user_id.is_some()
            && caller.user_id == token_principal.user_id
    };
    match &caller.credential {
        Credential::AccessKey(id) => {
            (claims.sub_type == "access_key" && claims.sub == id.to_string()) || same_user()
        }
        Credential::ServiceKey(id) => {
            claims.sub_type == "service_key" && claims.sub == id.to_string()
        }
        Credential::OAuthToken(t) => {
            t.subject.sub() == claims.sub
                && t.subject.kind() == claims.sub_type
                && t.client_id == claims.client_id
        }
        Credential::Session(_) => same_user(),
    }
}
