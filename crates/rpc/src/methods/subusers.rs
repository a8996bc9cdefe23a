//! AddSubUser, DelSubUser, GetSubUsers, SetSubUserInfo, SetSubUserRoles, RemoveSubUserRoles,
//! GetSubUserRoles.

use serde::Deserialize;
use tessera_app::{App, CreateSubuser, Principal, UpdateSubuser};
use tessera_domain::Secret;
use tessera_domain::audit::RequestMeta;
use tessera_domain::ids::UserId;
use tessera_domain::ports::{ListQuery, RoleChange};
use utoipa::ToSchema;
use validator::Validate;

use super::resolve_roles;
use crate::answers::{AddedSubUser, Done, NewSubUser, Roles, SubUserPage};
use crate::error::RpcError;
use crate::params::{self, Params};
use crate::views::{self, SubUserView};

/// AddSubUser.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct AddSubUserParams {
    /// The new subuser's login (lower-cased; 5–20 characters, starting with a letter).
    #[serde(deserialize_with = "params::text")]
    pub new_subuser_name: String,
    /// Its password: 8+ characters with upper, lower, digit and special, no spaces.
    #[serde(deserialize_with = "params::text")]
    #[schema(format = Password)]
    pub new_subuser_password: String,
    /// Role ids, `;`-separated.
    #[serde(default, deserialize_with = "params::opt_intlist")]
    #[schema(value_type = Option<String>, example = "3;4")]
    pub role_id: Option<Vec<i64>>,
    /// Role names, `;`-separated.
    #[serde(default, deserialize_with = "params::opt_stringlist")]
    #[schema(value_type = Option<String>, example = "Developer;Support")]
    pub role_name: Option<Vec<String>>,
    /// Description.
    #[serde(default, deserialize_with = "params::opt_text")]
    #[validate(length(max = 1024, message = "must be at most 1024 characters"))]
    pub description: Option<String>,
}

/// Creates a subuser: `{"result": {"subuser_id": N}}`.
///
/// # Errors
/// 134, 101, 452, 453, 523, 524, 436, 438, 440, 441, 449, 104, 435.
pub fn add_sub_user(
    app: &App,
    p: &Principal,
    meta: &RequestMeta,
    params: &Params,
) -> Result<AddedSubUser, RpcError> {
    let a: AddSubUserParams = params.decode()?;
    let roles = resolve_roles(a.role_id, a.role_name, false)?.unwrap_or_default();
    let user = app.create_subuser(
        p,
        meta,
        p.account_id,
        CreateSubuser {
            login: a.new_subuser_name,
            password: Some(Secret::new(a.new_subuser_password)),
            email: None,
            phone_number: None,
            description: a.description.filter(|d| !d.is_empty()),
            status: None,
            roles,
        },
    )?;
    Ok(AddedSubUser {
        result: NewSubUser {
            subuser_id: user.id.0,
        },
    })
}

/// A `subuser_id`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct SubUserIdParams {
    /// The subuser's id.
    #[serde(deserialize_with = "params::int")]
    pub subuser_id: i64,
}

/// Deletes a subuser.
///
/// # Errors
/// 134, 101, 434, 104.
pub fn del_sub_user(
    app: &App,
    p: &Principal,
    meta: &RequestMeta,
    params: &Params,
) -> Result<Done, RpcError> {
    let a: SubUserIdParams = params.decode()?;
    app.delete_subuser(p, meta, p.account_id, UserId(a.subuser_id))?;
    Ok(Done::ONE)
}

/// GetSubUsers.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct GetSubUsersParams {
    /// Only this subuser (1 is the account's owner after the bootstrap).
    #[serde(default, deserialize_with = "params::opt_int")]
    #[schema(example = 1)]
    pub subuser_id: Option<i64>,
    /// Include roles.
    #[serde(default, deserialize_with = "params::opt_bool")]
    #[schema(default = false)]
    pub with_roles: Option<bool>,
    /// Records to return (default 20, at most 1000).
    #[serde(default, deserialize_with = "params::opt_int")]
    #[validate(range(min = 0, max = 1000, message = "must be between 0 and 1000"))]
    #[schema(minimum = 0, maximum = 1000, default = 20, example = 20)]
    pub count: Option<i64>,
    /// Records to skip.
    #[serde(default, deserialize_with = "params::opt_int")]
    #[validate(range(min = 0, message = "must not be negative"))]
    #[schema(minimum = 0, default = 0, example = 0)]
    pub offset: Option<i64>,
}

/// Gets subusers: `{"result": [SubUserView], "total_count", "count"}`.
///
/// # Errors
/// 101, 434, 104.
pub fn get_sub_users(
    app: &App,
    p: &Principal,
    _: &RequestMeta,
    params: &Params,
) -> Result<SubUserPage, RpcError> {
    let a: GetSubUsersParams = params.decode()?;
    let with_roles = a.with_roles.unwrap_or(false);
    let (users, total) = match a.subuser_id {
        Some(id) => (vec![app.get_subuser(p, p.account_id, UserId(id))?], 1),
        None => {
            let page = app.list_subusers(
                p,
                p.account_id,
                &ListQuery {
                    limit: u32::try_from(a.count.unwrap_or(20)).unwrap_or(20),
                    offset: u64::try_from(a.offset.unwrap_or(0)).unwrap_or(0),
                    ..ListQuery::default()
                },
            )?;
            (page.items, page.total)
        }
    };
    let views: Vec<SubUserView> = users
        .iter()
        .map(|u| SubUserView::of(u, with_roles))
        .collect();
    Ok(SubUserPage {
        count: views.len(),
        result: views,
        total_count: total,
    })
}

