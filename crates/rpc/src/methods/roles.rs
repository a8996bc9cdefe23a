//! GetRoles, GetRoleGroups: the catalog (basic methods: no permission needed).

use serde::Deserialize;
use tessera_app::{App, Principal};
use tessera_domain::audit::RequestMeta;
use utoipa::ToSchema;
use validator::Validate;

use crate::answers::{RoleGroups, Roles};
use crate::error::RpcError;
use crate::params::{self, Params};
use crate::views;

/// GetRoles.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct GetRolesParams {
    /// Only the roles of this role group.
    #[serde(default, deserialize_with = "params::opt_text")]
    pub group_name: Option<String>,
}

/// Gets all roles (or one group's).
///
/// # Errors
/// 101 for bad parameters.
pub fn get_roles(
    app: &App,
    p: &Principal,
    _: &RequestMeta,
    params: &Params,
) -> Result<Roles, RpcError> {
    let a: GetRolesParams = params.decode()?;
    let group = a.group_name.filter(|g| !g.is_empty());
    let roles = app.roles(p, p.account_id)?;
    Ok(Roles {
        result: views::catalog(roles, group.as_deref()),
    })
}

/// GetRoleGroups.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct GetRoleGroupsParams {}

/// Gets the role groups.
///
/// # Errors
/// Never for the caller's own account.
pub fn get_role_groups(
    app: &App,
    p: &Principal,
    _: &RequestMeta,
    _: &Params,
) -> Result<RoleGroups, RpcError> {
    let groups = app.role_groups(p, p.account_id)?;
    Ok(RoleGroups {
        result: views::role_groups(groups),
    })
}
