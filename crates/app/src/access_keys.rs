//! Restcomm access keys: a user's long-term API credentials (at most two, for rotation).

use serde_json::json;
use tessera_domain::Entity;
use tessera_domain::audit::RequestMeta;
use tessera_domain::authorized_ips::check_key_allowed_ips;
use tessera_domain::ids::{AccessKeyId, AccountId, UserId};
use tessera_domain::keys::{AccessKey, MAX_ACCESS_KEYS_PER_USER, access_token};
use tessera_domain::permissions::{Capability, Permission};
use tessera_domain::policy::{ResourceKey, ResourceType};
use tessera_domain::ports::{AccessKeyChanges, NewAccessKey, RepoError};
use tessera_domain::{DomainError, Secret};

use crate::App;
use crate::auth::secret_digest;
use crate::authz::{Access, OwnAction};
use crate::error::{AppError, AppResult};
use crate::principal::Principal;

const READ: Permission = Permission::read(Capability::ApiCredentials);
const WRITE: Permission = Permission::write(Capability::ApiCredentials);

/// A created access key, secret included: shown once.
#[derive(Debug, Clone)]
pub struct CreatedAccessKey {
    /// The key.
    pub key: AccessKey,
    /// The secret (never stored).
    pub secret: Secret,
    /// `tsr_<id>_<secret>`, ready for `Authorization: Bearer`.
    pub token: Secret,
}

fn check_key_label(name: Option<&str>) -> AppResult<()> {
    match name {
        Some(n) if n.chars().count() > 100 => {
            Err(DomainError::invalid("name", "must be at most 100 characters").into())
        }
        _ => Ok(()),
    }
}

impl App {
    /// Users manage their own access keys (self-service, through their own session or access
    /// key); anyone else's need API Credentials on that user (and on the key, when one is
    /// named) and, to change them, the right to manage the user.
    fn authorize_access_keys(
        &self,
        principal: &Principal,
        account: AccountId,
        user: UserId,
        key: Option<&AccessKeyId>,
        permission: Permission,
    ) -> AppResult<()> {
        let own = Some((user, OwnAction::AccessKeys));
        let user_ref = ResourceKey::new(ResourceType::User, user);
        let access = self.authorize_or_own(principal, account, permission, Some(&user_ref), own)?;
        if let Some(key) = key {
            let key_ref = ResourceKey::new(ResourceType::AccessKey, key);
            self.authorize_or_own(principal, account, permission, Some(&key_ref), own)?;
        }
        if access == Access::Granted && !Self::acts_as(principal, account, user) {
            // Someone else's keys are that user's credentials: whoever reads or changes them
            // must be allowed to manage that user, and a deny on the user stops it.
            let manage = Permission::new(Capability::UserManagement, permission.level);
            self.authorize(principal, account, manage, Some(&user_ref))?;
        }
        if access == Access::Granted
            && permission == WRITE
            && !Self::acts_as(principal, account, user)
        {
            let target = self
                .ports
                .users
                .get_user(account, user)
                .map_err(AppError::from_repo(Entity::User))?;
            // An access key carries all its user may do: whoever makes or changes one for
            // someone else must hold all of it.
            self.authorize_takeover(principal, account, &target)?;
        }
        Ok(())
    }

    /// Creates an access key for `user`; the secret is in the answer and nowhere else.
    ///
    /// # Errors
    /// `TooManyKeys(2)`; `NotFound(Entity::User)`; `Forbidden`; `Invalid` for a name over 100
    /// characters.
    pub fn create_access_key(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        user: UserId,
        name: Option<String>,
    ) -> AppResult<CreatedAccessKey> {
        self.authorize_access_keys(principal, account, user, None, WRITE)?;
        check_key_label(name.as_deref())?;
        let id: AccessKeyId = self
            .ports
            .ids
            .access_key_id()
            .parse()
            .map_err(|e: DomainError| AppError::Internal(e.to_string()))?;
        let secret = self.ports.ids.secret();
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "access_key.create",
            None,
            json!({ "user_id": user, "name": name }),
        );
        let key = self
            .ports
            .access_keys
            .create_access_key(
                &NewAccessKey {
                    id: id.clone(),
                    account_id: account,
                    user_id: user,
                    name,
                    secret_digest: secret_digest(&secret),
                    created_at: self.ports.clock.now(),
                },
                MAX_ACCESS_KEYS_PER_USER,
                &audit,
            )
            .map_err(|e| match e {
                RepoError::LimitReached => AppError::TooManyKeys(MAX_ACCESS_KEYS_PER_USER),
                other => AppError::from_repo(Entity::User)(other),
            })?;
        let token = access_token(&id, &secret);
        Ok(CreatedAccessKey { key, secret, token })
    }

    /// The user's access keys (never their secrets).
    ///
    /// # Errors
    /// `NotFound(Entity::User)`; `Forbidden`.
    pub fn list_access_keys(
        &self,
        principal: &Principal,
        account: AccountId,
        user: UserId,
    ) -> AppResult<Vec<AccessKey>> {
        self.authorize_access_keys(principal, account, user, None, READ)?;
        self.ports
            .users
            .get_user(account, user)
            .map_err(AppError::from_repo(Entity::User))?;
        let hidden = Self::hidden(principal, ResourceType::AccessKey, READ);
        let mut keys = self.ports.access_keys.list_access_keys(account, user)?;
        keys.retain(|k| !hidden.contains(&k.id.to_string()));
        Ok(keys)
    }

    /// One access key.
    ///
    /// # Errors
    /// `NotFound(Entity::AccessKey)`; `Forbidden`.
    pub fn get_access_key(
        &self,
        principal: &Principal,
        account: AccountId,
        user: UserId,
        id: &AccessKeyId,
    ) -> AppResult<AccessKey> {
        self.authorize_access_keys(principal, account, user, Some(id), READ)?;
        self.ports
            .access_keys
            .get_access_key(account, user, id)
            .map_err(AppError::from_repo(Entity::AccessKey))
    }

    /// Changes status (`active`/`inactive`), name or `allowed_ips`; deactivation and new
    /// `allowed_ips` take effect on the next request.
    ///
    /// # Errors
    /// `NotFound(Entity::AccessKey)`; `Forbidden`; `Invalid`.
    pub fn update_access_key(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        user: UserId,
        id: &AccessKeyId,
        changes: AccessKeyChanges,
    ) -> AppResult<AccessKey> {
        self.authorize_access_keys(principal, account, user, Some(id), WRITE)?;
        if let Some(name) = &changes.name {
            check_key_label(name.as_deref())?;
        }
        if let Some(networks) = &changes.allowed_ips {
            check_key_allowed_ips(networks)?;
        }
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "access_key.update",
            None,
            json!({
                "status": changes.status,
                "name": changes.name,
                "allowed_ips": changes.allowed_ips,
            }),
        );
        self.invalidating(
            self.ports
                .access_keys
                .update_access_key(account, user, id, &changes, &audit)
                .map_err(AppError::from_repo(Entity::AccessKey)),
        )
    }

    /// Deletes an access key; it fails from the next request.
    ///
    /// # Errors
    /// `NotFound(Entity::AccessKey)`; `Forbidden`.
    pub fn delete_access_key(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        user: UserId,
        id: &AccessKeyId,
    ) -> AppResult<()> {
        self.authorize_access_keys(principal, account, user, Some(id), WRITE)?;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "access_key.delete",
            None,
            json!({ "user_id": user }),
        );
        self.invalidating(
            self.ports
                .access_keys
                .delete_access_key(account, user, id, &audit)
                .map_err(AppError::from_repo(Entity::AccessKey)),
        )
    }
}
