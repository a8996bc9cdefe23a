#![doc = include_str!("../README.md")]

pub mod answers;
pub mod auth;
pub mod error;
pub mod methods;
pub mod metrics;
pub mod params;
pub mod views;

use std::sync::Arc;

use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use serde_json::Value;
use tessera_app::App;
use tessera_domain::audit::RequestMeta;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::answers::MethodError;
use crate::error::RpcError;
use crate::methods::Method;
use crate::metrics::RpcMetrics;

/// Largest body accepted when no `PayloadConfig` says otherwise.
const DEFAULT_LIMIT: usize = 262_144;

fn respond(result: Result<Value, RpcError>) -> HttpResponse {
    match result {
        Ok(v) => HttpResponse::Ok().json(v),
        Err(error) => HttpResponse::Ok().json(MethodError { error }),
    }
}

/// Reads the parameters, picks the method (from the path or `cmd`), authenticates, and runs it
/// on the blocking pool. Every outcome is HTTP 200 with `{"result"…}` or `{"error"…}`.
async fn dispatch(
    app: web::Data<Arc<App>>,
    req: HttpRequest,
    payload: web::Payload,
    named: Option<String>,
) -> HttpResponse {
    let limit = limit_of(&req);
    let meta = req
        .extensions()
        .get::<RequestMeta>()
        .cloned()
        .unwrap_or_default();
    let mut called = None;
    let result = async {
        let params = params::read(&req, payload, limit).await?;
        let name = match named {
            Some(n) => n,
            None => params::cmd(&params)?.to_owned(),
        };
        let method: Method = name.parse()?;
        called = Some(method);
        let principal = auth::authenticate(&app, &req, &params, &meta).await?;
        let app = app.get_ref().clone();
        web::block(move || method.call(&app, &principal, &meta, &params))
            .await
            .map_err(|_| {
                RpcError::from(tessera_app::AppError::Internal(
                    "the blocking pool is gone".into(),
                ))
            })?
    }
    .await;
    if let Some(m) = req.app_data::<web::Data<RpcMetrics>>() {
        m.observe(called, result.as_ref().map(|_| ()));
    }
    respond(result)
}

/// The body limit the server configured (`server.max_body_bytes`).
fn limit_of(req: &HttpRequest) -> usize {
    req.app_data::<web::Data<BodyLimit>>()
        .map_or(DEFAULT_LIMIT, |l| l.0)
}

/// The largest body the method API reads, bytes.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// `/platform_api` with `cmd=<Method>`.
pub async fn platform_api(
    app: web::Data<Arc<App>>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    dispatch(app, req, payload, None).await
}

/// `/platform_api/<Method>`.
pub async fn platform_api_method(
    app: web::Data<Arc<App>>,
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
) -> HttpResponse {
    dispatch(app, req, payload, Some(path.into_inner())).await
}

/// The documented form of every method: `POST /platform_api/<Method>` with its form schema.
mod documented {
    use actix_web::post;

    use super::*;
    use crate::answers::*;
    use crate::methods::{account, authorized_ips, keys, roles, subusers};

    macro_rules! documented {
        ($($fn_name:ident, $path:literal, $name:literal, $module:ident, $params:ty, $answer:ty, $or:ty, $summary:literal;)+) => {
            $(
                // The documented answer is the method's own answer type.
                const _: fn(&App, &tessera_app::Principal, &RequestMeta, &crate::params::Params) -> Result<$answer, RpcError> = $module::$fn_name;

                #[doc = $summary]
                #[utoipa::path(
                    operation_id = $name,
                    tag = "Method API (RoleSystem)",
                    summary = $summary,
                    request_body(content = $params, content_type = "application/x-www-form-urlencoded"),
                    responses((status = 200, description = "The answer, or `{\"error\": {\"code\", \"msg\"}}` (always HTTP 200)", body = inline($or))),
                    security(("bearer" = []), ("basic" = []))
                )]
                #[post($path)]
                pub async fn $fn_name(app: web::Data<Arc<App>>, req: HttpRequest, payload: web::Payload) -> HttpResponse {
                    dispatch(app, req, payload, Some($name.to_owned())).await
                }
            )+

