//! CreateKey, DeleteKey, UpdateKey, GetKeys, SetKeyRoles, RemoveKeyRoles, GetKeyRoles.

use serde::Deserialize;
use tessera_app::{App, CreateServiceKey, Principal};
use tessera_domain::audit::RequestMeta;
use tessera_domain::ids::{ServiceKeyId, UserId};
use tessera_domain::keys::{KeyValidity, ServiceKey, ValidityChange};
use tessera_domain::ports::{ListQuery, RoleChange, ServiceKeyChanges};
use utoipa::ToSchema;
use validator::Validate;

use super::resolve_roles;
use crate::answers::{CreatedKey, Done, KeyPage, Roles};
use crate::error::RpcError;
use crate::params::{self, Params};
use crate::views::{self, KeyInfo, KeyView};

fn key_id(raw: &str) -> Result<ServiceKeyId, RpcError> {
    raw.parse()
        .map_err(|_| RpcError::invalid("key_id", format!("expected a key id (a UUID such as 0b5d2c7e-1f7a-4c5e-9d42-6a3b2f1e0c9d), not '{raw}'")))
}

/// CreateKey.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateKeyParams {
    /// Description.
    #[serde(default, deserialize_with = "params::opt_text")]
    #[validate(length(max = 1024, message = "must be at most 1024 characters"))]
    pub description: Option<String>,
    /// Name, 1–50 characters.
    #[serde(default, deserialize_with = "params::opt_text")]
    #[validate(length(min = 1, max = 50, message = "must be 1 to 50 characters"))]
    pub key_name: Option<String>,
    /// Role ids, `;`-separated.
    #[serde(default, deserialize_with = "params::opt_intlist")]
    #[schema(value_type = Option<String>, example = "3")]
    pub role_id: Option<Vec<i64>>,
    /// Role names, `;`-separated.
    #[serde(default, deserialize_with = "params::opt_stringlist")]
    #[schema(value_type = Option<String>, example = "Developer")]
    pub role_name: Option<Vec<String>>,
}

/// Creates an RSA key pair: `{"result": [KeyInfo]}`, the private key shown this once.
///
/// # Errors
/// 101, 435, 437, 440, 441, 449, 104.
pub fn create_key(
    app: &App,
    p: &Principal,
    meta: &RequestMeta,
    params: &Params,
) -> Result<CreatedKey, RpcError> {
    let a: CreateKeyParams = params.decode()?;
    let roles = resolve_roles(a.role_id, a.role_name, false)?.unwrap_or_default();
    let created = app.create_service_key(
        p,
        meta,
        p.account_id,
        CreateServiceKey {
            name: a.key_name,
            description: a.description.filter(|d| !d.is_empty()),
            roles,
            // The official client has no expiry parameter: the account's longest key
            // lifetime, when it sets one, applies.
            validity: KeyValidity::default(),
        },
    )?;
    Ok(CreatedKey {
        result: vec![KeyInfo::from(&created)],
    })
}

/// A `key_id`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct KeyIdParams {
    /// The key's id.
    #[serde(deserialize_with = "params::text")]
    pub key_id: String,
}

/// Deletes a key: its JWTs fail from the next call.
///
/// # Errors
/// 134, 101, 433, 104.
pub fn delete_key(
    app: &App,
    p: &Principal,
    meta: &RequestMeta,
    params: &Params,
) -> Result<Done, RpcError> {
    let a: KeyIdParams = params.decode()?;
    app.delete_service_key(p, meta, p.account_id, key_id(&a.key_id)?)?;
    Ok(Done::ONE)
}

/// UpdateKey.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateKeyParams {
    /// The key's id.
    #[serde(deserialize_with = "params::text")]
    pub key_id: String,
    /// The new description.
    #[serde(deserialize_with = "params::opt_text")]
    #[validate(length(max = 1024, message = "must be at most 1024 characters"))]
    pub description: Option<String>,
    /// The new name, 1–50 characters.
    #[serde(default, deserialize_with = "params::opt_text")]
    #[validate(length(min = 1, max = 50, message = "must be 1 to 50 characters"))]
    pub key_name: Option<String>,
}

/// Updates a key's description and name.
///
/// # Errors
/// 134, 101, 433, 104.
pub fn update_key(
    app: &App,
    p: &Principal,
    meta: &RequestMeta,
    params: &Params,
) -> Result<Done, RpcError> {
    let a: UpdateKeyParams = params.decode()?;
    let changes = ServiceKeyChanges {
        name: a.key_name,
        description: a.description.map(|d| Some(d).filter(|d| !d.is_empty())),
        validity: ValidityChange::default(),
        allowed_ips: None,
    };
    app.update_service_key(p, meta, p.account_id, key_id(&a.key_id)?, changes)?;
    Ok(Done::ONE)
}

/// GetKeys.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct GetKeysParams {
    /// Only this key; empty or absent: every key.
    #[serde(default, deserialize_with = "params::opt_text")]
    #[schema(example = "")]
    pub key_id: Option<String>,
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

