//! Users of an account ("subusers"): create, read, list, update, delete, and their roles.

use serde_json::json;
use tessera_domain::Entity;
use tessera_domain::audit::RequestMeta;
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::permissions::{Capability, Permission};
use tessera_domain::policy::{ResourceKey, ResourceType};
use tessera_domain::ports::{ListQuery, NewUser, Page, RepoError, RoleChange, UserChanges};
use tessera_domain::roles::{Role, RoleId};
use tessera_domain::user::{
    Login, User, UserStatus, check_description, check_email, check_password_policy,
    check_phone_number,
};
use tessera_domain::{DomainError, Secret};

use crate::App;
use crate::authz::{Access, OwnAction, denied_by_policy};
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

/// Changes to a user, applied together or not at all. For a password change by the user
/// itself, `old_password` is required.
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
    /// The complete new set of roles.
    pub roles: Option<Vec<RoleId>>,
}

impl UpdateSubuser {
    /// Whether the change touches only what self-service covers (profile fields, password).
    fn is_profile_only(&self) -> bool {
        self.status.is_none() && self.roles.is_none()
    }

    /// Whether the change names nothing at all.
    fn is_empty(&self) -> bool {
        self.email.is_none()
            && self.phone_number.is_none()
            && self.description.is_none()
            && self.status.is_none()
            && self.new_password.is_none()
            && self.roles.is_none()
    }
}

fn check_optional(
    value: Option<&str>,
    check: fn(&str) -> Result<(), DomainError>,
) -> AppResult<()> {
    value.map_or(Ok(()), check).map_err(Into::into)
}

/// Sorted, without duplicates, each in the catalog.
pub(crate) fn checked_roles(roles: &[RoleId]) -> AppResult<Vec<RoleId>> {
    let mut roles = roles.to_vec();
    roles.sort_unstable();
    roles.dedup();
    for r in &roles {
        Role::by_id(*r)?;
    }
    Ok(roles)
}

impl App {
    fn load_user(&self, account: AccountId, id: UserId) -> AppResult<User> {
        self.ports
            .users
            .get_user(account, id)
            .map_err(AppError::from_repo(Entity::User))
    }

