//! Users of an account ("subusers"): create, read, list, update, delete, and their roles.

use serde_json::json;
use tessera_domain::Entity;
use tessera_domain::audit::RequestMeta;
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::permissions::{Capability, Permission};
use tessera_domain::policy::{ResourceKey, ResourceType};
use tessera_domain::ports::{ListQuery, NewUser, Page, RoleChange, UserChanges};
use tessera_domain::roles::{Role, RoleId};
use tessera_domain::user::{
    Login, User, UserStatus, check_description, check_email, check_password_policy,
    check_phone_number,
};
use tessera_domain::{DomainError, Secret};

use crate::App;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;

const READ: Permission = Permission::read(Capability::UserManagement);
const WRITE: Permission = Permission::write(Capability::UserManagement);

fn user_key(id: UserId) -> ResourceKey {
    ResourceKey::new(ResourceType::User, id)
}

/// A new user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateSubuser {
    /// Login (lower-cased and checked).
    pub login: String,
    /// Password (checked against the policy); `None` creates a user who cannot sign in with a
    /// password.
    pub password: Option<Secret>,
    /// Email.
    pub email: Option<String>,
    /// Phone number.
    pub phone_number: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Initial status (`active` unless given).
    pub status: Option<UserStatus>,
    /// Roles to grant.
    pub roles: Vec<RoleId>,
}

/// Changes to a user. For a password change by the user itself, `old_password` is required.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateSubuser {
    /// New email (`Some(None)` clears it).
    pub email: Option<Option<String>>,
    /// New phone number (`Some(None)` clears it).
    pub phone_number: Option<Option<String>>,
    /// New description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// New status.
    pub status: Option<UserStatus>,
    /// New password.
    pub new_password: Option<Secret>,
    /// The current password (required when users change their own).
    pub old_password: Option<Secret>,
}

impl UpdateSubuser {
    fn touches_only_own_profile(&self) -> bool {
        self.status.is_none()
    }
}

fn check_optional(
    value: Option<&str>,
    check: fn(&str) -> Result<(), DomainError>,
) -> AppResult<()> {
    value.map_or(Ok(()), check).map_err(Into::into)
}

impl App {
    /// Refuses unless `principal` could grant every role `target` holds: managing a user whose
    /// roles one could not grant would be an escalation (resetting an owner's password).
    fn authorize_manage(&self, principal: &Principal, target: &User) -> AppResult<()> {
        self.authorize_manage_roles(principal, target.account_id, &target.roles)
    }

    fn load_user(&self, account: AccountId, id: UserId) -> AppResult<User> {
        self.ports
            .users
            .get_user(account, id)
            .map_err(AppError::from_repo(Entity::User))
    }

