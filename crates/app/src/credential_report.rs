//! The credential report: every user and key of an account, with its status, creation, last
//! use (time and client address) and expiry — or, filtered, the keys unused for N days.
//!
//! Reading it takes User Management read and API Credentials read (it shows every user and
//! every key); a deny policy hides from it what it hides from the lists (deny is total).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use tessera_domain::DomainError;
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::keys::KeyStatus;
use tessera_domain::mfa::MfaKind;
use tessera_domain::permissions::{Capability, Permission};
use tessera_domain::policy::ResourceType;
use tessera_domain::ports::ListQuery;
use tessera_domain::user::UserStatus;

use crate::App;
use crate::error::AppResult;
use crate::principal::Principal;

const USERS_READ: Permission = Permission::read(Capability::UserManagement);
const KEYS_READ: Permission = Permission::read(Capability::ApiCredentials);

/// Largest `unused_days` accepted (about 100 years).
pub const MAX_UNUSED_DAYS: u32 = 36_500;

/// Rows read per storage query while building the report.
const CHUNK: u32 = 1000;

/// What the report holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportFilter {
    /// Only the keys (access and service keys) not used for this many days: last used, or
    /// created and never used, at least this long ago. Users are left out.
    pub unused_days: Option<u32>,
}

/// The kind of credential a row describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// A user (its password sign-in).
    User,
    /// A Restcomm access key.
    AccessKey,
    /// A service key (Voximplant key pair).
    ServiceKey,
}

impl CredentialKind {
    /// Wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::AccessKey => "access_key",
            Self::ServiceKey => "service_key",
        }
    }
}

/// A credential's status as the report shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialStatus {
    /// Usable.
    Active,
    /// Refused.
    Inactive,
    /// A user not yet activated.
    Pending,
}

impl CredentialStatus {
    /// Wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Pending => "pending",
        }
    }
}

impl From<UserStatus> for CredentialStatus {
    fn from(s: UserStatus) -> Self {
        match s {
            UserStatus::Active => Self::Active,
            UserStatus::Inactive => Self::Inactive,
            UserStatus::Pending => Self::Pending,
        }
    }
}

impl From<KeyStatus> for CredentialStatus {
    fn from(s: KeyStatus) -> Self {
        match s {
            KeyStatus::Active => Self::Active,
            KeyStatus::Inactive => Self::Inactive,
        }
    }
}

