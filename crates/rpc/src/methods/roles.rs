//! GetRoles, GetRoleGroups: the catalog (basic methods: no permission needed).

use serde::Deserialize;
use serde_json::{Value, json};
use tessera_app::{App, Principal};
use tessera_domain::audit::RequestMeta;
use utoipa::ToSchema;
use validator::Validate;

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
    _: &App,
    _: &Principal,
    _: &RequestMeta,
    params: &Params,
) -> Result<Value, RpcError> {
    let p: GetRolesParams = params.decode()?;
    let group = p.group_name.filter(|g| !g.is_empty());
    Ok(json!({ "result": views::catalog(group.as_deref()) }))
}

/// GetRoleGroups.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct GetRoleGroupsParams {}

/// Gets the role groups.
///
/// # Errors
/// Never.
pub fn get_role_groups(
    _: &App,
    _: &Principal,
    _: &RequestMeta,
    _: &Params,
) -> Result<Value, RpcError> {
    Ok(json!({ "result": views::role_groups() }))
}