    /// Creates a user with roles. A new user has no permissions to lose, so only the grant of
    /// each role is checked.
    ///
    /// # Errors
    /// `Forbidden` without User Management write; `RoleNotGrantable` for a role the principal
    /// may not grant; `Invalid` for a broken rule (login, password, email, phone, unknown role);
    /// `TooManyUsers` (checked in the inserting transaction); `Conflict(Login)`.
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
        let roles = checked_roles(&cmd.roles)?;
        self.authorize_role_grants(principal, account, &roles)?;
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
        let limit = self.settings.max_users_per_account;
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
                limit,
                &audit,
            )
            .map_err(|e| match e {
                RepoError::LimitReached => AppError::TooManyUsers(limit),
                other => AppError::from_repo(Entity::User)(other),
            })
    }

    /// One user: with User Management read, or the user itself (self-service).
    ///
    /// # Errors
    /// `NotFound(User)` (also for another account's user), `Forbidden` without User
    /// Management read or when a deny policy covers the user.
    pub fn get_subuser(
        &self,
        principal: &Principal,
        account: AccountId,
        id: UserId,
    ) -> AppResult<User> {
        self.authorize_or_own(
            principal,
            account,
            READ,
            Some(&user_key(id)),
            Some((id, OwnAction::Read)),
        )?;
        self.load_user(account, id)
    }

    /// The users of `account` among `ids` (to show the owners of keys), in one go; users a
    /// deny policy hides from the principal (on them, or account-wide) are left out.
    ///
    /// # Errors
    /// `Forbidden` without User Management read or API Credentials read.
    pub fn get_subusers(
        &self,
        principal: &Principal,
        account: AccountId,
        ids: &[UserId],
    ) -> AppResult<Vec<User>> {
        if !self.holds(principal, account, READ, None)? {
            self.authorize(
                principal,
                account,
                Permission::read(Capability::ApiCredentials),
                None,
            )?;
        }
        let mut users = self.ports.users.get_users(account, ids)?;
        let mut shown = Vec::with_capacity(users.len());
        for user in users.drain(..) {
            let d = self.decide(principal, account, READ, Some(&user_key(user.id)))?;
            if !denied_by_policy(&d.reasons) {
                shown.push(user);
            }
        }
        Ok(shown)
    }

    /// A page of the account's users, with their roles; users a deny policy hides from the
    /// principal are neither listed nor counted.
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
        let mut query = query.clone();
        query.hidden = Self::hidden(principal, ResourceType::User, READ);
        Ok(self.ports.users.list_users(account, &query)?)
    }

    /// Updates a user: profile fields, status, password and roles, in one transaction.
    ///
    /// Users change their own email (outside SSO-enforced domains), phone, description and
    /// password (giving the old one) by self-service. Anything else, or another user, needs
    /// User Management write and the right to manage the user; new roles need the right to
    /// grant every role added or taken away. A new password ends the user's sessions.
    ///
    /// # Errors
    /// `Invalid` (nothing to change; a bad field; a wrong old password names `old_password`);
    /// `OldPasswordRequired`; `LastOwner`; `NotFound`; `Forbidden`; `RoleNotGrantable`.
    pub fn update_subuser(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        id: UserId,
        cmd: UpdateSubuser,
    ) -> AppResult<User> {
        if cmd.is_empty() {
            return Err(DomainError::invalid("body", "names nothing to change").into());
        }
        let own = Self::acts_as(principal, account, id);
        let access = if cmd.is_profile_only() {
            self.authorize_or_own(
                principal,
                account,
                WRITE,
                Some(&user_key(id)),
                Some((id, OwnAction::EditProfile)),
            )?
        } else {
            self.authorize(principal, account, WRITE, Some(&user_key(id)))?;
            Access::Granted
        };
        let target = self.load_user(account, id)?;
        let roles = cmd.roles.as_deref().map(checked_roles).transpose()?;
        // Editing one's own profile is self-service even for a principal that holds User
        // Management: it changes nobody's permissions.
        if !(own && cmd.is_profile_only()) {
            match &roles {
                Some(after) => {
                    self.authorize_role_change(principal, account, &target.roles, after)?;
                }
                None => self.authorize_manage(principal, account, &target.roles)?,
            }
            // Setting someone else's password hands over all that user may do.
            if cmd.new_password.is_some() && principal.user_id != Some(id) {
                self.authorize_takeover(principal, account, &target)?;
            }
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
        if let (Access::Own(_), Some(email)) = (access, &cmd.email) {
            self.check_own_email_change(&target, email.as_deref())?;
        }
        // The user's own password needs the old one, whatever the credential: a service key
        // must not turn itself into its owner's interactive login.
        let own_password = principal.account_id == account && principal.user_id == Some(id);
        let password_hash = match &cmd.new_password {
            None => None,
            Some(new) => {
                check_password_policy(new)?;
                if own_password {
                    self.check_old_password(account, &target, cmd.old_password.as_ref())?;
                }
                Some(self.ports.hasher.hash(new)?)
            }
        };
        let fields: Vec<&str> = [
            cmd.email.is_some().then_some("email"),
            cmd.phone_number.is_some().then_some("phone_number"),
            cmd.description.is_some().then_some("description"),
            cmd.status.map(|_| "status"),
            cmd.new_password.is_some().then_some("password"),
            roles.is_some().then_some("roles"),
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
            json!({ "fields": fields, "status": cmd.status, "roles": roles }),
        );
        let changes = UserChanges {
            email: cmd.email,
            phone_number: cmd.phone_number,
            description: cmd.description,
            status: cmd.status,
            password_hash,
            roles,
            updated_at: self.ports.clock.now(),
        };
        self.invalidating(
            self.ports
                .users
                .update_user(account, id, &changes, &audit)
                .map_err(AppError::from_repo(Entity::User)),
        )
    }

    /// Self-service may not move an email into or out of a domain an SSO connector of the
    /// account has verified: that would escape (or hijack) the domain's sign-in through SSO,
    /// now or once the connector is enabled.
    fn check_own_email_change(&self, target: &User, new: Option<&str>) -> AppResult<()> {
        for email in [target.email.as_deref(), new].into_iter().flatten() {
            if let Some(domain) = self.verified_sso_domain(target.account_id, email)? {
                return Err(DomainError::invalid(
                    "email",
                    format!(
                        "addresses in {domain} are managed through its SSO connector; \
                         ask an administrator to change yours"
                    ),
                )
                .into());
            }
        }
        Ok(())
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
    /// `LastOwner`; `NotFound`; `Forbidden` without User Management write or the right to
    /// manage the user.
    pub fn delete_subuser(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        id: UserId,
    ) -> AppResult<()> {
        self.authorize(principal, account, WRITE, Some(&user_key(id)))?;
        let target = self.load_user(account, id)?;
        self.authorize_manage(principal, account, &target.roles)?;
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

    /// Adds, removes or replaces a user's roles. The principal must be able to manage the user
    /// and grant every role added or taken away.
    ///
    /// # Errors
    /// `Invalid(UnknownRoleId)`; `LastOwner`; `KeysHoldRoles` (a removal without `from_keys`
    /// while the user's keys hold a removed role); `NotFound`; `Forbidden`;
    /// `RoleNotGrantable`.
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
        let named = checked_roles(&named)?;
        let target = self.load_user(account, id)?;
        let after = change.apply(&target.roles);
        self.authorize_role_change(principal, account, &target.roles, &after)?;
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
