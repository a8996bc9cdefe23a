//! OAuth clients (Cloudflare's `iam.oauth_clients`) and the scope catalog
//! (`iam.oauth_scopes`).
//!
//! Managing clients takes API Credentials (`write`; `read` to list and get them). A client is
//! a way to ask the account's users for tokens carrying its scopes, so whoever creates one,
//! changes one (its redirect URIs decide where codes go), or rotates its secret must hold every
//! permission its scopes name, everywhere in the account (`ScopeNotGrantable` otherwise):
//! nobody makes or takes over a client worth more than themselves. Deleting a client, or its
//! rotated secret, only takes API Credentials `write`.
//!
//! The secret is shown once (on creation and on rotation) and stored as its SHA-256 digest
//! (238 random bits). A rotation keeps the previous secret valid until
//! `DELETE …/rotate_secret`; the protocol endpoints use [`App::oauth_client`] and
//! [`App::authenticate_oauth_client`].

#[cfg(test)]
mod tests;

use serde_json::json;
use subtle::ConstantTimeEq;
use tessera_domain::audit::RequestMeta;
use tessera_domain::ids::{AccountId, OAuthClientId};
use tessera_domain::oauth::client::MAX_CLIENTS_PER_ACCOUNT;
use tessera_domain::oauth::{
    ClientInput, ClientSettings, OAuthClient, Scope, ScopeSet, Visibility,
};
use tessera_domain::permissions::{Capability, Level, Permission};
use tessera_domain::policy;
use tessera_domain::ports::RepoError;
use tessera_domain::{DomainError, Entity, Secret};

use crate::App;
use crate::auth::secret_digest;
use crate::error::{AppError, AppResult, OAuthClientFailure};
use crate::principal::Principal;

const READ: Permission = Permission::read(Capability::ApiCredentials);
const WRITE: Permission = Permission::write(Capability::ApiCredentials);

/// A created client with its secret (confidential clients only): shown once.
#[derive(Debug, Clone)]
pub struct CreatedOAuthClient {
    /// The client.
    pub client: OAuthClient,
    /// Its secret; `None` for a public client (`token_endpoint_auth_method` `none`).
    pub secret: Option<Secret>,
}

/// Changes to a client; `None` leaves a field alone. The client with the changes applied is
/// checked whole, as on creation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OAuthClientUpdate {
    /// New name.
    pub client_name: Option<String>,
    /// New grant types.
    pub grant_types: Option<Vec<String>>,
    /// New response types.
    pub response_types: Option<Vec<String>>,
    /// New redirect URIs.
    pub redirect_uris: Option<Vec<String>>,
    /// New scopes.
    pub scopes: Option<Vec<String>>,
    /// New optional scopes.
    pub optional_scopes: Option<Vec<String>>,
    /// New token endpoint authentication: only between `client_secret_basic` and
    /// `client_secret_post` (a public client stays public, a confidential one confidential).
    pub token_endpoint_auth_method: Option<String>,
    /// New CORS origins.
    pub allowed_cors_origins: Option<Vec<String>>,
    /// New post-logout redirect URIs.
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// New home page (`""` removes it).
    pub client_uri: Option<String>,
    /// New logo (`""` removes it).
    pub logo_uri: Option<String>,
    /// New privacy policy (`""` removes it).
    pub policy_uri: Option<String>,
    /// New terms of service (`""` removes it).
    pub tos_uri: Option<String>,
    /// `public` asks for promotion, which Tessera refuses (it does not verify client URIs).
    pub visibility: Option<String>,
}

impl OAuthClientUpdate {
    /// Whether it names no field.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `current` with the changes applied (unchecked).
    fn applied_to(self, current: &ClientSettings) -> ClientInput {
        let mut input = current.to_input();
        macro_rules! set {
            ($($field:ident),+) => {$(
                if let Some(value) = self.$field { input.$field = value; }
            )+};
        }
        set!(
            client_name,
            grant_types,
            response_types,
            redirect_uris,
            scopes,
            optional_scopes,
            token_endpoint_auth_method,
            allowed_cors_origins,
            post_logout_redirect_uris
        );
        macro_rules! set_optional {
            ($($field:ident),+) => {$(
                if let Some(value) = self.$field { input.$field = Some(value); }
            )+};
        }
        set_optional!(client_uri, logo_uri, policy_uri, tos_uri);
        input
    }
}

