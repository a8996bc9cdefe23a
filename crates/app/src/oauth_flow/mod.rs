//! The authorization code flow (RFC 6749 §4.1, RFC 7636, OpenID Connect Core §3.1): the
//! authorization request is checked against its client, the signed-in user consents on
//! Tessera's page, and the client exchanges a single-use code for tokens ([`exchange`]).
//!
//! What a user can grant is what they hold: the permission scopes asked for ∩ the user's
//! current permissions, plus the identity scopes asked for. Access tokens are narrowed again at
//! each use (scopes ∩ current permissions), so a user who loses a permission later narrows the
//! tokens they granted.

mod exchange;

#[cfg(test)]
mod tests;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tessera_domain::Secret;
use tessera_domain::audit::{AuditRecord, Outcome, RequestMeta};
use tessera_domain::oauth::authorize::{AuthorizeError, ClientRules, PageError, check_request};
use tessera_domain::oauth::code::{CODE_PREFIX, CODE_TTL};
use tessera_domain::oauth::{
    AuthorizationCode, AuthorizeParams, AuthorizeRequest, CodeChallenge, GrantType, OAuthClient,
    Scope, ScopeSet,
};
use tessera_domain::permissions::PermSet;

use crate::App;
use crate::auth::secret_digest;
use crate::error::{AppError, AppResult};
use crate::principal::{Credential, Principal};

pub use exchange::{ClientCredentials, CodeExchange, FlowTokens, RefreshExchange};

/// A checked authorization request, with the client's name for the consent screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The request.
    pub request: AuthorizeRequest,
    /// The client's `client_name`.
    pub client_name: String,
}

/// One line of the consent screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentScope {
    /// The scope asked for.
    pub scope: Scope,
    /// Whether the user can grant it (an identity scope, or a permission they hold).
    pub grantable: bool,
}

/// What the consent screen shows, and what allowing grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// Each scope asked for.
    pub scopes: Vec<ConsentScope>,
    /// What allowing grants: the grantable ones.
    pub granted: ScopeSet,
}

/// What the consent form's `consent` field must hold: a digest of the session token and of the
/// exact authorization request the screen showed
/// (`base64url(SHA-256("tessera consent\0" ‖ token ‖ each field, length-prefixed))`). Only a
/// page given it knows it (like the CSRF token), and a decision posted with another request's
/// parameters — another client, redirect URI, scope, PKCE challenge or state — does not match.
#[must_use]
pub fn consent_binding(session: &Secret, request: &AuthorizeRequest) -> String {
    let mut h = Sha256::new();
    h.update(b"tessera consent\0");
    let given = if request.redirect_uri_given { "1" } else { "0" };
    let scopes = request.scopes.to_string();
    for field in [
        session.expose(),
        &request.client_id,
        &request.redirect_uri,
        given,
        &scopes,
        request.state.as_deref().unwrap_or(""),
        request
            .code_challenge
            .as_ref()
            .map_or("", CodeChallenge::as_str),
        request.nonce.as_deref().unwrap_or(""),
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    URL_SAFE_NO_PAD.encode(h.finalize())
}

/// Whether `presented` is the [`consent_binding`] of `session` and `request` (constant time).
#[must_use]
pub fn consent_binding_matches(
    session: &Secret,
    request: &AuthorizeRequest,
    presented: &str,
) -> bool {
    let expected = consent_binding(session, request);
    bool::from(expected.as_bytes().ct_eq(presented.trim().as_bytes()))
}

/// The rules of `client` for an authorization request.
fn rules(client: &OAuthClient) -> ClientRules<'_> {
    ClientRules {
        redirect_uris: &client.settings.redirect_uris,
        scopes: client.settings.scope_set(),
        public: !client.is_confidential(),
        allows_code: client
            .settings
            .grant_types
            .contains(&GrantType::AuthorizationCode),
    }
}

/// Asked ∩ (identity scopes ∪ `held`).
fn grantable(asked: ScopeSet, held: PermSet) -> ScopeSet {
    asked.narrowed_to(held)
}

impl App {
    /// Checks an authorization request (before anyone signs in): its client exists, the
    /// redirect URI is one it registered, and the rest follows RFC 6749 and RFC 7636.
    ///
    /// # Errors
    /// The outer error is storage's; the inner one is the refusal to show or send back.
    pub fn check_authorization(
        &self,
        params: &AuthorizeParams,
    ) -> AppResult<Result<Authorization, AuthorizeError>> {
        let client = match params.client_id.as_deref() {
            Some(id) => self.oauth_client(id)?,
            None => None,
        };
        let Some(client) = client else {
            return Ok(Err(AuthorizeError::Page(PageError::UnknownClient)));
        };
        Ok(
            check_request(params, rules(&client)).map(|request| Authorization {
                request,
                client_name: client.settings.client_name.clone(),
            }),
        )
    }

