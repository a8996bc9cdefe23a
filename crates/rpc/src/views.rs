//! Result shapes: `RoleView`, `RoleGroupView`, `SubUserView`, `KeyView`, `KeyInfo`,
//! `AuthorizedIpView`, `AccountInfoView`.

use serde::Serialize;
use tessera_app::CreatedServiceKey;
use tessera_domain::account::Account;
use tessera_domain::authorized_ips::AuthorizedIp;
use tessera_domain::keys::ServiceKey;
use tessera_domain::roles::{Role, RoleGroup, RoleId};
use tessera_domain::user::User;
use utoipa::ToSchema;

/// The API's date-time format: UTC, `YYYY-MM-DD HH:MM:SS`.
const API_DATE_TIME: &str = "%Y-%m-%d %H:%M:%S";

/// An entry of the account's authorized IPs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AuthorizedIpView {
    /// The address (`192.0.2.1`) or network (`192.0.2.0/24`).
    pub authorized_ip: String,
    /// `true`: allowed; `false`: denied.
    pub allowed: bool,
    /// What it is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When it was added, UTC, `YYYY-MM-DD HH:MM:SS`.
    #[schema(example = "2026-11-30 12:00:00")]
    pub created: String,
}

impl From<&AuthorizedIp> for AuthorizedIpView {
    fn from(e: &AuthorizedIp) -> Self {
        Self {
            authorized_ip: e.network.to_string(),
            allowed: e.allowed,
            description: e.description.clone(),
            created: e.created.format(API_DATE_TIME).to_string(),
        }
    }
}

/// A role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RoleView {
    /// Id.
    pub role_id: i64,
    /// Name.
    pub role_name: &'static str,
    /// Held through its parent (expanded views only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inherited: Option<bool>,
    /// Parent role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_role_id: Option<i64>,
    /// Child roles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_ids: Option<Vec<i64>>,
    /// Shown only in the control panel (never, here).
    pub gui_only: bool,
}

impl RoleView {
    fn of(role: &Role, details: bool, inherited: Option<bool>) -> Self {
        let children: Vec<i64> = role.children().map(|c| c.id.0).collect();
        Self {
            role_id: role.id.0,
            role_name: role.name,
            inherited,
            parent_role_id: role.parent.filter(|_| details).map(|p| p.0),
            child_ids: (details && !children.is_empty()).then_some(children),
            gui_only: role.gui_only,
        }
    }
}

/// The catalog, optionally one group's roles, with parents and children.
#[must_use]
pub fn catalog(roles: &[Role], group: Option<&str>) -> Vec<RoleView> {
    roles
        .iter()
        .filter(|r| group.is_none_or(|g| r.in_group(g)))
        .map(|r| RoleView::of(r, true, None))
        .collect()
}

/// The views of `ids`; expanded, with parents and children, and the children of held parents
/// listed as `inherited`.
#[must_use]
pub fn roles(ids: &[RoleId], expanded: bool) -> Vec<RoleView> {
    let held: Vec<&Role> = ids.iter().filter_map(|id| Role::by_id(*id).ok()).collect();
    let mut out: Vec<RoleView> = held
        .iter()
        .map(|r| RoleView::of(r, expanded, expanded.then_some(false)))
        .collect();
    if expanded {
        for parent in &held {
            for child in parent.children() {
                if !ids.contains(&child.id) && !out.iter().any(|v| v.role_id == child.id.0) {
                    out.push(RoleView::of(child, true, Some(true)));
                }
            }
        }
    }
    out
}

/// A role group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RoleGroupView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: &'static str,
}

impl From<&RoleGroup> for RoleGroupView {
    fn from(g: &RoleGroup) -> Self {
        Self {
            id: g.id.0,
            name: g.name,
        }
    }
}

/// Every role group.
#[must_use]
pub fn role_groups(groups: &[RoleGroup]) -> Vec<RoleGroupView> {
    groups.iter().map(RoleGroupView::from).collect()
}

/// A subuser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SubUserView {
    /// Id.
    pub subuser_id: i64,
    /// Login.
    pub subuser_name: String,
    /// Description.
    pub description: Option<String>,
    /// Roles (`with_roles`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<RoleView>>,
}

impl SubUserView {
    /// The view of `user`, with its roles when asked.
    #[must_use]
    pub fn of(user: &User, with_roles: bool) -> Self {
        Self {
            subuser_id: user.id.0,
            subuser_name: user.login.as_str().to_owned(),
            description: user.description.clone(),
            roles: with_roles.then(|| roles(&user.roles, false)),
        }
    }
}

