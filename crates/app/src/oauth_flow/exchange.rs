//! The token endpoint's `authorization_code` and `refresh_token` grants, and the ID token.
//!
//! A code is spent by the first redemption, whatever follows; a second one is a replay, and
//! revokes the grant with every token issued from it (RFC 6749 §4.1.2). A refresh token is
//! replaced by a new one at each use; presenting a replaced one revokes the grant (OAuth 2.0
//! Security BCP §4.14.2): whoever holds the newest one loses it too.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tessera_domain::Secret;
use tessera_domain::audit::{Actor, ActorKind, AuditRecord, Outcome, RequestMeta};
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::oauth::code::{REFRESH_PREFIX, REFRESH_TTL};
use tessera_domain::oauth::{
    CodeRedemption, GrantId, GrantType, IdentityScope, MAX_ID_TOKEN_TTL_SECS, OAuthClient,
    RefreshRotation, RefreshToken, ScopeSet, TokenEndpointAuthMethod, TokenSubject,
};
use tessera_domain::user::{User, UserStatus};

use crate::App;
use crate::auth::secret_digest;
use crate::error::{AppError, AppResult};
use crate::oauth::{IssuedAccessToken, NewAccessToken, OAuthError};

/// How a client authenticated at the token endpoint.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    /// `client_id` (from the `Authorization` header or the body).
    pub client_id: String,
    /// The secret, when one was presented.
    pub secret: Option<Secret>,
    /// How it was presented: `client_secret_basic`, `client_secret_post`, or `none`.
    pub method: TokenEndpointAuthMethod,
}

/// A token request with `grant_type=authorization_code`.
#[derive(Debug, Clone)]
pub struct CodeExchange {
    /// The client.
    pub client: ClientCredentials,
    /// `code`.
    pub code: Secret,
    /// `redirect_uri`, when given.
    pub redirect_uri: Option<String>,
    /// `code_verifier`, when given.
    pub code_verifier: Option<String>,
    /// The issuer (the tokens' `iss`).
    pub issuer: String,
}

/// A token request with `grant_type=refresh_token`.
#[derive(Debug, Clone)]
pub struct RefreshExchange {
    /// The client.
    pub client: ClientCredentials,
    /// `refresh_token`.
    pub refresh_token: Secret,
    /// `scope`, to narrow the new access token (never to widen it).
    pub scope: Option<String>,
    /// The issuer.
    pub issuer: String,
}

/// What the token endpoint answers.
#[derive(Debug, Clone)]
pub struct FlowTokens {
    /// The access token.
    pub access: IssuedAccessToken,
    /// The ID token, when `openid` was granted.
    pub id_token: Option<Secret>,
    /// The new refresh token, when `offline_access` was granted and the client may refresh.
    pub refresh_token: Option<Secret>,
}

fn invalid_grant(why: &str) -> AppError {
    OAuthError::InvalidGrant(why.to_owned()).into()
}