    /// What the consent screen shows `principal` (a user signed in with a session) for
    /// `request`: each scope asked for, and whether they can grant it.
    ///
    /// # Errors
    /// `Forbidden` for a principal that is not a user's session.
    pub fn consent(&self, principal: &Principal, request: &AuthorizeRequest) -> AppResult<Consent> {
        session_user(principal)?;
        let granted = grantable(request.scopes, crate::oauth::held_permissions(principal));
        let scopes = request
            .scopes
            .iter()
            .map(|scope| ConsentScope {
                scope,
                grantable: granted.contains(scope),
            })
            .collect();
        Ok(Consent { scopes, granted })
    }

    /// The user allowed `request`: records the grant (the scopes they can grant, at this
    /// moment) and issues a single-use authorization code bound to the client, the redirect
    /// URI, the PKCE challenge, the nonce, the scopes, the user and the grant. The session
    /// whose token is `session` is the sign-in the code stands for (its start is `auth_time`).
    /// Audited as `oauth.grant.create` and `oauth.code.issue` (never the code).
    ///
    /// # Errors
    /// `Forbidden` for a principal that is not a user's session; `Unauthenticated` when the
    /// session is gone; storage errors.
    pub fn approve_authorization(
        &self,
        principal: &Principal,
        session: &Secret,
        request: &AuthorizeRequest,
        meta: &RequestMeta,
    ) -> AppResult<Secret> {
        let user = session_user(principal)?;
        let signed_in = self
            .ports
            .sessions
            .find_session(&secret_digest(session))?
            .filter(|s| s.user_id == user && s.account_id == principal.account_id)
            .ok_or(AppError::Unauthenticated(crate::AuthFailure::Failed))?;
        let consent = self.consent(principal, request)?;
        let grant = self.create_grant(
            principal.account_id,
            user,
            &request.client_id,
            consent.granted,
            meta,
        )?;
        let now = self.ports.clock.now();
        let code = Secret::new(format!("{CODE_PREFIX}{}", self.ports.ids.secret().expose()));
        self.ports.oauth_flow.store_code(&AuthorizationCode {
            digest: secret_digest(&code),
            client_id: request.client_id.clone(),
            grant_id: grant.id.to_string(),
            account_id: principal.account_id,
            user_id: user,
            redirect_uri: request.redirect_uri.clone(),
            redirect_uri_given: request.redirect_uri_given,
            code_challenge: request.code_challenge.clone(),
            nonce: request.nonce.clone(),
            scopes: consent.granted,
            auth_time: signed_in.created_at,
            created_at: now,
            expires_at: now + CODE_TTL,
        })?;
        self.ports.audit.append_audit(&AuditRecord {
            account_id: Some(principal.account_id),
            actor: principal.actor(),
            action: "oauth.code.issue".into(),
            target: Some(format!("oauth_grant:{}", grant.id)),
            outcome: Outcome::Success,
            client_ip: meta.client_ip.clone(),
            request_id: meta.request_id.clone(),
            at: now,
            details: json!({
                "client_id": request.client_id,
                "scope": consent.granted.to_string(),
                "asked": request.scopes.to_string(),
                "pkce": request.code_challenge.is_some(),
            }),
        })?;
        Ok(code)
    }

    /// The user denied `request` (audited as `oauth.consent.deny`).
    ///
    /// # Errors
    /// `Forbidden` for a principal that is not a user's session; storage errors.
    pub fn deny_authorization(
        &self,
        principal: &Principal,
        request: &AuthorizeRequest,
        meta: &RequestMeta,
    ) -> AppResult<()> {
        session_user(principal)?;
        self.ports.audit.append_audit(&AuditRecord {
            account_id: Some(principal.account_id),
            actor: principal.actor(),
            action: "oauth.consent.deny".into(),
            target: Some(format!("oauth_client:{}", request.client_id)),
            outcome: Outcome::Success,
            client_ip: meta.client_ip.clone(),
            request_id: meta.request_id.clone(),
            at: self.ports.clock.now(),
            details: json!({ "asked": request.scopes.to_string() }),
        })?;
        Ok(())
    }
}

/// The user a principal signed in as with a session: only a person at a browser consents.
fn session_user(principal: &Principal) -> AppResult<tessera_domain::ids::UserId> {
    match (&principal.credential, principal.user_id) {
        (Credential::Session(_), Some(user)) => Ok(user),
        _ => Err(AppError::Forbidden(Vec::new())),
    }
}
