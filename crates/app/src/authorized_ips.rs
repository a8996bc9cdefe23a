//! Authorized IPs: an account's allow and deny entries, managed with Account Settings, and
//! evaluated at every authentication of the account's credentials (see
//! [`AddressRule`]). A change that would refuse the address making it needs `force`.
//!
//! The rule is enforced in [`App::authenticate`] (and the sign-in): the gatekeeper endpoint,
//! when it is built, must authenticate through it to inherit the rule.

use std::net::IpAddr;

use serde_json::json;
use tessera_domain::Entity;
use tessera_domain::audit::RequestMeta;
use tessera_domain::authorized_ips::{
    AddressRule, AuthorizedIp, IpCheck, MAX_AUTHORIZED_IPS, Network, check, check_description,
};
use tessera_domain::ids::AccountId;
use tessera_domain::permissions::{Capability, Permission};
use tessera_domain::ports::{Page, RepoError};

use crate::App;
use crate::auth::client_address;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;

const READ: Permission = Permission::read(Capability::AccountSettings);
const WRITE: Permission = Permission::write(Capability::AccountSettings);

/// A new entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddAuthorizedIp {
    /// The address or network.
    pub network: Network,
    /// `true`: allow; `false`: deny.
    pub allowed: bool,
    /// What it is for (empty: none).
    pub description: Option<String>,
    /// Make the change even if it refuses the caller's own address.
    pub force: bool,
}

/// Which entries a removal names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpTarget {
    /// The entry for exactly this network.
    Network(Network),
    /// Every entry containing this address.
    Containing(IpAddr),
    /// Every entry.
    All,
}

/// A removal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeleteAuthorizedIps {
    /// The entries named.
    pub target: IpTarget,
    /// Only allow (`true`) or deny (`false`) entries; `None`: both.
    pub allowed: Option<bool>,
    /// Make the change even if it refuses the caller's own address.
    pub force: bool,
}

/// Which entries to list, and which page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedIpFilter {
    /// Exactly this network.
    pub network: Option<Network>,
    /// Allow or deny entries only.
    pub allowed: Option<bool>,
    /// Entries containing this address.
    pub containing: Option<IpAddr>,
    /// Entries whose description contains this text (case-insensitive).
    pub description: Option<String>,
    /// Page size.
    pub limit: u32,
    /// Entries to skip.
    pub offset: u64,
}

impl Default for AuthorizedIpFilter {
    fn default() -> Self {
        Self {
            network: None,
            allowed: None,
            containing: None,
            description: None,
            limit: 20,
            offset: 0,
        }
    }
}

impl AuthorizedIpFilter {
    fn matches(&self, e: &AuthorizedIp) -> bool {
        self.network.is_none_or(|n| n == e.network)
            && self.allowed.is_none_or(|a| a == e.allowed)
            && self.containing.is_none_or(|ip| e.network.contains(ip))
            && self.description.as_ref().is_none_or(|d| {
                e.description
                    .as_ref()
                    .is_some_and(|have| have.to_lowercase().contains(&d.to_lowercase()))
            })
    }
}

/// One page of an account's entries.
pub type AuthorizedIpPage = Page<AuthorizedIp>;

impl DeleteAuthorizedIps {
    fn names(&self, e: &AuthorizedIp) -> bool {
        let target = match self.target {
            IpTarget::Network(n) => n == e.network,
            IpTarget::Containing(ip) => e.network.contains(ip),
            IpTarget::All => true,
        };
        target && self.allowed.is_none_or(|a| a == e.allowed)
    }
}

fn target_text(target: IpTarget) -> String {
    match target {
        IpTarget::Network(n) => n.to_string(),
        IpTarget::Containing(ip) => format!("contains {ip}"),
        IpTarget::All => "all".into(),
    }
}

impl App {
    /// The address conditions of a credential of `account` with `key` (its own `allowed_ips`).
    ///
    /// # Errors
    /// Storage errors.
    pub(crate) fn address_rule(
        &self,
        account: AccountId,
        key: Vec<Network>,
    ) -> AppResult<AddressRule> {
        Ok(AddressRule {
            account: self.ports.authorized_ips.list_authorized_ips(account)?,
            key,
        })
    }

    /// Whether the account's list admits a password sign-in from the request's address.
    ///
    /// # Errors
    /// Storage errors.
    pub(crate) fn sign_in_address_admitted(
        &self,
        account: AccountId,
        meta: &RequestMeta,
    ) -> AppResult<bool> {
        Ok(self
            .address_rule(account, Vec::new())?
            .admits(client_address(meta)))
    }

    /// Refuses a change of `account`'s list from `before` to `after` that would refuse the
    /// caller's own address (when the list governs the caller's credentials: its own account),
    /// unless `force`.
    fn guard_lockout(
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        before: &[AuthorizedIp],
        after: Vec<AuthorizedIp>,
        force: bool,
    ) -> AppResult<()> {
        if force || account != principal.account_id {
            return Ok(());
        }
        let address = client_address(meta);
        let admits = |list: Vec<AuthorizedIp>| {
            AddressRule {
                account: list,
                key: Vec::new(),
            }
            .admits(address)
        };
        if admits(before.to_vec()) && !admits(after) {
            return Err(AppError::WouldLockOut(
                address.map_or_else(|| "unknown".into(), |a| a.to_string()),
            ));
        }
        Ok(())
    }