    /// Creates a user with roles.
    ///
    /// # Errors
    /// `Forbidden` without User Management write or when a role may not be granted; `Invalid`
    /// for a broken rule (login, password, email, phone, unknown role); `TooManyUsers`;
    /// `Conflict(Field::Login)`.
    pub fn create_subuser(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        cmd: CreateSubuser,
    ) -> AppResult<User> {
        self.authorize(principal, account, WRITE, None)?;
        let login = Login::parse(&cmd.login)?;
        if let Some(password) = &cmd.password {
            check_password_policy(password)?;
        }
        check_optional(cmd.email.as_deref(), check_email)?;
        check_optional(cmd.phone_number.as_deref(), check_phone_number)?;
        check_optional(cmd.description.as_deref(), check_description)?;
        let mut roles = cmd.roles.clone();
        roles.sort_unstable();
        roles.dedup();
        for r in &roles {
            Role::by_id(*r)?;
        }
        self.authorize_role_grants(principal, account, &roles)?;
        let limit = self.settings.max_users_per_account;
        if self.ports.users.count_users(account)? >= i64::from(limit) {
            return Err(AppError::TooManyUsers(limit));
        }
        let password_hash = cmd
            .password
            .as_ref()
            .map(|p| self.ports.hasher.hash(p))
            .transpose()?;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "user.create",
            None,
            json!({ "login": login.as_str(), "roles": roles }),
        );
        self.ports
            .users
            .create_user(
                &NewUser {
                    account_id: account,
                    login,
                    email: cmd.email,
                    phone_number: cmd.phone_number,
                    description: cmd.description,
                    status: cmd.status.unwrap_or(UserStatus::Active),
                    password_hash,
                    roles,
                    created_at: self.ports.clock.now(),
                },
                &audit,
            )
            .map_err(AppError::from_repo(Entity::User))
    }

    /// One user. A principal may always read its own user.
    ///
    /// # Errors
    /// `NotFound(Entity::User)` (also for another account's user), `Forbidden` without User
    /// Management read.
    pub fn get_subuser(
        &self,
        principal: &Principal,
        account: AccountId,
        id: UserId,
    ) -> AppResult<User> {
        if !(principal.account_id == account && principal.is_user(id)) {
            self.authorize(principal, account, READ, Some(&user_key(id)))?;
        }
        self.load_user(account, id)
    }

    /// The users of `account` among `ids` (to show the owners of keys), in one go.
    ///
    /// # Errors
    /// `Forbidden` without User Management read or API Credentials read.
    pub fn get_subusers(
        &self,
        principal: &Principal,
        account: AccountId,
        ids: &[UserId],
    ) -> AppResult<Vec<User>> {
        if self.authorize(principal, account, READ, None).is_err() {
            self.authorize(
                principal,
                account,
                Permission::read(Capability::ApiCredentials),
                None,
            )?;
        }
        Ok(self.ports.users.get_users(account, ids)?)
    }

    /// A page of the account's users, with their roles.
    ///
    /// # Errors
    /// `Forbidden` without User Management read.
    pub fn list_subusers(
        &self,
        principal: &Principal,
        account: AccountId,
        query: &ListQuery,
    ) -> AppResult<Page<User>> {
        self.authorize(principal, account, READ, None)?;
        Ok(self.ports.users.list_users(account, query)?)
    }

    /// Updates a user. Users may change their own email, phone, description and password
    /// without User Management (giving the old password); anything else, or another user, needs
    /// User Management write and the right to grant the target's roles.
    ///
    /// # Errors
    /// `OldPasswordRequired`; `Invalid` (a wrong old password names `old_password`); `LastOwner`
    /// when deactivating the last active owner; `NotFound`; `Forbidden`.
    pub fn update_subuser(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        id: UserId,
        cmd: UpdateSubuser,
    ) -> AppResult<User> {
        let own = principal.account_id == account && principal.is_user(id);
        if !(own && cmd.touches_only_own_profile()) {
            self.authorize(principal, account, WRITE, Some(&user_key(id)))?;
        }
        let target = self.load_user(account, id)?;
        if !own {
            self.authorize_manage(principal, &target)?;
        }
        if let Some(Some(email)) = &cmd.email {
            check_email(email)?;
        }
        if let Some(Some(phone)) = &cmd.phone_number {
            check_phone_number(phone)?;
        }
        if let Some(Some(text)) = &cmd.description {
            check_description(text)?;
        }
        let password_hash = match &cmd.new_password {
            None => None,
            Some(new) => {
                check_password_policy(new)?;
                if own {
                    self.check_old_password(account, &target, cmd.old_password.as_ref())?;
                }
                Some(self.ports.hasher.hash(new)?)
            }
        };
        let changes = UserChanges {
            email: cmd.email.clone(),
            phone_number: cmd.phone_number.clone(),
            description: cmd.description.clone(),
            status: cmd.status,
            password_hash,
            updated_at: self.ports.clock.now(),
        };
        let fields: Vec<&str> = [
            cmd.email.is_some().then_some("email"),
            cmd.phone_number.is_some().then_some("phone_number"),
            cmd.description.is_some().then_some("description"),
            cmd.status.map(|_| "status"),
            cmd.new_password.is_some().then_some("password"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "user.update",
            None,
            json!({ "fields": fields, "status": cmd.status }),
        );
        self.invalidating(
            self.ports
                .users
                .update_user(account, id, &changes, &audit)
                .map_err(AppError::from_repo(Entity::User)),
        )
    }

    fn check_old_password(
        &self,
        account: AccountId,
        target: &User,
        old: Option<&Secret>,
    ) -> AppResult<()> {
        let old = old.ok_or(AppError::OldPasswordRequired)?;
        let hash = self
            .ports
            .users
            .find_user_by_login(account, &target.login)?
            .and_then(|u| u.password_hash);
        let matches = match hash {
            Some(hash) => self.ports.hasher.verify(&hash, old)?,
            None => {
                self.ports.hasher.waste_time(old);
                false
            }
        };
        if matches {
            Ok(())
        } else {
            Err(DomainError::invalid("old_password", "does not match the current password").into())
        }
    }

    /// Deletes a user, with its keys and sessions.
    ///
    /// # Errors
    /// `LastOwner`; `NotFound`; `Forbidden`.
    pub fn delete_subuser(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        id: UserId,
    ) -> AppResult<()> {
        self.authorize(principal, account, WRITE, Some(&user_key(id)))?;
        let target = self.load_user(account, id)?;
        self.authorize_manage(principal, &target)?;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "user.delete",
            None,
            json!({ "login": target.login.as_str() }),
        );
        self.invalidating(
            self.ports
                .users
                .delete_user(account, id, &audit)
                .map_err(AppError::from_repo(Entity::User)),
        )
    }

    /// Adds, removes or replaces a user's roles. Every role added or removed must be one the
    /// principal may grant, and the principal must be able to manage the user.
    ///
    /// # Errors
    /// `Invalid(UnknownRoleId)`; `LastOwner`; `NotFound`; `Forbidden`.
    pub fn change_subuser_roles(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        id: UserId,
        change: RoleChange,
    ) -> AppResult<User> {
        self.authorize(principal, account, WRITE, Some(&user_key(id)))?;
        let (action, named) = match &change {
            RoleChange::Add(r) => ("user.roles.add", r.clone()),
            RoleChange::Remove { roles, .. } => ("user.roles.remove", roles.clone()),
            RoleChange::Replace(r) => ("user.roles.set", r.clone()),
        };
        for r in &named {
            Role::by_id(*r)?;
        }
        let target = self.load_user(account, id)?;
        self.authorize_manage(principal, &target)?;
        self.authorize_role_grants(principal, account, &named)?;
        if let RoleChange::Remove {
            roles,
            from_keys: false,
        } = &change
        {
            let keys = self
                .ports
                .service_keys
                .keys_holding_roles(account, id, roles)?;
            if !keys.is_empty() {
                return Err(AppError::KeysHoldRoles(
                    keys.iter().map(ToString::to_string).collect(),
                ));
            }
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
                .users
                .change_user_roles(account, id, &change, self.ports.clock.now(), &audit)
                .map_err(AppError::from_repo(Entity::User)),
        )
    }
}

#[cfg(test)]
mod tests;
