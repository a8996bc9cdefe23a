#![doc = include_str!("../README.md")]

pub mod auth;
pub mod error;
pub mod methods;
pub mod metrics;
pub mod params;
pub mod views;

use std::sync::Arc;

use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use tessera_app::App;
use tessera_domain::audit::RequestMeta;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::RpcError;
use crate::methods::Method;
use crate::metrics::RpcMetrics;

/// Largest body accepted when no `PayloadConfig` says otherwise.
const DEFAULT_LIMIT: usize = 262_144;

fn respond(result: Result<Value, RpcError>) -> HttpResponse {
    let body = match result {
        Ok(v) => v,
        Err(e) => json!({ "error": e }),
    };
    HttpResponse::Ok().json(body)
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
    use crate::methods::{keys, roles, subusers};

    macro_rules! documented {
        ($($fn_name:ident, $path:literal, $params:ty, $summary:literal;)+) => {
            $(
                #[doc = $summary]
                #[utoipa::path(
                    tag = "Method API (RoleSystem)",
                    summary = $summary,
                    request_body(content = $params, content_type = "application/x-www-form-urlencoded"),
                    responses((status = 200, description = "`{\"result\": …}` or `{\"error\": {\"code\", \"msg\"}}`", body = Object)),
                    security(("bearer" = []), ("basic" = []))
                )]
                #[post($path)]
                pub async fn $fn_name(app: web::Data<Arc<App>>, req: HttpRequest, payload: web::Payload) -> HttpResponse {
                    let name = req.path().rsplit('/').next().unwrap_or_default().to_owned();
                    dispatch(app, req, payload, Some(name)).await
                }
            )+

            /// Registers the documented handlers.
            pub fn register(cfg: &mut ServiceConfig<'_>) {
                cfg$(.service($fn_name))+;
            }
        };
    }

    documented! {
        add_sub_user, "/platform_api/AddSubUser", subusers::AddSubUserParams, "Creates a subuser.";
        del_sub_user, "/platform_api/DelSubUser", subusers::SubUserIdParams, "Deletes a subuser.";
        get_sub_users, "/platform_api/GetSubUsers", subusers::GetSubUsersParams, "Gets subusers.";
        set_sub_user_info, "/platform_api/SetSubUserInfo", subusers::SetSubUserInfoParams, "Edits a subuser.";
        set_sub_user_roles, "/platform_api/SetSubUserRoles", subusers::SubUserRolesParams, "Adds the specified roles for a subuser.";
        remove_sub_user_roles, "/platform_api/RemoveSubUserRoles", subusers::SubUserRolesParams, "Removes the specified roles of a subuser.";
        get_sub_user_roles, "/platform_api/GetSubUserRoles", subusers::GetSubUserRolesParams, "Gets the subuser's roles.";
        create_key, "/platform_api/CreateKey", keys::CreateKeyParams, "Creates a public/private key pair.";
        delete_key, "/platform_api/DeleteKey", keys::KeyIdParams, "Deletes the specified key.";
        update_key, "/platform_api/UpdateKey", keys::UpdateKeyParams, "Updates info of the specified key.";
        get_keys, "/platform_api/GetKeys", keys::GetKeysParams, "Gets key info of the specified account.";
        set_key_roles, "/platform_api/SetKeyRoles", keys::KeyRolesParams, "Sets roles for the specified key.";
        remove_key_roles, "/platform_api/RemoveKeyRoles", keys::KeyRolesParams, "Removes the specified roles of a key.";
        get_key_roles, "/platform_api/GetKeyRoles", keys::GetKeyRolesParams, "Gets roles of the specified key.";
        get_roles, "/platform_api/GetRoles", roles::GetRolesParams, "Gets all roles.";
        get_role_groups, "/platform_api/GetRoleGroups", roles::GetRoleGroupsParams, "Gets role groups.";
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