/// SetSubUserInfo.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct SetSubUserInfoParams {
    /// The subuser's id.
    #[serde(deserialize_with = "params::int")]
    pub subuser_id: i64,
    /// The current password (required when subusers change their own).
    #[serde(default, deserialize_with = "params::opt_text")]
    #[schema(format = Password)]
    pub old_subuser_password: Option<String>,
    /// A new password.
    #[serde(default, deserialize_with = "params::opt_text")]
    #[schema(format = Password)]
    pub new_subuser_password: Option<String>,
    /// A new description (empty clears it).
    #[serde(default, deserialize_with = "params::opt_text")]
    #[validate(length(max = 1024, message = "must be at most 1024 characters"))]
    pub description: Option<String>,
}

/// Edits a subuser's password or description.
///
/// # Errors
/// 448 (own password without the old one), 523, 524, 434, 104.
pub fn set_sub_user_info(
    app: &App,
    p: &Principal,
    meta: &RequestMeta,
    params: &Params,
) -> Result<Done, RpcError> {
    let a: SetSubUserInfoParams = params.decode()?;
    let cmd = UpdateSubuser {
        description: a.description.map(|d| Some(d).filter(|d| !d.is_empty())),
        new_password: a
            .new_subuser_password
            .filter(|s| !s.is_empty())
            .map(Secret::new),
        old_password: a
            .old_subuser_password
            .filter(|s| !s.is_empty())
            .map(Secret::new),
        ..UpdateSubuser::default()
    };
    app.update_subuser(p, meta, p.account_id, UserId(a.subuser_id), cmd)?;
    Ok(Done::ONE)
}

/// SetSubUserRoles, RemoveSubUserRoles.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct SubUserRolesParams {
    /// The subuser's id.
    #[serde(deserialize_with = "params::int")]
    pub subuser_id: i64,
    /// Role ids, `;`-separated.
    #[serde(default, deserialize_with = "params::opt_intlist")]
    #[schema(value_type = Option<String>, example = "3;4")]
    pub role_id: Option<Vec<i64>>,
    /// Role names, `;`-separated.
    #[serde(default, deserialize_with = "params::opt_stringlist")]
    #[schema(value_type = Option<String>, example = "Developer")]
    pub role_name: Option<Vec<String>>,
    /// RemoveSubUserRoles: also remove the roles from the subuser's keys.
    #[serde(default, deserialize_with = "params::opt_bool")]
    pub force: Option<bool>,
}

fn sub_user_roles(
    params: &Params,
) -> Result<(UserId, Vec<tessera_domain::roles::RoleId>, bool), RpcError> {
    let a: SubUserRolesParams = params.decode()?;
    let roles = resolve_roles(a.role_id, a.role_name, true)?.unwrap_or_default();
    Ok((UserId(a.subuser_id), roles, a.force.unwrap_or(false)))
}

/// Adds roles to a subuser.
///
/// # Errors
/// 134, 434, 435, 440, 441, 449, 104.
pub fn set_sub_user_roles(
    app: &App,
    p: &Principal,
    meta: &RequestMeta,
    params: &Params,
) -> Result<Done, RpcError> {
    let (user, roles, _) = sub_user_roles(params)?;
    app.change_subuser_roles(p, meta, p.account_id, user, RoleChange::Add(roles))?;
    Ok(Done::ONE)
}

/// Removes roles from a subuser; without `force`, 439 when one of its keys holds them.
///
/// # Errors
/// 134, 434, 435, 439, 440, 441, 449, 104.
pub fn remove_sub_user_roles(
    app: &App,
    p: &Principal,
    meta: &RequestMeta,
    params: &Params,
) -> Result<Done, RpcError> {
    let (user, roles, force) = sub_user_roles(params)?;
    app.change_subuser_roles(
        p,
        meta,
        p.account_id,
        user,
        RoleChange::Remove {
            roles,
            from_keys: force,
        },
    )?;
    Ok(Done::ONE)
}

/// GetSubUserRoles.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct GetSubUserRolesParams {
    /// The subuser's id.
    #[serde(deserialize_with = "params::int")]
    pub subuser_id: i64,
    /// Show parents, children and inherited roles.
    #[serde(default, deserialize_with = "params::opt_bool")]
    pub with_expanded_roles: Option<bool>,
}

/// Gets a subuser's roles: `{"result": [RoleView]}`.
///
/// # Errors
/// 134, 101, 434, 104.
pub fn get_sub_user_roles(
    app: &App,
    p: &Principal,
    _: &RequestMeta,
    params: &Params,
) -> Result<Roles, RpcError> {
    let a: GetSubUserRolesParams = params.decode()?;
    let user = app.get_subuser(p, p.account_id, UserId(a.subuser_id))?;
    Ok(Roles {
        result: views::roles(&user.roles, a.with_expanded_roles.unwrap_or(false)),
    })
}
