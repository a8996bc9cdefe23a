//! Members of user groups: who the group's policies reach.

use serde_json::json;
use tessera_domain::Entity;
use tessera_domain::audit::RequestMeta;
use tessera_domain::groups::{Member, MemberStatus, UserGroup};
use tessera_domain::ids::{AccountId, UserGroupId, UserId};
use tessera_domain::policy::ResourceType;

use super::user_groups::ug_key;
use super::{READ, WRITE, handed_out};
use crate::App;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;

impl App {
    /// Group `group` of `account` with its policies, and its members.
    fn group_and_members(
        &self,
        account: AccountId,
        group: UserGroupId,
    ) -> AppResult<(UserGroup, Vec<Member>)> {
        let not_found = AppError::from_repo(Entity::UserGroup);
        let current = self
            .ports
            .user_groups
            .get_user_group(account, group)
            .map_err(not_found)?;
        let members = self
            .ports
            .user_groups
            .list_members(account, group)
            .map_err(AppError::from_repo(Entity::UserGroup))?;
        Ok((current, members))
    }

    /// The group's members, but those a deny policy hides from the principal.
    ///
    /// # Errors
    /// `NotFound(UserGroup)`; `Forbidden`.
    pub fn list_members(
        &self,
        principal: &Principal,
        account: AccountId,
        group: UserGroupId,
    ) -> AppResult<Vec<Member>> {
        self.authorize(principal, account, READ, Some(&ug_key(group)))?;
        let hidden = Self::hidden(principal, ResourceType::User, READ);
        let mut members = self
            .ports
            .user_groups
            .list_members(account, group)
            .map_err(AppError::from_repo(Entity::UserGroup))?;
        members.retain(|m| !hidden.contains(&m.user_id.to_string()));
        Ok(members)
    }

    /// Adds members (or, with `replace`, sets the exact list). Joining a group hands a user its
    /// allows and puts its denies on it; leaving lifts both. So the caller must be able to
    /// manage every user whose membership changes, hold every permission the group allows when
    /// someone joins, and every permission it denies when someone leaves.
    ///
    /// # Errors
    /// `NotFound(UserGroup)`, `NotFound(User)`; `Forbidden`.
    pub fn set_members(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        group: UserGroupId,
        members: Vec<(UserId, MemberStatus)>,
        replace: bool,
    ) -> AppResult<Vec<Member>> {
        self.authorize(principal, account, WRITE, Some(&ug_key(group)))?;
        let (current, before) = self.group_and_members(account, group)?;
        let joining: Vec<UserId> = members
            .iter()
            .filter(|(u, s)| !before.iter().any(|m| m.user_id == *u && m.status == *s))
            .map(|(u, _)| *u)
            .collect();
        let leaving: Vec<UserId> = before
            .iter()
            .filter(|m| {
                let kept = members.iter().find(|(u, _)| *u == m.user_id);
                match kept {
                    Some((_, status)) => *status != m.status,
                    None => replace,
                }
            })
            .map(|m| m.user_id)
            .collect();
        if !joining.is_empty() {
            self.authorize_holds(principal, account, handed_out(&[], &current.policies))?;
        }
        if !leaving.is_empty() {
            self.authorize_holds(principal, account, handed_out(&current.policies, &[]))?;
        }
        let mut affected: Vec<UserId> = joining.into_iter().chain(leaving).collect();
        affected.sort_unstable();
        affected.dedup();
        self.authorize_manage_users(principal, account, &affected)?;
        let action = if replace {
            "user_group.members.set"
        } else {
            "user_group.members.add"
        };
        let audit = self.audit_record(
            principal,
            meta,
            account,
            action,
            None,
            json!({ "members": members.iter().map(|(u, _)| u.0).collect::<Vec<_>>() }),
        );
        self.invalidating(
            self.ports
                .user_groups
                .set_members(
                    account,
                    group,
                    &members,
                    replace,
                    self.ports.clock.now(),
                    &audit,
                )
                .map_err(AppError::from_repo(Entity::User)),
        )
    }

    /// Removes a member: the caller must be able to manage it and hold what the group denies
    /// (leaving lifts those denies).
    ///
    /// # Errors
    /// `NotFound(Member)`; `NotFound(UserGroup)`; `Forbidden`.
    pub fn remove_member(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        group: UserGroupId,
        user: UserId,
    ) -> AppResult<Member> {
        self.authorize(principal, account, WRITE, Some(&ug_key(group)))?;
        let (current, members) = self.group_and_members(account, group)?;
        let is_member = members.iter().any(|m| m.user_id == user);
        if !is_member {
            return Err(AppError::NotFound(Entity::Member));
        }
        self.authorize_holds(principal, account, handed_out(&current.policies, &[]))?;
        self.authorize_manage_users(principal, account, &[user])?;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "user_group.members.remove",
            None,
            json!({ "user_id": user }),
        );
        self.invalidating(
            self.ports
                .user_groups
                .remove_member(account, group, user, &audit)
                .map_err(AppError::from_repo(Entity::Member)),
        )
    }
}
