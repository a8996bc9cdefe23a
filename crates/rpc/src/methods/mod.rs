//! The 16 RoleSystem methods, the 4 authorized-IP methods and `GetAccountInfo`: their typed
//! parameters and the use case each runs. The method
//! adapter decides nothing: each use case checks its own permission, as it does for REST.

pub mod account;
pub mod authorized_ips;
pub mod keys;
pub mod roles;
pub mod subusers;

use std::str::FromStr;

use serde::Serialize;
use serde_json::Value;
use tessera_app::{App, Principal};
use tessera_domain::audit::RequestMeta;
use tessera_domain::roles::{Role, RoleId};

use crate::error::{RpcError, codes};
use crate::params::Params;

macro_rules! methods {
    ($($name:ident => $run:path;)+) => {
        /// A method of the RoleSystem.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Method {
            $(
                #[doc = stringify!($name)]
                $name,
            )+
        }

        impl Method {
            /// Every method.
            pub const ALL: &'static [Method] = &[$(Method::$name),+];

            /// The name clients send as `cmd`.
            #[must_use]
            pub fn name(self) -> &'static str {
                match self { $(Method::$name => stringify!($name)),+ }
            }

            fn run(self, app: &App, p: &Principal, meta: &RequestMeta, params: &Params) -> Result<Value, RpcError> {
                match self { $(Method::$name => $run(app, p, meta, params).and_then(|a| answer(&a))),+ }
            }
        }
    };
}

methods! {
    AddSubUser => subusers::add_sub_user;
    DelSubUser => subusers::del_sub_user;
    GetSubUsers => subusers::get_sub_users;
    SetSubUserInfo => subusers::set_sub_user_info;
    SetSubUserRoles => subusers::set_sub_user_roles;
    RemoveSubUserRoles => subusers::remove_sub_user_roles;
    GetSubUserRoles => subusers::get_sub_user_roles;
    CreateKey => keys::create_key;
    DeleteKey => keys::delete_key;
    UpdateKey => keys::update_key;
    GetKeys => keys::get_keys;
    SetKeyRoles => keys::set_key_roles;
    RemoveKeyRoles => keys::remove_key_roles;
    GetKeyRoles => keys::get_key_roles;
    GetRoles => roles::get_roles;
    GetRoleGroups => roles::get_role_groups;
    AddAuthorizedAccountIP => authorized_ips::add_authorized_account_ip;
    DelAuthorizedAccountIP => authorized_ips::del_authorized_account_ip;
    GetAuthorizedAccountIPs => authorized_ips::get_authorized_account_ips;
    CheckAuthorizedAccountIP => authorized_ips::check_authorized_account_ip;
    GetAccountInfo => account::get_account_info;
}

impl FromStr for Method {
    type Err = RpcError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Method::ALL
            .iter()
            .copied()
            .find(|m| m.name() == s)
            .ok_or_else(|| RpcError::new(codes::UNKNOWN_METHOD, format!("Unknown method '{s}'")))
    }
}

impl Method {
    /// Runs the method in the caller's account; its use case decides whether the caller may.
    ///
    /// # Errors
    /// The method's error, as a code.
    pub fn call(
        self,
        app: &App,
        p: &Principal,
        meta: &RequestMeta,
        params: &Params,
    ) -> Result<Value, RpcError> {
        self.run(app, p, meta, params)
    }
}

/// The answer as JSON.
fn answer(a: &impl Serialize) -> Result<Value, RpcError> {
    serde_json::to_value(a).map_err(|e| {
        RpcError::from(tessera_app::AppError::Internal(format!(
            "an answer did not serialize: {e}"
        )))
    })
}

/// Resolves `role_id` / `role_name` (never both: 449).
///
/// # Errors
/// 449 for both; 440 / 441 for an unknown id / name; 134 when `required` and neither is given.
pub fn resolve_roles(
    role_id: Option<Vec<i64>>,
    role_name: Option<Vec<String>>,
    required: bool,
) -> Result<Option<Vec<RoleId>>, RpcError> {
    match (role_id, role_name) {
        (Some(_), Some(_)) => Err(RpcError::new(
            codes::ROLE_ID_AND_NAME,
            "role_id and role_name cannot be used together",
        )),
        (Some(ids), None) => ids
            .into_iter()
            .map(|id| {
                Role::by_id(RoleId(id))
                    .map(|r| r.id)
                    .map_err(|e| RpcError::new(codes::INVALID_ROLE_ID, e.to_string()))
            })
            .collect::<Result<_, _>>()
            .map(Some),
        (None, Some(names)) => names
            .iter()
            .map(|n| {
                Role::by_name(n)
                    .map(|r| r.id)
                    .map_err(|e| RpcError::new(codes::INVALID_ROLE_NAME, e.to_string()))
            })
            .collect::<Result<_, _>>()
            .map(Some),
        (None, None) if required => Err(RpcError::required("role_id")),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_parses_by_name() {
        assert_eq!(Method::ALL.len(), 21);
        for m in Method::ALL {
            assert_eq!(m.name().parse::<Method>().unwrap(), *m);
        }
        assert_eq!(
            "addsubuser".parse::<Method>().unwrap_err().code,
            codes::UNKNOWN_METHOD
        );
    }

    #[test]
    fn roles_resolve_by_id_or_name_but_not_both() {
        assert_eq!(
            resolve_roles(Some(vec![3]), None, true).unwrap(),
            Some(vec![RoleId(3)])
        );
        assert_eq!(
            resolve_roles(None, Some(vec!["Developer".into()]), true).unwrap(),
            Some(vec![RoleId(3)])
        );
        assert_eq!(
            resolve_roles(Some(vec![3]), Some(vec!["x".into()]), true)
                .unwrap_err()
                .code,
            449
        );
        assert_eq!(
            resolve_roles(Some(vec![999]), None, true).unwrap_err().code,
            440
        );
        assert_eq!(
            resolve_roles(None, Some(vec!["Root".into()]), true)
                .unwrap_err()
                .code,
            441
        );
        assert_eq!(resolve_roles(None, None, true).unwrap_err().code, 134);
        assert_eq!(resolve_roles(None, None, false).unwrap(), None);
    }
}