            /// Registers the documented handlers.
            pub fn register(cfg: &mut ServiceConfig<'_>) {
                cfg$(.service($fn_name))+;
            }
        };
    }

    documented! {
        add_sub_user, "/platform_api/AddSubUser", "AddSubUser", subusers, subusers::AddSubUserParams, AddedSubUser, AddedSubUserOrError, "Creates a subuser.";
        del_sub_user, "/platform_api/DelSubUser", "DelSubUser", subusers, subusers::SubUserIdParams, Done, DoneOrError, "Deletes a subuser.";
        get_sub_users, "/platform_api/GetSubUsers", "GetSubUsers", subusers, subusers::GetSubUsersParams, SubUserPage, SubUserPageOrError, "Gets subusers.";
        set_sub_user_info, "/platform_api/SetSubUserInfo", "SetSubUserInfo", subusers, subusers::SetSubUserInfoParams, Done, DoneOrError, "Edits a subuser.";
        set_sub_user_roles, "/platform_api/SetSubUserRoles", "SetSubUserRoles", subusers, subusers::SubUserRolesParams, Done, DoneOrError, "Adds the specified roles for a subuser.";
        remove_sub_user_roles, "/platform_api/RemoveSubUserRoles", "RemoveSubUserRoles", subusers, subusers::SubUserRolesParams, Done, DoneOrError, "Removes the specified roles of a subuser.";
        get_sub_user_roles, "/platform_api/GetSubUserRoles", "GetSubUserRoles", subusers, subusers::GetSubUserRolesParams, Roles, RolesOrError, "Gets the subuser's roles.";
        create_key, "/platform_api/CreateKey", "CreateKey", keys, keys::CreateKeyParams, CreatedKey, CreatedKeyOrError, "Creates a public/private key pair.";
        delete_key, "/platform_api/DeleteKey", "DeleteKey", keys, keys::KeyIdParams, Done, DoneOrError, "Deletes the specified key.";
        update_key, "/platform_api/UpdateKey", "UpdateKey", keys, keys::UpdateKeyParams, Done, DoneOrError, "Updates info of the specified key.";
        get_keys, "/platform_api/GetKeys", "GetKeys", keys, keys::GetKeysParams, KeyPage, KeyPageOrError, "Gets key info of the specified account.";
        set_key_roles, "/platform_api/SetKeyRoles", "SetKeyRoles", keys, keys::KeyRolesParams, Done, DoneOrError, "Sets roles for the specified key.";
        remove_key_roles, "/platform_api/RemoveKeyRoles", "RemoveKeyRoles", keys, keys::KeyRolesParams, Done, DoneOrError, "Removes the specified roles of a key.";
        get_key_roles, "/platform_api/GetKeyRoles", "GetKeyRoles", keys, keys::GetKeyRolesParams, Roles, RolesOrError, "Gets roles of the specified key.";
        get_roles, "/platform_api/GetRoles", "GetRoles", roles, roles::GetRolesParams, Roles, RolesOrError, "Gets all roles.";
        get_role_groups, "/platform_api/GetRoleGroups", "GetRoleGroups", roles, roles::GetRoleGroupsParams, RoleGroups, RoleGroupsOrError, "Gets role groups.";
        add_authorized_account_ip, "/platform_api/AddAuthorizedAccountIP", "AddAuthorizedAccountIP", authorized_ips, authorized_ips::AddAuthorizedIpParams, Done, DoneOrError, "Adds an IPv4 (or IPv6) address or network to the allow or deny list.";
        del_authorized_account_ip, "/platform_api/DelAuthorizedAccountIP", "DelAuthorizedAccountIP", authorized_ips, authorized_ips::DelAuthorizedIpParams, Removed, RemovedOrError, "Removes addresses or networks from the allow or deny list.";
        get_authorized_account_ips, "/platform_api/GetAuthorizedAccountIPs", "GetAuthorizedAccountIPs", authorized_ips, authorized_ips::GetAuthorizedIpsParams, AuthorizedIpPage, AuthorizedIpPageOrError, "Gets the allow and deny lists.";
        check_authorized_account_ip, "/platform_api/CheckAuthorizedAccountIP", "CheckAuthorizedAccountIP", authorized_ips, authorized_ips::CheckAuthorizedIpParams, AuthorizedIpCheck, AuthorizedIpCheckOrError, "Tests whether an address is allowed or denied.";
        get_account_info, "/platform_api/GetAccountInfo", "GetAccountInfo", account, account::GetAccountInfoParams, AccountInfo, AccountInfoOrError, "Gets the account's info: id, name, email, active flag, creation time.";
    }
}

/// Registers `/platform_api` (`cmd=`) and `/platform_api/<Method>`, for GET and POST; each
/// method also has its documented `POST /platform_api/<Method>` entry.
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    documented::register(cfg);
    cfg.route("/platform_api", web::post().to(platform_api))
        .route("/platform_api", web::get().to(platform_api))
        .route("/platform_api/", web::post().to(platform_api))
        .route("/platform_api/", web::get().to(platform_api))
        .route(
            "/platform_api/{method}",
            web::post().to(platform_api_method),
        )
        .route("/platform_api/{method}", web::get().to(platform_api_method));
}