/// A service key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct KeyView {
    /// Id.
    pub key_id: String,
    /// Name.
    pub key_name: String,
    /// Description.
    pub description: Option<String>,
    /// Roles (`with_roles`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<RoleView>>,
    /// The subuser the key belongs to (absent for the account's keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subuser: Option<Vec<SubUserView>>,
}

impl KeyView {
    /// The view of `key`; `owner` is its subuser, when it has one.
    #[must_use]
    pub fn of(key: &ServiceKey, with_roles: bool, owner: Option<&User>) -> Self {
        Self {
            key_id: key.id.to_string(),
            key_name: key.name.clone(),
            description: key.description.clone(),
            roles: with_roles.then(|| roles(&key.roles, false)),
            subuser: owner.map(|u| vec![SubUserView::of(u, false)]),
        }
    }
}

/// The credentials file the official clients load: shown once, by `CreateKey`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct KeyInfo {
    /// The account's email.
    pub account_email: String,
    /// The account.
    pub account_id: i64,
    /// The key (the JWT's `kid`).
    pub key_id: String,
    /// PKCS#8 PEM.
    pub private_key: String,
}

impl From<&CreatedServiceKey> for KeyInfo {
    fn from(c: &CreatedServiceKey) -> Self {
        Self {
            account_email: c.account_email.clone(),
            account_id: c.key.account_id.0,
            key_id: c.key.id.to_string(),
            private_key: c.private_key.expose().to_owned(),
        }
    }
}

/// The form of Voximplant times: `YYYY-MM-DD HH:MM:SS`, UTC (what the official clients parse).
const VOX_TIME: &str = "%Y-%m-%d %H:%M:%S";

/// An account, as `GetAccountInfo` answers it: Voximplant's `AccountInfoType` without the
/// billing fields (balance, currency, billing limits) Tessera does not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AccountInfoView {
    /// Id.
    pub account_id: i64,
    /// Name.
    pub account_name: String,
    /// Contact email.
    pub account_email: String,
    /// Whether the account is active.
    pub active: bool,
    /// Creation time, UTC, `YYYY-MM-DD HH:MM:SS`.
    #[schema(example = "2026-11-30 12:00:00")]
    pub created: String,
}

impl From<&Account> for AccountInfoView {
    fn from(a: &Account) -> Self {
        Self {
            account_id: a.id.0,
            account_name: a.name.clone(),
            account_email: a.email.clone(),
            active: a.active,
            created: a.created_at.format(VOX_TIME).to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use tessera_domain::roles::{ROLES, ids};

    use super::*;

    #[test]
    fn expanded_roles_list_children_of_held_parents_as_inherited() {
        let plain = roles(&[ids::USER_MANAGER], false);
        assert_eq!(plain.len(), 1);
        assert_eq!(
            (plain[0].inherited, plain[0].child_ids.as_ref()),
            (None, None)
        );
        let expanded = roles(&[ids::USER_MANAGER, ids::USER_READ], true);
        let names: Vec<_> = expanded
            .iter()
            .map(|r| (r.role_name, r.inherited))
            .collect();
        assert_eq!(
            names,
            vec![
                ("User Manager", Some(false)),
                ("User Read", Some(false)),
                ("User Update", Some(true))
            ]
        );
        assert_eq!(expanded[0].child_ids, Some(vec![12, 13]));
        assert_eq!(expanded[2].parent_role_id, Some(11));
    }

    #[test]
    fn the_catalog_filters_by_group() {
        assert_eq!(catalog(ROLES, None).len(), ROLES.len());
        let restcomm: Vec<_> = catalog(ROLES, Some("Restcomm"))
            .iter()
            .map(|r| r.role_name)
            .collect();
        assert_eq!(
            restcomm,
            vec![
                "Developer",
                "Administrator",
                "Turnkey Applications Administrator",
                "Turnkey Applications Developer"
            ]
        );
        assert!(catalog(ROLES, Some("Nope")).is_empty());
    }

    #[test]
    fn account_info_shows_times_as_the_official_client_parses_them() {
        use chrono::TimeZone;
        let account = Account {
            id: tessera_domain::ids::AccountId(7),
            name: "Acme".into(),
            email: "acme@example.com".into(),
            parent_id: None,
            active: true,
            created_at: chrono::Utc
                .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
                .unwrap()
                .checked_add_signed(chrono::TimeDelta::milliseconds(678))
                .unwrap(),
            max_key_lifetime_days: None,
            require_mfa: false,
        };
        assert_eq!(
            serde_json::to_value(AccountInfoView::from(&account)).unwrap(),
            serde_json::json!({
                "account_id": 7,
                "account_name": "Acme",
                "account_email": "acme@example.com",
                "active": true,
                "created": "2026-01-02 03:04:05"
            })
        );
    }
}