fn key_views(
    app: &App,
    p: &Principal,
    keys: &[ServiceKey],
    with_roles: bool,
) -> Result<Vec<KeyView>, RpcError> {
    let mut owners: Vec<UserId> = keys.iter().filter_map(|k| k.owner).collect();
    owners.sort_unstable();
    owners.dedup();
    let users = if owners.is_empty() {
        Vec::new()
    } else {
        app.get_subusers(p, p.account_id, &owners)
            .unwrap_or_default()
    };
    Ok(keys
        .iter()
        .map(|k| {
            KeyView::of(
                k,
                with_roles,
                k.owner.and_then(|o| users.iter().find(|u| u.id == o)),
            )
        })
        .collect())
}

/// Gets keys: `{"result": [KeyView], "total_count", "count"}`. Without API Credentials read, a
/// caller sees only its own key(s).
///
/// # Errors
/// 101, 433, 104.
pub fn get_keys(
    app: &App,
    p: &Principal,
    _: &RequestMeta,
    params: &Params,
) -> Result<KeyPage, RpcError> {
    let a: GetKeysParams = params.decode()?;
    let with_roles = a.with_roles.unwrap_or(false);
    let (keys, total) = match a.key_id.filter(|k| !k.is_empty()) {
        Some(id) => (vec![app.get_service_key(p, p.account_id, key_id(&id)?)?], 1),
        None => {
            let page = app.list_service_keys(
                p,
                p.account_id,
                &ListQuery {
                    limit: u32::try_from(a.count.unwrap_or(20)).unwrap_or(20),
                    offset: u64::try_from(a.offset.unwrap_or(0)).unwrap_or(0),
                    ..ListQuery::default()
                },
                None,
            )?;
            (page.items, page.total)
        }
    };
    let views = key_views(app, p, &keys, with_roles)?;
    Ok(KeyPage {
        count: views.len(),
        result: views,
        total_count: total,
    })
}

/// SetKeyRoles, RemoveKeyRoles.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct KeyRolesParams {
    /// The key's id.
    #[serde(deserialize_with = "params::text")]
    pub key_id: String,
    /// Role ids, `;`-separated.
    #[serde(default, deserialize_with = "params::opt_intlist")]
    #[schema(value_type = Option<String>, example = "3;4")]
    pub role_id: Option<Vec<i64>>,
    /// Role names, `;`-separated.
    #[serde(default, deserialize_with = "params::opt_stringlist")]
    #[schema(value_type = Option<String>, example = "Developer")]
    pub role_name: Option<Vec<String>>,
}

fn key_roles(
    params: &Params,
) -> Result<(ServiceKeyId, Vec<tessera_domain::roles::RoleId>), RpcError> {
    let a: KeyRolesParams = params.decode()?;
    let roles = resolve_roles(a.role_id, a.role_name, true)?.unwrap_or_default();
    Ok((key_id(&a.key_id)?, roles))
}

/// Sets (replaces) a key's roles.
///
/// # Errors
/// 134, 101, 433, 435, 440, 441, 449, 104.
pub fn set_key_roles(
    app: &App,
    p: &Principal,
    meta: &RequestMeta,
    params: &Params,
) -> Result<Done, RpcError> {
    let (id, roles) = key_roles(params)?;
    app.change_service_key_roles(p, meta, p.account_id, id, RoleChange::Replace(roles))?;
    Ok(Done::ONE)
}

/// Removes roles from a key.
///
/// # Errors
/// 134, 101, 433, 440, 441, 449, 104.
pub fn remove_key_roles(
    app: &App,
    p: &Principal,
    meta: &RequestMeta,
    params: &Params,
) -> Result<Done, RpcError> {
    let (id, roles) = key_roles(params)?;
    app.change_service_key_roles(
        p,
        meta,
        p.account_id,
        id,
        RoleChange::Remove {
            roles,
            from_keys: false,
        },
    )?;
    Ok(Done::ONE)
}

/// GetKeyRoles.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct GetKeyRolesParams {
    /// The key's id.
    #[serde(deserialize_with = "params::text")]
    pub key_id: String,
    /// Show parents, children and inherited roles.
    #[serde(default, deserialize_with = "params::opt_bool")]
    pub with_expanded_roles: Option<bool>,
}

/// Gets a key's roles: `{"result": [RoleView]}`.
///
/// # Errors
/// 134, 101, 433, 104.
pub fn get_key_roles(
    app: &App,
    p: &Principal,
    _: &RequestMeta,
    params: &Params,
) -> Result<Roles, RpcError> {
    let a: GetKeyRolesParams = params.decode()?;
    let key = app.get_service_key(p, p.account_id, key_id(&a.key_id)?)?;
    Ok(Roles {
        result: views::roles(&key.roles, a.with_expanded_roles.unwrap_or(false)),
    })
}
