//! An administrator's reset of a user's second factor (a lost phone): the same rules as the
//! rest of user management — User Management write on the user and the right to manage it
//! (holding every permission of its roles), another account's user not found.

use serde_json::json;
use tessera_domain::audit::RequestMeta;
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::permissions::{Capability, Permission};
use tessera_domain::policy::{ResourceKey, ResourceType};
use tessera_domain::{DomainError, Entity};

use crate::App;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;

impl App {
    /// Removes `user`'s enrolment (pending or confirmed) with its recovery codes; its next
    /// password sign-in needs no code (or, where the account requires one, enrols anew).
    /// Sessions already open stay. Audited as `mfa.reset`.
    ///
    /// A caller's own second factor is not reset this way: removing it takes a current code
    /// (`DELETE /v1/mfa/totp`), so that a stolen session of an administrator cannot shed it.
    ///
    /// # Errors
    /// `Forbidden` without User Management write on the user or the right to manage it;
    /// `NotFound(User)` (another account's user included); `Invalid` naming `user_id` for the
    /// caller itself; `NotFound(TotpEnrolment)` when the user has none.
    pub fn reset_mfa(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        user: UserId,
    ) -> AppResult<()> {
        self.authorize(
            principal,
            account,
            Permission::write(Capability::UserManagement),
            Some(&ResourceKey::new(ResourceType::User, user)),
        )?;
        let target = self
            .ports
            .users
            .get_user(account, user)
            .map_err(AppError::from_repo(Entity::User))?;
        if principal.account_id == account && principal.user_id == Some(user) {
            return Err(DomainError::invalid(
                "user_id",
                "your own second factor is removed with DELETE /v1/mfa/totp and a current code",
            )
            .into());
        }
        self.authorize_manage(principal, account, &target.roles)?;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "mfa.reset",
            Some(format!("user:{user}")),
            json!({ "login": target.login.as_str() }),
        );
        self.ports
            .mfa
            .remove_totp_enrolment(account, user, &audit)
            .map_err(AppError::from_repo(Entity::TotpEnrolment))
    }
}
