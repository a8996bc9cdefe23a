//! Service keys (Voximplant `CreateKey` & co.): RSA key pairs whose private half is shown once.

use serde_json::json;
use tessera_domain::Entity;
use tessera_domain::Secret;
use tessera_domain::audit::RequestMeta;
use tessera_domain::authorized_ips::check_key_allowed_ips;
use tessera_domain::ids::{AccountId, ServiceKeyId};
use tessera_domain::keys::{KeyValidity, ServiceKey, check_key_name};
use tessera_domain::permissions::{Capability, Permission};
use tessera_domain::policy::{ResourceKey, ResourceType};
use tessera_domain::ports::{
    ExpiryFilter, ListQuery, NewServiceKey, Page, RepoError, RoleChange, ServiceKeyChanges,
};
use tessera_domain::roles::{Role, RoleId, ids as role_ids};
use tessera_domain::user::check_description;

use crate::App;
use crate::authz::{Access, OwnAction, changed_roles};
use crate::error::{AppError, AppResult};
use crate::key_validity::with_validity;
use crate::principal::{Credential, Principal};

const READ: Permission = Permission::read(Capability::ApiCredentials);
const WRITE: Permission = Permission::write(Capability::ApiCredentials);

fn key_ref(id: ServiceKeyId) -> ResourceKey {
    ResourceKey::new(ResourceType::ServiceKey, id)
}

/// A new service key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateServiceKey {
    /// Name (default `service key`).
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Roles.
    pub roles: Vec<RoleId>,
    /// When it works (by default, until the account's `max_key_lifetime_days` from now when it
    /// sets one, else for ever).
    pub validity: KeyValidity,
}

/// A created key with its private half — the JSON credentials file of the official clients.
#[derive(Debug, Clone)]
pub struct CreatedServiceKey {
    /// The key.
    pub key: ServiceKey,
    /// The account's email (`account_email` in the credentials file).
    pub account_email: String,
    /// PKCS#8 PEM; shown once, never stored.
    pub private_key: Secret,
}

