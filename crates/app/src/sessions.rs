//! Users' sessions: listing and ending one's own, and another user's with User Management write
//! over that user.
//!
//! A user's sessions are its own: a principal acting as the user itself (through one of its
//! sessions or its own access key; a service key never does) lists and ends them by
//! self-service, unless a deny policy covering User Management on the user refuses it (deny is
//! total). Anyone else needs User Management write on the user and the right to manage it (it
//! holds every permission of the user's roles) — the rule of the other user-management use
//! cases — for reading the list too: it shows where the user signs in from. Another account's
//! user, or another user's session, is not found.
//!
//! Ending sessions stamps the account's authorization version in the ending transaction: every
//! instance drops the principals it cached for that account (at once on Postgres, by
//! notification; within its poll otherwise), so an ended session fails everywhere within the
//! cache's staleness bound.

use serde_json::json;
use tessera_domain::Entity;
use tessera_domain::audit::RequestMeta;
use tessera_domain::ids::{AccountId, SessionId, UserId};
use tessera_domain::keys::Session;
use tessera_domain::permissions::{Capability, Level, Permission};
use tessera_domain::policy::{ResourceKey, ResourceType};
use tessera_domain::ports::{Page, SessionPage};

use crate::App;
use crate::authz::OwnAction;
use crate::error::{AppError, AppResult};
use crate::principal::{Credential, Principal};

const WRITE: Permission = Permission::write(Capability::UserManagement);

/// Most sessions a page holds.
pub const MAX_SESSIONS_PER_PAGE: u32 = 1000;

/// A session as its user (or an administrator) sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSession {
    /// The session.
    pub session: Session,
    /// Whether it is the session the request authenticated with.
    pub current: bool,
}

/// What ending sessions did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndedSessions {
    /// How many sessions ended.
    pub count: u64,
    /// Whether the session the request authenticated with was one of them (a browser signed in
    /// with it should forget its cookie).
    pub current: bool,
}

fn user_key(id: UserId) -> ResourceKey {
    ResourceKey::new(ResourceType::User, id)
}

/// The session `principal` authenticated with, if it did with one.
fn current_session(principal: &Principal) -> Option<SessionId> {
    match principal.credential {
        Credential::Session(id) => Some(id),
        Credential::AccessKey(_) | Credential::ServiceKey(_) | Credential::OAuthToken(_) => None,
    }
}

impl App {
    /// Refuses unless `principal` may see (`Level::Read`) or end (`Level::Write`) the sessions
    /// of `user` in `account`: its own by self-service at that level, anyone else's with User
    /// Management write on the user and the right to manage it.
    ///
    /// # Errors
    /// `Forbidden`; `NotFound(Account)` for an account the principal cannot see;
    /// `NotFound(User)` for a user not in `account`.
    fn authorize_sessions(
        &self,
        principal: &Principal,
        account: AccountId,
        user: UserId,
        level: Level,
    ) -> AppResult<()> {
        let user_ref = user_key(user);
        if Self::acts_as(principal, account, user) {
            let own = Permission::new(Capability::UserManagement, level);
            self.authorize_or_own(
                principal,
                account,
                own,
                Some(&user_ref),
                Some((user, OwnAction::Sessions)),
            )?;
            return Ok(());
        }
        self.authorize(principal, account, WRITE, Some(&user_ref))?;
        let target = self
            .ports
            .users
            .get_user(account, user)
            .map_err(AppError::from_repo(Entity::User))?;
        self.authorize_manage(principal, account, &target.roles)
    }

    /// The user `principal` acts as itself, if any (a service key has no sessions of its own).
    fn own_user(principal: &Principal) -> Option<UserId> {
        principal
            .user_id
            .filter(|u| Self::acts_as(principal, principal.account_id, *u))
    }