/// The ID token's `at_hash`: the left half of SHA-256 of the access token, base64url
/// (OpenID Connect Core §3.1.3.6, for ES256).
fn at_hash(access_token: &Secret) -> String {
    let digest = Sha256::digest(access_token.expose().as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// What an ID token or userinfo says of `user` under `scopes`.
pub(crate) fn identity_claims(user: &User, scopes: ScopeSet, claims: &mut Value) {
    if scopes.has(IdentityScope::Email) {
        if let Some(email) = &user.email {
            claims["email"] = json!(email);
            // Tessera does not verify addresses itself.
            claims["email_verified"] = json!(false);
        }
    }
    if scopes.has(IdentityScope::Profile) {
        claims["preferred_username"] = json!(user.login.as_str());
        claims["name"] = json!(user.login.as_str());
    }
}

/// Who the audit log names for a client acting at the token endpoint.
fn client_actor(client_id: &str) -> Actor {
    Actor {
        kind: ActorKind::System,
        id: format!("oauth_client:{client_id}"),
    }
}

/// The grant a code or refresh token belongs to.
struct GrantRef<'a> {
    account: AccountId,
    user: UserId,
    client_id: &'a str,
    grant_id: &'a str,
}

impl App {
    /// Authenticates a client at the token or revocation endpoint, by its own method only (a
    /// `client_secret_basic` client presenting its secret in the form is refused).
    ///
    /// # Errors
    /// `OAuth(InvalidClient)`; storage errors.
    pub fn authenticate_flow_client(&self, c: &ClientCredentials) -> AppResult<OAuthClient> {
        let client = match self.authenticate_oauth_client(&c.client_id, c.secret.as_ref()) {
            Ok(client) => client,
            Err(AppError::OAuthClient(_)) => return Err(OAuthError::InvalidClient.into()),
            Err(other) => return Err(other),
        };
        if client.is_confidential() && client.settings.token_endpoint_auth_method != c.method {
            return Err(OAuthError::InvalidClient.into());
        }
        Ok(client)
    }

    /// Authenticates the client by its own method and checks that it may use `grant`.
    fn flow_client(&self, c: &ClientCredentials, grant: GrantType) -> AppResult<OAuthClient> {
        let client = self.authenticate_flow_client(c)?;
        if !client.settings.grant_types.contains(&grant) {
            return Err(OAuthError::UnauthorizedClient(format!(
                "the client may not use the {} grant",
                grant.as_str()
            ))
            .into());
        }
        Ok(client)
    }

    /// Revokes a grant whose code or refresh token was replayed (or that a client revoked):
    /// the grant (its access tokens fail at once, everywhere) and its codes and refresh tokens.
    fn end_grant(&self, g: &GrantRef<'_>, action: &str, meta: &RequestMeta) -> AppResult<()> {
        let now = self.ports.clock.now();
        self.ports.oauth_flow.spend_grant(g.grant_id, now)?;
        if let Ok(id) = GrantId::parse(g.grant_id) {
            match self.revoke_grant(g.account, id, client_actor(g.client_id), meta) {
                Ok(_) | Err(AppError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        self.ports.audit.append_audit(&AuditRecord {
            account_id: Some(g.account),
            actor: client_actor(g.client_id),
            action: action.into(),
            target: Some(format!("oauth_grant:{}", g.grant_id)),
            outcome: Outcome::Failure,
            client_ip: meta.client_ip.clone(),
            request_id: meta.request_id.clone(),
            at: now,
            details: json!({ "client_id": g.client_id, "user_id": g.user.0 }),
        })?;
        Ok(())
    }

    /// Whether the grant is live (not revoked).
    fn grant_live(&self, g: &GrantRef<'_>) -> AppResult<bool> {
        match GrantId::parse(g.grant_id) {
            Ok(id) => self.grant_usable(g.account, id, g.user, g.client_id),
            Err(_) => Ok(false),
        }
    }

    /// A replayed code or refresh token: its grant is revoked, if it was not already (a token
    /// spent by the revocation itself is no new replay).
    fn replayed(&self, g: &GrantRef<'_>, action: &str, meta: &RequestMeta) -> AppResult<AppError> {
        if self.grant_live(g)? {
            self.end_grant(g, action, meta)?;
            return Ok(invalid_grant("it was used already: its grant is revoked"));
        }
        Ok(invalid_grant("the grant was revoked"))
    }

    /// The grant's user, if the grant is live and the user active.
    fn live_grant_user(&self, g: &GrantRef<'_>) -> AppResult<User> {
        if !self.grant_live(g)? {
            return Err(invalid_grant("the grant was revoked"));
        }
        let user = match self.ports.users.get_user(g.account, g.user) {
            Ok(user) => user,
            Err(tessera_domain::ports::RepoError::NotFound) => {
                return Err(invalid_grant("the user is gone"));
            }
            Err(e) => return Err(e.into()),
        };
        if user.status != UserStatus::Active {
            return Err(invalid_grant("the user is not active"));
        }
        Ok(user)
    }

    /// Exchanges an authorization code (`grant_type=authorization_code`).
    ///
    /// # Errors
    /// `OAuth(InvalidClient)` when the client fails to authenticate by its method;
    /// `OAuth(UnauthorizedClient)` when it may not use the grant; `OAuth(InvalidGrant)` for an
    /// unknown, spent (then the grant is revoked), expired or foreign code, a redirect URI
    /// that differs, a PKCE verifier that is missing or wrong, a revoked grant or an inactive
    /// user; storage errors.
    pub fn exchange_code(&self, x: &CodeExchange, meta: &RequestMeta) -> AppResult<FlowTokens> {
        let client = self.flow_client(&x.client, GrantType::AuthorizationCode)?;
        let client_id = client.id.to_string();
        let now = self.ports.clock.now();
        let code = match self
            .ports
            .oauth_flow
            .redeem_code(&secret_digest(&x.code), now)?
        {
            CodeRedemption::Unknown => return Err(invalid_grant("unknown code")),
            CodeRedemption::Replayed(code) => {
                let grant = GrantRef {
                    account: code.account_id,
                    user: code.user_id,
                    client_id: &code.client_id,
                    grant_id: &code.grant_id,
                };
                return Err(self.replayed(&grant, "oauth.code.replay", meta)?);
            }
            CodeRedemption::Redeemed(code) => code,
        };
        if code.client_id != client_id {
            return Err(invalid_grant("the code was issued to another client"));
        }
        if now >= code.expires_at {
            return Err(invalid_grant("the code expired"));
        }
        let uri_ok = match (&x.redirect_uri, code.redirect_uri_given) {
            (Some(given), _) => *given == code.redirect_uri,
            (None, given_at_authorize) => !given_at_authorize,
        };
        if !uri_ok {
            return Err(invalid_grant(
                "redirect_uri differs from the authorization request's",
            ));
        }
        let pkce_ok = match (&code.code_challenge, &x.code_verifier) {
            (Some(challenge), Some(verifier)) => challenge.verifies(verifier),
            (None, None) => true,
            // A verifier without a challenge, or none for a challenge: refused both ways
            // (a downgrade is an attack).
            _ => false,
        };
        if !pkce_ok {
            return Err(invalid_grant("the PKCE code_verifier does not match"));
        }
        let grant = GrantRef {
            account: code.account_id,
            user: code.user_id,
            client_id: &client_id,
            grant_id: &code.grant_id,
        };
        let user = self.live_grant_user(&grant)?;
        let refresh = if code.scopes.has(IdentityScope::OfflineAccess)
            && client
                .settings
                .grant_types
                .contains(&GrantType::RefreshToken)
        {
            let token = self.new_refresh_token();
            self.ports.oauth_flow.store_refresh(&RefreshToken {
                digest: secret_digest(&token),
                grant_id: code.grant_id.clone(),
                client_id: client_id.clone(),
                account_id: code.account_id,
                user_id: code.user_id,
                scopes: code.scopes,
                auth_time: code.auth_time,
                created_at: now,
                expires_at: now + REFRESH_TTL,
                used_at: None,
            })?;
            Some(token)
        } else {
            None
        };
        self.flow_tokens(
            &grant,
            &user,
            code.scopes,
            code.auth_time,
            code.nonce.as_deref(),
            &x.issuer,
            refresh,
            meta,
        )
    }

    /// Exchanges a refresh token (`grant_type=refresh_token`): the token is spent, a new one
    /// returned; `scope` may narrow the new access token.
    ///
    /// # Errors
    /// As [`App::exchange_code`]; `OAuth(InvalidGrant)` for a spent refresh token (then the
    /// grant is revoked with every token of it); `OAuth(InvalidScope)` for a scope beyond the
    /// grant's.
    pub fn refresh_tokens(&self, x: &RefreshExchange, meta: &RequestMeta) -> AppResult<FlowTokens> {
        let client = self.flow_client(&x.client, GrantType::RefreshToken)?;
        let client_id = client.id.to_string();
        let now = self.ports.clock.now();
        let old_digest = secret_digest(&x.refresh_token);
        let Some(old) = self.ports.oauth_flow.find_refresh(&old_digest)? else {
            return Err(invalid_grant("unknown refresh token"));
        };
        if old.client_id != client_id {
            return Err(invalid_grant(
                "the refresh token was issued to another client",
            ));
        }
        let grant = GrantRef {
            account: old.account_id,
            user: old.user_id,
            client_id: &client_id,
            grant_id: &old.grant_id,
        };
        if old.used_at.is_some() {
            return Err(self.replayed(&grant, "oauth.refresh.reuse", meta)?);
        }
        if now >= old.expires_at {
            return Err(invalid_grant("the refresh token expired"));
        }
        let scopes = match x.scope.as_deref() {
            None => old.scopes,
            Some(asked) => {
                let asked = ScopeSet::parse(asked)
                    .map_err(|_| OAuthError::InvalidScope("unknown scope".into()))?;
                if !asked.is_subset(&old.scopes) {
                    return Err(OAuthError::InvalidScope(
                        "a refresh may narrow the scope, never widen it".into(),
                    )
                    .into());
                }
                asked
            }
        };
        let user = self.live_grant_user(&grant)?;
        let token = self.new_refresh_token();
        let next = RefreshToken {
            digest: secret_digest(&token),
            created_at: now,
            expires_at: now + REFRESH_TTL,
            used_at: None,
            ..old.clone()
        };
        match self
            .ports
            .oauth_flow
            .rotate_refresh(&old_digest, &next, now)?
        {
            RefreshRotation::Rotated => {}
            RefreshRotation::Replayed => {
                // Another request spent it first: one of the two is not the client.
                return Err(self.replayed(&grant, "oauth.refresh.reuse", meta)?);
            }
        }
        self.ports.audit.append_audit(&AuditRecord {
            account_id: Some(old.account_id),
            actor: client_actor(&client_id),
            action: "oauth.refresh".into(),
            target: Some(format!("oauth_grant:{}", old.grant_id)),
            outcome: Outcome::Success,
            client_ip: meta.client_ip.clone(),
            request_id: meta.request_id.clone(),
            at: now,
            details: json!({ "client_id": client_id, "scope": scopes.to_string() }),
        })?;
        self.flow_tokens(
            &grant,
            &user,
            scopes,
            old.auth_time,
            None,
            &x.issuer,
            Some(token),
            meta,
        )
    }

    /// Revokes the grant of refresh token `token` if the client (authenticated here) holds it
    /// (RFC 7009: the grant goes with it, access tokens included). Answers whether it named a
    /// grant of this client; anything else changes nothing (and the endpoint answers 200 all
    /// the same).
    ///
    /// # Errors
    /// `OAuth(InvalidClient)`; storage errors.
    pub fn revoke_refresh_token(
        &self,
        client: &ClientCredentials,
        token: &Secret,
        meta: &RequestMeta,
    ) -> AppResult<bool> {
        let client_id = self.authenticate_flow_client(client)?.id.to_string();
        let client_id = client_id.as_str();
        let Some(found) = self.ports.oauth_flow.find_refresh(&secret_digest(token))? else {
            return Ok(false);
        };
        if found.client_id != client_id {
            return Ok(false);
        }
        self.end_grant(
            &GrantRef {
                account: found.account_id,
                user: found.user_id,
                client_id,
                grant_id: &found.grant_id,
            },
            "oauth.refresh.revoke",
            meta,
        )?;
        Ok(true)
    }

    fn new_refresh_token(&self) -> Secret {
        Secret::new(format!(
            "{REFRESH_PREFIX}{}",
            self.ports.ids.secret().expose()
        ))
    }

    /// Mints the access token (and the ID token when `openid` is in `scopes`).
    #[allow(clippy::too_many_arguments)]
    fn flow_tokens(
        &self,
        grant: &GrantRef<'_>,
        user: &User,
        scopes: ScopeSet,
        auth_time: chrono::DateTime<chrono::Utc>,
        nonce: Option<&str>,
        issuer: &str,
        refresh_token: Option<Secret>,
        meta: &RequestMeta,
    ) -> AppResult<FlowTokens> {
        let grant_id = GrantId::parse(grant.grant_id)
            .map_err(|_| AppError::Internal("a stored grant id is malformed".into()))?;
        let access = self.issue_access_token(
            &NewAccessToken {
                account: grant.account,
                subject: TokenSubject::User(grant.user),
                client_id: Some(grant.client_id.to_owned()),
                scopes,
                grant: Some(grant_id),
                issuer: issuer.to_owned(),
                audience: None,
            },
            meta,
        )?;
        let id_token = if scopes.has(IdentityScope::OpenId) {
            let now = self.ports.clock.now().timestamp();
            let mut claims = json!({
                "iss": issuer,
                "sub": TokenSubject::User(grant.user).sub(),
                "aud": grant.client_id,
                "azp": grant.client_id,
                "iat": now,
                "exp": now + MAX_ID_TOKEN_TTL_SECS.min(self.access_token_ttl_secs()),
                "auth_time": auth_time.timestamp(),
                "at_hash": at_hash(&access.token),
                "account_id": grant.account.0,
            });
            if let Some(nonce) = nonce {
                claims["nonce"] = json!(nonce);
            }
            identity_claims(user, scopes, &mut claims);
            Some(Secret::new(self.sign_id_token(&claims)?))
        } else {
            None
        };
        Ok(FlowTokens {
            access,
            id_token,
            refresh_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_is_the_left_half_of_the_sha256_base64url() {
        // OpenID Connect Core's example uses RS256 (SHA-256 too):
        // access_token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" → "77QmUPtjPfzWtF2AnpK9RQ".
        assert_eq!(
            at_hash(&Secret::new("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y")),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