/// One user or key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRow {
    /// What it is.
    pub kind: CredentialKind,
    /// Its id: the user's number, the access key's `AK…`, the service key's UUID.
    pub id: String,
    /// The user it is, or belongs to; `None` for a key of the account itself.
    pub user_id: Option<UserId>,
    /// That user's login.
    pub login: Option<String>,
    /// A key's name.
    pub name: Option<String>,
    /// Status (a service key has none of its own: `active`).
    pub status: CredentialStatus,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last use: a key's last authentication, a user's last password sign-in (a key's kept to
    /// within a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// The client address of that use.
    pub last_used_from: Option<String>,
    /// When it stops working (users have no expiry).
    pub expires_at: Option<DateTime<Utc>>,
    /// The second factor its sign-in needs: `Totp` for a user with a confirmed enrolment;
    /// `None` for other users and for keys (a key is one factor).
    pub mfa: MfaKind,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialReport {
    /// The account.
    pub account_id: AccountId,
    /// When it was made.
    pub generated_at: DateTime<Utc>,
    /// The filter it was made with.
    pub filter: ReportFilter,
    /// Users (by id), then access keys (by user, oldest first), then service keys (by id).
    pub rows: Vec<CredentialRow>,
}

/// Checks `unused_days`: 1 to [`MAX_UNUSED_DAYS`].
fn check_filter(filter: &ReportFilter) -> Result<(), DomainError> {
    match filter.unused_days {
        Some(d) if d == 0 || d > MAX_UNUSED_DAYS => Err(DomainError::invalid(
            "unused_days",
            "must be a whole number of days from 1 to 36500",
        )),
        _ => Ok(()),
    }
}

impl App {
    /// The account's credential report. Needs User Management read and API Credentials read;
    /// users a deny policy hides from the principal (User Management read on them), their
    /// keys, and keys it hides (API Credentials read on them) are left out.
    ///
    /// # Errors
    /// `NotFound(Account)` for an account the principal cannot see; `Forbidden`; `Invalid`
    /// naming `unused_days` outside 1 to 36500.
    pub fn credential_report(
        &self,
        principal: &Principal,
        account: AccountId,
        filter: ReportFilter,
    ) -> AppResult<CredentialReport> {
        self.authorize(principal, account, USERS_READ, None)?;
        self.authorize(principal, account, KEYS_READ, None)?;
        check_filter(&filter)?;
        let now = self.ports.clock.now();
        let hidden_users = Self::hidden(principal, ResourceType::User, USERS_READ);
        // A deny on a user covers its credentials, as in the key lists.
        let hidden_owners: HashSet<i64> = hidden_users
            .iter()
            .chain(&Self::hidden(principal, ResourceType::User, KEYS_READ))
            .filter_map(|id| id.parse().ok())
            .collect();
        let users = self.report_users(account, hidden_users)?;
        let logins: HashMap<UserId, String> = users
            .iter()
            .map(|u| (u.id, u.login.as_str().to_owned()))
            .collect();
        let with_totp: HashSet<UserId> = self
            .ports
            .mfa
            .users_with_totp(account)?
            .into_iter()
            .collect();
        let mut rows: Vec<CredentialRow> = users
            .iter()
            .map(|u| CredentialRow {
                kind: CredentialKind::User,
                id: u.id.to_string(),
                user_id: Some(u.id),
                login: Some(u.login.as_str().to_owned()),
                name: None,
                status: u.status.into(),
                created_at: u.created_at,
                last_used_at: u.last_sign_in_at,
                last_used_from: u.last_sign_in_from.clone(),
                expires_at: None,
                mfa: if with_totp.contains(&u.id) {
                    MfaKind::Totp
                } else {
                    MfaKind::None
                },
            })
            .collect();
        let hidden_access: HashSet<String> =
            Self::hidden(principal, ResourceType::AccessKey, KEYS_READ)
                .into_iter()
                .collect();
        rows.extend(
            self.ports
                .access_keys
                .list_account_access_keys(account)?
                .into_iter()
                .filter(|k| {
                    logins.contains_key(&k.user_id)
                        && !hidden_owners.contains(&k.user_id.0)
                        && !hidden_access.contains(k.id.as_str())
                })
                .map(|k| CredentialRow {
                    kind: CredentialKind::AccessKey,
                    id: k.id.to_string(),
                    user_id: Some(k.user_id),
                    login: logins.get(&k.user_id).cloned(),
                    name: k.name,
                    status: k.status.into(),
                    created_at: k.created_at,
                    last_used_at: k.last_used_at,
                    last_used_from: k.last_used_from,
                    expires_at: k.validity.expires_at,
                    mfa: MfaKind::None,
                }),
        );
        let hidden_keys = Self::hidden(principal, ResourceType::ServiceKey, KEYS_READ);
        let mut after = None;
        loop {
            let query = ListQuery {
                limit: CHUNK,
                after: after.take(),
                hidden: hidden_keys.clone(),
                hidden_owners: hidden_owners.iter().copied().collect(),
                ..ListQuery::default()
            };
            let page = self
                .ports
                .service_keys
                .list_service_keys(account, None, &query)?;
            let full = page.items.len() >= CHUNK as usize;
            after = page.items.last().map(|k| k.id.to_string());
            // A key whose owner was deleted while the report was read goes with it.
            let shown = page
                .items
                .into_iter()
                .filter(|k| k.owner.is_none_or(|o| logins.contains_key(&o)));
            rows.extend(shown.map(|k| CredentialRow {
                kind: CredentialKind::ServiceKey,
                id: k.id.to_string(),
                user_id: k.owner,
                login: k.owner.and_then(|o| logins.get(&o).cloned()),
                name: Some(k.name),
                status: CredentialStatus::Active,
                created_at: k.created_at,
                last_used_at: k.last_used_at,
                last_used_from: k.last_used_from,
                expires_at: k.validity.expires_at,
                mfa: MfaKind::None,
            }));
            if !full || after.is_none() {
                break;
            }
        }
        if let Some(days) = filter.unused_days {
            let cutoff = now - TimeDelta::days(i64::from(days));
            rows.retain(|r| {
                r.kind != CredentialKind::User && r.last_used_at.unwrap_or(r.created_at) <= cutoff
            });
        }
        Ok(CredentialReport {
            account_id: account,
            generated_at: now,
            filter,
            rows,
        })
    }

    /// Every user of `account` but the `hidden` ones, by id, read in chunks.
    fn report_users(
        &self,
        account: AccountId,
        hidden: Vec<String>,
    ) -> AppResult<Vec<tessera_domain::user::User>> {
        let mut users = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let query = ListQuery {
                limit: CHUNK,
                after: after.take(),
                hidden: hidden.clone(),
                ..ListQuery::default()
            };
            let page = self.ports.users.list_users(account, &query)?;
            let full = page.items.len() >= CHUNK as usize;
            after = page.items.last().map(|u| u.id.to_string());
            users.extend(page.items);
            if !full || after.is_none() {
                return Ok(users);
            }
        }
    }
}

#[cfg(test)]
mod tests;