impl App {
    /// Creates a key. A key created by an account owner (or an account key) belongs to the
    /// account; any other user's key belongs to that user, and its roles never exceed what the
    /// creator holds. Users create their own keys by self-service (through their own session or
    /// access key); a service key needs API Credentials write within its own roles.
    ///
    /// # Errors
    /// `Forbidden` without API Credentials write (outside self-service); `RoleNotGrantable` for
    /// a role the creator does not hold; `Invalid` for a bad name, description, unknown role or
    /// a validity [`KeyValidity::check`] refuses; `TooManyKeys`.
    pub fn create_service_key(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        cmd: CreateServiceKey,
    ) -> AppResult<CreatedServiceKey> {
        let own = principal.user_id.map(|u| (u, OwnAction::ServiceKeys));
        self.authorize_or_own(principal, account, WRITE, None, own)?;
        let name = cmd.name.unwrap_or_else(|| "service key".to_owned());
        check_key_name(&name)?;
        if let Some(d) = &cmd.description {
            check_description(d)?;
        }
        let mut roles = cmd.roles;
        roles.sort_unstable();
        roles.dedup();
        for r in &roles {
            Role::by_id(*r)?;
        }
        self.authorize_roles_held(principal, account, &roles)?;
        let validity = self.new_key_validity(account, cmd.validity)?;
        let owner = match principal.user_id {
            _ if principal.account_id != account => None,
            Some(_) if principal.subject.roles.contains(&role_ids::OWNER) => None,
            user => user,
        };
        let pair = self
            .ports
            .key_pairs
            .rsa_2048()
            .map_err(AppError::Internal)?;
        let id = ServiceKeyId(self.ports.ids.uuid());
        let limit = self.settings.max_service_keys_per_owner;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "service_key.create",
            None,
            json!({
                "name": name,
                "roles": roles,
                "owner": owner,
                "not_before": validity.not_before,
                "expires_at": validity.expires_at,
            }),
        );
        let key = self
            .ports
            .service_keys
            .create_service_key(
                &NewServiceKey {
                    id,
                    account_id: account,
                    owner,
                    name,
                    description: cmd.description,
                    public_key_pem: pair.public_pem,
                    roles,
                    created_at: self.ports.clock.now(),
                    validity,
                },
                limit,
                &audit,
            )
            .map_err(|e| match e {
                RepoError::LimitReached => AppError::TooManyKeys(limit),
                other => AppError::from_repo(Entity::User)(other),
            })?;
        let account_email = self.ports.accounts.get_account(account)?.email;
        Ok(CreatedServiceKey {
            key,
            account_email,
            private_key: pair.private_pem,
        })
    }

    /// A page of keys. With API Credentials read, every key of the account but those a deny
    /// policy hides; otherwise a user's own keys (self-service), or a service key itself (the
    /// basic method). With `expired`, only the keys whose `expires_at` has passed (`true`) or
    /// the others (`false`).
    ///
    /// # Errors
    /// `NotFound(Account)` for an account the caller cannot see; `Forbidden`.
    pub fn list_service_keys(
        &self,
        principal: &Principal,
        account: AccountId,
        query: &ListQuery,
        expired: Option<bool>,
    ) -> AppResult<Page<ServiceKey>> {
        let mut query = query.clone();
        let now = self.ports.clock.now();
        query.expiry = expired.map(|expired| ExpiryFilter { expired, at: now });
        query.hidden = Self::hidden(principal, ResourceType::ServiceKey, READ);
        query.hidden_owners = Self::hidden(
            principal,
            ResourceType::User,
            Permission::read(Capability::UserManagement),
        )
        .iter()
        .filter_map(|id| id.parse().ok())
        .collect();
        if let Credential::ServiceKey(itself) = principal.credential {
            if principal.account_id == account && !self.holds(principal, account, READ, None)? {
                let key = self.ports.service_keys.get_service_key(account, itself)?;
                let listed = expired.is_none_or(|e| key.validity.is_expired(now) == e);
                let first = query.offset == 0 && query.after.is_none();
                return Ok(Page {
                    items: (first && listed).then_some(key).into_iter().collect(),
                    total: i64::from(listed),
                });
            }
        }
        let own = principal.user_id.map(|u| (u, OwnAction::ServiceKeys));
        let owner = match self.authorize_or_own(principal, account, READ, None, own)? {
            Access::Granted => None,
            Access::Own(_) => principal.user_id,
        };
        Ok(self
            .ports
            .service_keys
            .list_service_keys(account, owner, &query)?)
    }

    /// Loads key `id`, answering a missing key exactly as a refusal would be answered to a
    /// principal that may not see it.
    fn load_key(
        &self,
        principal: &Principal,
        account: AccountId,
        id: ServiceKeyId,
        permission: Permission,
    ) -> AppResult<ServiceKey> {
        match self.ports.service_keys.get_service_key(account, id) {
            Ok(key) => Ok(key),
            Err(e) => {
                let own = principal.user_id.map(|u| (u, OwnAction::ServiceKeys));
                self.authorize_or_own(principal, account, permission, Some(&key_ref(id)), own)?;
                Err(AppError::from_repo(Entity::ServiceKey)(e))
            }
        }
    }

    /// One key: with API Credentials read, its owner's self-service, or the key itself.
    ///
    /// # Errors
    /// `NotFound(ServiceKey)`; `Forbidden`.
    pub fn get_service_key(
        &self,
        principal: &Principal,
        account: AccountId,
        id: ServiceKeyId,
    ) -> AppResult<ServiceKey> {
        let key = self.load_key(principal, account, id, READ)?;
        if principal.account_id == account && principal.credential == Credential::ServiceKey(id) {
            return Ok(key);
        }
        let own = key.owner.map(|u| (u, OwnAction::ServiceKeys));
        self.authorize_or_own(principal, account, READ, Some(&key_ref(id)), own)?;
        if let Some(owner) = key.owner {
            // A key of a user a deny hides is hidden with it.
            let d = self.decide(
                principal,
                account,
                Permission::read(Capability::UserManagement),
                Some(&ResourceKey::new(ResourceType::User, owner)),
            )?;
            if crate::authz::denied_by_policy(&d.reasons) {
                self.telemetry.denied(Capability::UserManagement);
                return Err(AppError::Forbidden(d.reasons));
            }
        }
        Ok(key)
    }

    /// Loads a key the principal wants to change and checks that it may: its own key by
    /// self-service; anyone else's with API Credentials write, the right to grant every role
    /// the key holds, and the right to manage its owner. Returns the key and whether it is the
    /// principal's own.
    fn authorize_key_change(
        &self,
        principal: &Principal,
        account: AccountId,
        id: ServiceKeyId,
    ) -> AppResult<(ServiceKey, bool)> {
        let key = self.load_key(principal, account, id, WRITE)?;
        let own = key
            .owner
            .is_some_and(|o| Self::acts_as(principal, account, o));
        let self_service = key.owner.map(|u| (u, OwnAction::ServiceKeys));
        self.authorize_or_own(principal, account, WRITE, Some(&key_ref(id)), self_service)?;
        if !own {
            self.authorize_role_grants(principal, account, &key.roles)?;
            if let Some(owner) = key.owner {
                let user = self
                    .ports
                    .users
                    .get_user(account, owner)
                    .map_err(AppError::from_repo(Entity::User))?;
                self.authorize_manage(principal, account, &user.roles)?;
            }
        }
        Ok((key, own))
    }

    /// Renames or re-describes a key, changes its validity or sets its `allowed_ips` (from the
    /// next request on). A change that lets the key work at a moment it would not have (a later
    /// or no expiry, an earlier or no start) issues it anew: on one's own key, it needs every
    /// role of the key, as creating it would.
    ///
    /// # Errors
    /// `Invalid` for a bad name, `allowed_ips`, or a validity [`KeyValidity::check`] refuses;
    /// `NotFound`; `Forbidden`; `RoleNotGrantable` for one's own key whose roles one no longer
    /// holds.
    pub fn update_service_key(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        id: ServiceKeyId,
        changes: ServiceKeyChanges,
    ) -> AppResult<ServiceKey> {
        if let Some(n) = &changes.name {
            check_key_name(n)?;
        }
        if let Some(Some(d)) = &changes.description {
            check_description(d)?;
        }
        if let Some(networks) = &changes.allowed_ips {
            check_key_allowed_ips(networks)?;
        }
        let (key, own) = self.authorize_key_change(principal, account, id)?;
        let mut changes = changes;
        changes.validity = changes.validity.to_micros();
        let revalidated = !changes.validity.is_empty();
        if revalidated {
            self.check_validity_change(account, key.validity, changes.validity)?;
            if own
                && key
                    .validity
                    .widened_by(&changes.validity.apply(key.validity))
            {
                self.authorize_roles_held(principal, account, &key.roles)?;
            }
        }
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "service_key.update",
            None,
            with_validity(
                json!({ "name": changes.name, "allowed_ips": changes.allowed_ips }),
                &changes.validity,
            ),
        );
        let updated = self
            .ports
            .service_keys
            .update_service_key(account, id, &changes, &audit)
            .map_err(AppError::from_repo(Entity::ServiceKey));
        if revalidated || changes.allowed_ips.is_some() {
            self.invalidating(updated)
        } else {
            updated
        }
    }

    /// Sets (`Replace`), adds or removes a key's roles.
    ///
    /// # Errors
    /// `Invalid(UnknownRoleId)`; `Forbidden` for a role the caller does not hold; `NotFound`.
    pub fn change_service_key_roles(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        id: ServiceKeyId,
        change: RoleChange,
    ) -> AppResult<ServiceKey> {
        let (action, named) = match &change {
            RoleChange::Add(r) => ("service_key.roles.add", r.clone()),
            RoleChange::Remove { roles, .. } => ("service_key.roles.remove", roles.clone()),
            RoleChange::Replace(r) => ("service_key.roles.set", r.clone()),
        };
        for r in &named {
            Role::by_id(*r)?;
        }
        let (key, own) = self.authorize_key_change(principal, account, id)?;
        let changed = changed_roles(&key.roles, &change.apply(&key.roles));
        if own {
            self.authorize_roles_held(principal, account, &changed)?;
        } else {
            self.authorize_role_grants(principal, account, &changed)?;
        }
        let audit = self.audit_record(
            principal,
            meta,
            account,
            action,
            None,
            json!({ "roles": named }),
        );
        self.invalidating(
            self.ports
                .service_keys
                .change_service_key_roles(account, id, &change, &audit)
                .map_err(AppError::from_repo(Entity::ServiceKey)),
        )
    }

    /// Deletes a key: its JWTs fail from the next request.
    ///
    /// # Errors
    /// `NotFound`; `Forbidden`.
    pub fn delete_service_key(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        id: ServiceKeyId,
    ) -> AppResult<()> {
        self.authorize_key_change(principal, account, id)?;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "service_key.delete",
            None,
            json!({}),
        );
        self.invalidating(
            self.ports
                .service_keys
                .delete_service_key(account, id, &audit)
                .map_err(AppError::from_repo(Entity::ServiceKey)),
        )
    }
}