    /// A page of the live sessions of `user` in `account`, newest first, with how many there
    /// are in all; `limit` is clamped to 1–[`MAX_SESSIONS_PER_PAGE`].
    ///
    /// # Errors
    /// As `authorize_sessions`: `Forbidden`, `NotFound(Account)`, `NotFound(User)`.
    pub fn list_user_sessions(
        &self,
        principal: &Principal,
        account: AccountId,
        user: UserId,
        limit: u32,
        offset: u64,
    ) -> AppResult<Page<UserSession>> {
        self.authorize_sessions(principal, account, user, Level::Read)?;
        let page = SessionPage {
            limit: limit.clamp(1, MAX_SESSIONS_PER_PAGE),
            offset,
        };
        let now = self.ports.clock.now();
        let sessions = self
            .ports
            .sessions
            .list_sessions(account, user, now, page)?;
        let current = current_session(principal);
        Ok(Page {
            items: sessions
                .items
                .into_iter()
                .map(|session| UserSession {
                    current: Some(session.id) == current,
                    session,
                })
                .collect(),
            total: sessions.total,
        })
    }

    /// The caller's own live sessions (see [`App::list_user_sessions`]); a service key has none.
    ///
    /// # Errors
    /// `Forbidden` when a deny policy refuses the user User Management read on itself.
    pub fn list_own_sessions(
        &self,
        principal: &Principal,
        limit: u32,
        offset: u64,
    ) -> AppResult<Page<UserSession>> {
        match Self::own_user(principal) {
            Some(user) => {
                self.list_user_sessions(principal, principal.account_id, user, limit, offset)
            }
            None => Ok(Page {
                items: Vec::new(),
                total: 0,
            }),
        }
    }

    /// Ends session `id` of `user` in `account`; it fails from the next request, on every
    /// instance.
    ///
    /// # Errors
    /// As `authorize_sessions`; `NotFound(Session)` when the user has no session `id`.
    pub fn end_user_session(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        user: UserId,
        id: SessionId,
    ) -> AppResult<EndedSessions> {
        self.authorize_sessions(principal, account, user, Level::Write)?;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "session.delete",
            Some(format!("user:{user}")),
            json!({ "session_id": id }),
        );
        self.invalidating(
            self.ports
                .sessions
                .delete_session_by_id(account, user, id, &audit)
                .map_err(AppError::from_repo(Entity::Session)),
        )?;
        Ok(EndedSessions {
            count: 1,
            current: current_session(principal) == Some(id),
        })
    }

    /// Ends one of the caller's own sessions (the current one included).
    ///
    /// # Errors
    /// `NotFound(Session)` when the caller has no session `id` (a service key has none);
    /// `Forbidden` when a deny policy refuses the user User Management write on itself.
    pub fn end_own_session(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        id: SessionId,
    ) -> AppResult<EndedSessions> {
        let user = Self::own_user(principal).ok_or(AppError::NotFound(Entity::Session))?;
        self.end_user_session(principal, meta, principal.account_id, user, id)
    }

    /// Ends every session of `user` in `account`.
    ///
    /// # Errors
    /// As `authorize_sessions`.
    pub fn end_user_sessions(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        user: UserId,
    ) -> AppResult<EndedSessions> {
        self.authorize_sessions(principal, account, user, Level::Write)?;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "session.delete_all",
            Some(format!("user:{user}")),
            json!({}),
        );
        let count = self.invalidating(
            self.ports
                .sessions
                .delete_user_sessions(account, user, &audit)
                .map_err(AppError::from_repo(Entity::User)),
        )?;
        let current = current_session(principal).is_some()
            && Self::acts_as(principal, account, user)
            && count > 0;
        Ok(EndedSessions { count, current })
    }

    /// Ends every one of the caller's own sessions, the current one included.
    ///
    /// # Errors
    /// `NotFound(Session)` for a service key (it has no sessions of its own); `Forbidden` when
    /// a deny policy refuses the user User Management write on itself.
    pub fn end_own_sessions(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
    ) -> AppResult<EndedSessions> {
        let user = Self::own_user(principal).ok_or(AppError::NotFound(Entity::Session))?;
        self.end_user_sessions(principal, meta, principal.account_id, user)
    }
}

#[cfg(test)]
mod tests;