    fn load_authorized_ips(&self, account: AccountId) -> AppResult<Vec<AuthorizedIp>> {
        self.ports
            .authorized_ips
            .list_authorized_ips(account)
            .map_err(AppError::from_repo(Entity::AuthorizedIp))
    }

    /// Adds an allow or deny entry (Account Settings write).
    ///
    /// # Errors
    /// `Invalid` for a bad description; `Conflict(Field::AuthorizedIp)` when the network is
    /// listed already; `TooManyAuthorizedIps`; `WouldLockOut` without `force`; `Forbidden`;
    /// `NotFound(Account)`.
    pub fn add_authorized_ip(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        cmd: AddAuthorizedIp,
    ) -> AppResult<AuthorizedIp> {
        self.authorize(principal, account, WRITE, None)?;
        let description = cmd.description.filter(|d| !d.is_empty());
        if let Some(d) = &description {
            check_description(d)?;
        }
        let entry = AuthorizedIp {
            network: cmd.network,
            allowed: cmd.allowed,
            description,
            created: self.ports.clock.now(),
        };
        let before = self.load_authorized_ips(account)?;
        let mut after = before.clone();
        after.push(entry.clone());
        Self::guard_lockout(principal, meta, account, &before, after, cmd.force)?;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "authorized_ip.add",
            Some(format!("authorized_ip:{}", entry.network)),
            json!({
                "authorized_ip": entry.network.to_string(),
                "allowed": entry.allowed,
                "description": entry.description,
                "force": cmd.force,
            }),
        );
        let limit = u32::try_from(MAX_AUTHORIZED_IPS).unwrap_or(u32::MAX);
        let added = self
            .ports
            .authorized_ips
            .add_authorized_ip(account, &entry, limit, &audit)
            .map_err(|e| match e {
                RepoError::LimitReached => AppError::TooManyAuthorizedIps(limit),
                other => AppError::from_repo(Entity::AuthorizedIp)(other),
            });
        self.invalidating(added).map(|()| entry)
    }

    /// Removes the entries `cmd` names (Account Settings write); answers how many went (none
    /// is no error, and changes nothing).
    ///
    /// # Errors
    /// `WouldLockOut` without `force`; `Forbidden`; `NotFound(Account)`.
    pub fn delete_authorized_ips(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        account: AccountId,
        cmd: DeleteAuthorizedIps,
    ) -> AppResult<u64> {
        self.authorize(principal, account, WRITE, None)?;
        let before = self.load_authorized_ips(account)?;
        let (gone, after): (Vec<AuthorizedIp>, Vec<AuthorizedIp>) =
            before.iter().cloned().partition(|e| cmd.names(e));
        if gone.is_empty() {
            return Ok(0);
        }
        Self::guard_lockout(principal, meta, account, &before, after, cmd.force)?;
        let audit = self.audit_record(
            principal,
            meta,
            account,
            "authorized_ip.delete",
            Some("authorized_ips".into()),
            json!({
                "target": target_text(cmd.target),
                "allowed": cmd.allowed,
                "force": cmd.force,
            }),
        );
        let networks: Vec<Network> = gone.iter().map(|e| e.network).collect();
        self.invalidating(
            self.ports
                .authorized_ips
                .delete_authorized_ips(account, &networks, cmd.allowed, &audit)
                .map_err(AppError::from_repo(Entity::AuthorizedIp)),
        )
    }

    /// A page of the account's entries matching `filter`, oldest first (Account Settings
    /// read).
    ///
    /// # Errors
    /// `Forbidden`; `NotFound(Account)`.
    pub fn list_authorized_ips(
        &self,
        principal: &Principal,
        account: AccountId,
        filter: &AuthorizedIpFilter,
    ) -> AppResult<AuthorizedIpPage> {
        self.authorize(principal, account, READ, None)?;
        let matching: Vec<AuthorizedIp> = self
            .load_authorized_ips(account)?
            .into_iter()
            .filter(|e| filter.matches(e))
            .collect();
        let total = i64::try_from(matching.len()).unwrap_or(i64::MAX);
        let items = matching
            .into_iter()
            .skip(usize::try_from(filter.offset).unwrap_or(usize::MAX))
            .take(filter.limit as usize)
            .collect();
        Ok(Page { items, total })
    }

    /// Whether the account's list admits `address`, and the entry that decided (Account
    /// Settings read). A key's own `allowed_ips` are not consulted: this is the account's rule.
    ///
    /// # Errors
    /// `Forbidden`; `NotFound(Account)`.
    pub fn check_authorized_ip(
        &self,
        principal: &Principal,
        account: AccountId,
        address: IpAddr,
    ) -> AppResult<IpCheck> {
        self.authorize(principal, account, READ, None)?;
        Ok(check(&self.load_authorized_ips(account)?, address))
    }
}

#[cfg(test)]
mod tests;
