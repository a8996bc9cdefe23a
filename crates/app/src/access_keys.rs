//! Restcomm access keys: a user's long-term API credentials (at most two, for rotation).

use serde_json::json;
use tessera_domain::Entity;
use tessera_domain::audit::RequestMeta;
use tessera_domain::authorized_ips::check_key_allowed_ips;
use tessera_domain::ids::{AccessKeyId, AccountId, UserId};
use tessera_domain::keys::{AccessKey, KeyValidity, MAX_ACCESS_KEYS_PER_USER, access_token};
use tessera_domain::permissions::{Capability, Permission};
use tessera_domain::policy::{ResourceKey, ResourceType};
use tessera_domain::ports::{AccessKeyChanges, NewAccessKey, RepoError};
use tessera_domain::{DomainError, Secret};

use crate::App;
use crate::auth::secret_digest;
use crate::authz::{Access, OwnAction};
use crate::error::{AppError, AppResult};
use crate::key_validity::with_validity;
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

    /// Creates an access key for `user`, working from `validity.not_before` until
    /// `validity.expires_at` (by default, until the account's `max_key_lifetime_days` from now
    /// when it sets one); the secret is in the answer and nowhere else.
    ///
    /// # Errors
    /// `TooManyKeys(2)`; `NotFound(Entity::User)`; `Forbidden`; `Invalid` for a name over 100
    /// characters or a validity [`KeyValidity::check`] refuses.
    pub fn create_access_key(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        user: UserId,
        name: Option<String>,
        validity: KeyValidity,
    ) -> AppResult<CreatedAccessKey> {
        self.authorize_access_keys(principal, account, user, None, WRITE)?;
        check_key_label(name.as_deref())?;
        let validity = self.new_key_validity(account, validity)?;
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
            json!({
                "user_id": user,
                "name": name,
                "not_before": validity.not_before,
                "expires_at": validity.expires_at,
            }),
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
                    validity,
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

    /// The user's access keys (never their secrets); with `expired`, only the keys whose
    /// `expires_at` has passed (`true`) or the others (`false`).
    ///
    /// # Errors
    /// `NotFound(Entity::User)`; `Forbidden`.
    pub fn list_access_keys(
        &self,
        principal: &Principal,
        account: AccountId,
        user: UserId,
        expired: Option<bool>,
    ) -> AppResult<Vec<AccessKey>> {
        self.authorize_access_keys(principal, account, user, None, READ)?;
        self.ports
            .users
            .get_user(account, user)
            .map_err(AppError::from_repo(Entity::User))?;
        let hidden = Self::hidden(principal, ResourceType::AccessKey, READ);
        let mut keys = self.ports.access_keys.list_access_keys(account, user)?;
        keys.retain(|k| !hidden.contains(&k.id.to_string()));
        if let Some(expired) = expired {
            let now = self.ports.clock.now();
            keys.retain(|k| k.validity.is_expired(now) == expired);
        }
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

    /// Changes status (`active`/`inactive`), name, validity or `allowed_ips`; deactivation, a new
    /// validity and new `allowed_ips` take effect on the next request.
    ///
    /// # Errors
    /// `NotFound(Entity::AccessKey)`; `Forbidden`; `Invalid` (a bad name, or a validity
    /// [`KeyValidity::check`] refuses).
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
        let mut changes = changes;
        changes.validity = changes.validity.to_micros();
        if !changes.validity.is_empty() {
            let current = self
                .ports
                .access_keys
                .get_access_key(account, user, id)
                .map_err(AppError::from_repo(Entity::AccessKey))?;
            self.check_validity_change(account, current.validity, changes.validity)?;
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
            with_validity(
                json!({
                    "status": changes.status,
                    "name": changes.name,
                    "allowed_ips": changes.allowed_ips,
                }),
                &changes.validity,
            ),
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
