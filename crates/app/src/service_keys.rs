//! Service keys (Voximplant `CreateKey` & co.): RSA key pairs whose private half is shown once.

use serde_json::json;
use tessera_domain::Entity;
use tessera_domain::Secret;
use tessera_domain::audit::RequestMeta;
use tessera_domain::ids::{AccountId, ServiceKeyId};
use tessera_domain::keys::{ServiceKey, check_key_name};
use tessera_domain::permissions::{Capability, Permission};
use tessera_domain::policy::{self, ResourceKey, ResourceType};
use tessera_domain::ports::{
    ListQuery, NewServiceKey, Page, RepoError, RoleChange, ServiceKeyChanges,
};
use tessera_domain::roles::{Role, RoleId, ids as role_ids};
use tessera_domain::user::check_description;

use crate::App;
use crate::error::{AppError, AppResult};
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
    /// Refuses unless `principal` holds every permission of each role: a key never carries
    /// more than its creator could use.
    fn authorize_key_roles(
        &self,
        principal: &Principal,
        account: AccountId,
        roles: &[RoleId],
    ) -> AppResult<()> {
        for id in roles {
            let role = Role::by_id(*id)?;
            let d = policy::check_holds(&principal.subject, account, &[], role);
            if !d.allowed {
                return Err(AppError::RoleNotGrantable(d.reasons));
            }
        }
        Ok(())
    }

    /// Whether `principal` is the key itself or its owner.
    fn owns_key(principal: &Principal, key: &ServiceKey) -> bool {
        principal.credential == Credential::ServiceKey(key.id)
            || (key.owner.is_some() && key.owner == principal.user_id)
    }

    /// Creates a key. A key created by an account owner (or an account key) belongs to the
    /// account; any other user's key belongs to that user and never exceeds its roles.
    ///
    /// # Errors
    /// `Forbidden` without API Credentials write or for a role the creator does not hold;
    /// `Invalid` for a bad name, description or unknown role; `TooManyKeys`.
    pub fn create_service_key(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        cmd: CreateServiceKey,
    ) -> AppResult<CreatedServiceKey> {
        self.authorize(principal, account, WRITE, None)?;
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
        self.authorize_key_roles(principal, account, &roles)?;
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
            json!({ "name": name, "roles": roles, "owner": owner }),
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

    /// A page of keys. With API Credentials read, every key of the account; otherwise (the
    /// basic method) only the caller's own.
    ///
    /// # Errors
    /// `NotFound(Entity::Account)` for an account the caller cannot see.
    pub fn list_service_keys(
        &self,
        principal: &Principal,
        account: AccountId,
        query: &ListQuery,
    ) -> AppResult<Page<ServiceKey>> {
        match self.authorize(principal, account, READ, None) {
            Ok(()) => Ok(self
                .ports
                .service_keys
                .list_service_keys(account, None, query)?),
            Err(AppError::Forbidden(reasons)) => {
                if let Credential::ServiceKey(own) = principal.credential {
                    let key = self.ports.service_keys.get_service_key(account, own)?;
                    let items: Vec<ServiceKey> = (query.offset == 0 && query.after.is_none())
                        .then_some(key)
                        .into_iter()
                        .collect();
                    Ok(Page { items, total: 1 })
                } else if let Some(user) = principal
                    .user_id
                    .filter(|_| principal.account_id == account)
                {
                    Ok(self
                        .ports
                        .service_keys
                        .list_service_keys(account, Some(user), query)?)
                } else {
                    Err(AppError::Forbidden(reasons))
                }
            }
            Err(e) => Err(e),
        }
    }

    /// One key: its owner (or the key itself) always; others need API Credentials read.
    ///
    /// # Errors
    /// `NotFound(Entity::ServiceKey)`; `Forbidden`.
    pub fn get_service_key(
        &self,
        principal: &Principal,
        account: AccountId,
        id: ServiceKeyId,
    ) -> AppResult<ServiceKey> {
        let key = self
            .ports
            .service_keys
            .get_service_key(account, id)
            .map_err(AppError::from_repo(Entity::ServiceKey));
        match key {
            Ok(k) if principal.account_id == account && Self::owns_key(principal, &k) => Ok(k),
            Ok(k) => {
                self.authorize(principal, account, READ, Some(&key_ref(id)))?;
                Ok(k)
            }
            Err(e) => {
                self.authorize(principal, account, READ, Some(&key_ref(id)))?;
                Err(e)
            }
        }
    }

    fn authorize_key_change(
        &self,
        principal: &Principal,
        account: AccountId,
        id: ServiceKeyId,
    ) -> AppResult<ServiceKey> {
        self.authorize(principal, account, WRITE, Some(&key_ref(id)))?;
        let key = self
            .ports
            .service_keys
            .get_service_key(account, id)
            .map_err(AppError::from_repo(Entity::ServiceKey))?;
        if let Some(owner) = key.owner.filter(|o| principal.user_id != Some(*o)) {
            let user = self
                .ports
                .users
                .get_user(account, owner)
                .map_err(AppError::from_repo(Entity::User))?;
            self.authorize_manage_roles(principal, account, &user.roles)?;
        }
        Ok(key)
    }

    /// Renames or re-describes a key.
    ///
    /// # Errors
    /// `Invalid` for a bad name; `NotFound`; `Forbidden`.
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
        self.authorize_key_change(principal, account, id)?;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "service_key.update",
            None,
            json!({ "name": changes.name }),
        );
        self.ports
            .service_keys
            .update_service_key(account, id, &changes, &audit)
            .map_err(AppError::from_repo(Entity::ServiceKey))
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
        self.authorize_key_change(principal, account, id)?;
        self.authorize_key_roles(principal, account, &named)?;
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