/// A scope of the catalog as `GET /v1/oauth/scopes` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthScopeInfo {
    /// The scope's name, as `scopes` lists it (`user_management.read`).
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// Group in a UI: the capability's section, or `OpenID Connect`.
    pub category: &'static str,
    /// The permissions it carries (`user_management.write` carries `.read` too); none for an
    /// identity scope.
    pub permissions: Vec<String>,
}

/// The visibility rule of an update: Cloudflare accepts only `public` (promotion), which needs
/// a verified `client_uri` host; Tessera does not verify client URIs, so it refuses it.
fn check_visibility(visibility: Option<&str>) -> Result<(), DomainError> {
    match visibility {
        None => Ok(()),
        Some("public") => Err(DomainError::invalid(
            "visibility",
            "promotion to public needs a verified client_uri host, which Tessera does not \
             verify: clients stay private",
        )),
        Some(_) => Err(DomainError::invalid(
            "visibility",
            "only public is accepted (demotion to private is not supported)",
        )),
    }
}

fn audit_details(settings: &ClientSettings) -> serde_json::Value {
    json!({
        "client_name": settings.client_name,
        "grant_types": settings.grant_types,
        "response_types": settings.response_types,
        "redirect_uris": settings.redirect_uris,
        "scopes": settings.scopes,
        "optional_scopes": settings.optional_scopes,
        "token_endpoint_auth_method": settings.token_endpoint_auth_method,
    })
}

impl App {
    /// Refuses unless `principal` holds every permission `scopes` name, everywhere in
    /// `account`.
    fn authorize_scopes(
        &self,
        principal: &Principal,
        account: AccountId,
        scopes: &ScopeSet,
    ) -> AppResult<()> {
        let ancestors = self.ancestors_for(principal, account)?;
        let decision = policy::check_permissions(
            &principal.subject,
            account,
            &ancestors,
            scopes.permissions().highest(),
        );
        if decision.allowed {
            Ok(())
        } else if decision.is_invisible() {
            Err(AppError::NotFound(Entity::Account))
        } else {
            Err(AppError::ScopeNotGrantable(decision.reasons))
        }
    }

    fn load_oauth_client(&self, account: AccountId, id: OAuthClientId) -> AppResult<OAuthClient> {
        self.ports
            .oauth_clients
            .get_oauth_client(account, id)
            .map_err(AppError::from_repo(Entity::OAuthClient))
    }

    /// Creates a client (`visibility` `private`); a confidential one gets a secret, in the
    /// answer and nowhere else.
    ///
    /// # Errors
    /// `Forbidden` without API Credentials write; `Invalid` naming the field that breaks a
    /// rule of [`ClientSettings::checked`]; `ScopeNotGrantable`; `TooManyOAuthClients`.
    pub fn create_oauth_client(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        input: ClientInput,
    ) -> AppResult<CreatedOAuthClient> {
        self.authorize(principal, account, WRITE, None)?;
        let settings = ClientSettings::checked(input)?;
        self.authorize_scopes(principal, account, &settings.scope_set())?;
        let secret = settings
            .token_endpoint_auth_method
            .is_confidential()
            .then(|| self.ports.ids.secret());
        let now = self.ports.clock.now();
        let client = OAuthClient {
            id: OAuthClientId(self.ports.ids.hex32()),
            account_id: account,
            visibility: Visibility::Private,
            secret_digest: secret.as_ref().map(secret_digest),
            previous_secret_digest: None,
            created_at: now,
            updated_at: now,
            promoted_at: None,
            settings,
        };
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "oauth_client.create",
            None,
            audit_details(&client.settings),
        );
        let client = self
            .ports
            .oauth_clients
            .create_oauth_client(&client, MAX_CLIENTS_PER_ACCOUNT, &audit)
            .map_err(|e| match e {
                RepoError::LimitReached => AppError::TooManyOAuthClients(MAX_CLIENTS_PER_ACCOUNT),
                other => AppError::from_repo(Entity::OAuthClient)(other),
            })?;
        Ok(CreatedOAuthClient { client, secret })
    }

    /// The account's clients, oldest first (never a secret).
    ///
    /// # Errors
    /// `Forbidden` without API Credentials read.
    pub fn list_oauth_clients(
        &self,
        principal: &Principal,
        account: AccountId,
    ) -> AppResult<Vec<OAuthClient>> {
        self.authorize(principal, account, READ, None)?;
        Ok(self.ports.oauth_clients.list_oauth_clients(account)?)
    }

    /// One client.
    ///
    /// # Errors
    /// `NotFound(Entity::OAuthClient)` (another account's too); `Forbidden`.
    pub fn get_oauth_client(
        &self,
        principal: &Principal,
        account: AccountId,
        id: OAuthClientId,
    ) -> AppResult<OAuthClient> {
        self.authorize(principal, account, READ, None)?;
        self.load_oauth_client(account, id)
    }

    /// Changes a client: the result is checked whole, and its scopes must be held by the
    /// caller (whoever changes a client, its redirect URIs above all, vouches for it).
    ///
    /// # Errors
    /// `Invalid` (an empty change, a bad field, a switch between a public and a confidential
    /// client, promotion to `public`); `NotFound`; `Forbidden`; `ScopeNotGrantable`.
    pub fn update_oauth_client(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        id: OAuthClientId,
        update: OAuthClientUpdate,
    ) -> AppResult<OAuthClient> {
        self.authorize(principal, account, WRITE, None)?;
        let current = self.load_oauth_client(account, id)?;
        if update.is_empty() {
            return Err(DomainError::invalid("body", "name at least one field to change").into());
        }
        check_visibility(update.visibility.as_deref())?;
        let settings = ClientSettings::checked(update.applied_to(&current.settings))?;
        if settings.token_endpoint_auth_method.is_confidential() != current.is_confidential() {
            return Err(DomainError::invalid(
                "token_endpoint_auth_method",
                "a client cannot switch between public (none) and confidential \
                 (client_secret_basic, client_secret_post): create another client",
            )
            .into());
        }
        self.authorize_scopes(principal, account, &settings.scope_set())?;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "oauth_client.update",
            None,
            audit_details(&settings),
        );
        self.ports
            .oauth_clients
            .update_oauth_client(account, id, &settings, self.ports.clock.now(), &audit)
            .map_err(AppError::from_repo(Entity::OAuthClient))
    }

    /// Deletes a client: from then on it is unknown to [`App::oauth_client`] (its tokens stop
    /// working where they are checked).
    ///
    /// # Errors
    /// `NotFound`; `Forbidden`.
    pub fn delete_oauth_client(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        id: OAuthClientId,
    ) -> AppResult<()> {
        self.authorize(principal, account, WRITE, None)?;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "oauth_client.delete",
            None,
            json!({}),
        );
        self.ports
            .oauth_clients
            .delete_oauth_client(account, id, &audit)
            .map_err(AppError::from_repo(Entity::OAuthClient))?;
        // Only once the client is known to have been this account's (deleted above): its grants,
        // and with them every token and refresh token issued to it, stop working everywhere.
        self.revoke_client_grants(account, &id.to_string(), principal.actor(), meta)?;
        Ok(())
    }

    /// Gives a confidential client a new secret (returned, shown once); the previous one stays
    /// valid until [`App::delete_rotated_oauth_client_secret`] (`has_rotated_secret`). A
    /// secret older than the previous one stops working.
    ///
    /// # Errors
    /// `Invalid` for a public client; `NotFound`; `Forbidden`; `ScopeNotGrantable` (the
    /// secret takes the client over).
    pub fn rotate_oauth_client_secret(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        id: OAuthClientId,
    ) -> AppResult<Secret> {
        self.authorize(principal, account, WRITE, None)?;
        let current = self.load_oauth_client(account, id)?;
        if !current.is_confidential() {
            return Err(DomainError::invalid(
                "token_endpoint_auth_method",
                "a public client (none) has no secret to rotate",
            )
            .into());
        }
        self.authorize_scopes(principal, account, &current.settings.scope_set())?;
        let secret = self.ports.ids.secret();
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "oauth_client.rotate_secret",
            None,
            json!({}),
        );
        self.ports
            .oauth_clients
            .rotate_oauth_client_secret(
                account,
                id,
                &secret_digest(&secret),
                self.ports.clock.now(),
                &audit,
            )
            .map_err(AppError::from_repo(Entity::OAuthClient))?;
        Ok(secret)
    }

    /// Drops the secret a rotation left valid (nothing to drop is no error).
    ///
    /// # Errors
    /// `NotFound`; `Forbidden`.
    pub fn delete_rotated_oauth_client_secret(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        id: OAuthClientId,
    ) -> AppResult<OAuthClient> {
        self.authorize(principal, account, WRITE, None)?;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "oauth_client.delete_rotated_secret",
            None,
            json!({}),
        );
        self.ports
            .oauth_clients
            .delete_rotated_oauth_client_secret(account, id, self.ports.clock.now(), &audit)
            .map_err(AppError::from_repo(Entity::OAuthClient))
    }

    /// Client `client_id`, whichever its account, for the OAuth protocol endpoints (no caller
    /// yet): one lookup by primary key, so a deleted client is unknown at once. A malformed id
    /// is unknown too.
    ///
    /// # Errors
    /// Storage errors only.
    pub fn oauth_client(&self, client_id: &str) -> AppResult<Option<OAuthClient>> {
        let Ok(id) = OAuthClientId::parse(client_id) else {
            return Ok(None);
        };
        Ok(self.ports.oauth_clients.find_oauth_client(id)?)
    }

    /// Authenticates a client at the token endpoint: a public client
    /// (`token_endpoint_auth_method` `none`) presents no secret; a confidential one presents
    /// its current or its previous secret (both compared, in constant time).
    ///
    /// # Errors
    /// `OAuthClient(…)` saying why; storage errors.
    pub fn authenticate_oauth_client(
        &self,
        client_id: &str,
        secret: Option<&Secret>,
    ) -> AppResult<OAuthClient> {
        let client = self
            .oauth_client(client_id)?
            .ok_or(OAuthClientFailure::UnknownClient)?;
        match (client.is_confidential(), secret) {
            (false, None) => Ok(client),
            (false, Some(_)) => Err(OAuthClientFailure::SecretNotExpected.into()),
            (true, None) => Err(OAuthClientFailure::SecretRequired.into()),
            (true, Some(secret)) => {
                let presented = secret_digest(secret);
                let matches = |digest: Option<&Vec<u8>>| {
                    digest.map_or(subtle::Choice::from(0), |d| {
                        presented.as_slice().ct_eq(d.as_slice())
                    })
                };
                let current = matches(client.secret_digest.as_ref());
                let previous = matches(client.previous_secret_digest.as_ref());
                if bool::from(current | previous) {
                    Ok(client)
                } else {
                    Err(OAuthClientFailure::WrongSecret.into())
                }
            }
        }
    }

    /// Every scope a client may list (Cloudflare's `GET /oauth/scopes`): the identity scopes,
    /// then one per capability and level. Needs an authenticated caller and no permission.
    #[must_use]
    pub fn oauth_scopes() -> Vec<OAuthScopeInfo> {
        Scope::all()
            .map(|scope| match scope {
                Scope::Identity(identity) => OAuthScopeInfo {
                    id: scope.to_string(),
                    name: identity.name().to_owned(),
                    category: "OpenID Connect",
                    permissions: Vec::new(),
                },
                Scope::Permission(p) => OAuthScopeInfo {
                    id: scope.to_string(),
                    name: format!(
                        "{} {}",
                        p.capability.name(),
                        match p.level {
                            Level::Read => "Read",
                            Level::Write => "Write",
                        }
                    ),
                    category: p.capability.section().title(),
                    permissions: std::iter::once(scope)
                        .collect::<ScopeSet>()
                        .permissions()
                        .iter()
                        .map(|q| Scope::Permission(q).to_string())
                        .collect(),
                },
            })
            .collect()
    }
}
