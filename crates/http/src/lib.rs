#![doc = include_str!("../README.md")]

pub mod access_keys;
pub mod accounts;
pub mod audit;
pub mod authorized_ips;
pub mod client_address;
pub mod credential_report;
pub mod envelope;
pub mod extract;
pub mod fallback;
pub mod gatekeeper;
pub mod iam;
pub mod lockouts;
pub mod mfa;
pub mod oauth;
pub mod oauth_authorize;
pub mod oauth_clients;
pub mod observe;
pub mod openapi;
pub mod ops;
pub mod own_origin;
pub mod paging;
pub mod protocol;
mod schema;
pub mod scrape;
pub mod security;
mod serde_util;
pub mod service_keys;
pub mod session_cookie;
pub mod sessions;
pub mod signin;
pub mod sso;
pub mod sso_signin;
pub mod user_sessions;
pub mod users;

use actix_web::web;
use tessera_app::AppError;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::envelope::ApiError;

/// An id in the path that does not parse names nothing: 404, like a missing object.
fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_, _| {
        ApiError::from(AppError::NotFound(tessera_domain::Entity::Object)).into()
    })
}

/// Registers the operational endpoints, the sign-in page and the REST API (`/v1`), each
/// operation with its OpenAPI entry.
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    signin::configure(cfg);
    oauth::configure(cfg);
    oauth_authorize::configure(cfg);
    cfg.app_data(path_config())
        .service(ops::healthz)
        .service(ops::readyz)
        .service(ops::metrics)
        .service(
            scope::scope("/v1")
                .service(sessions::create_session)
                .service(sessions::list_sessions)
                .service(sessions::delete_session)
                .service(sessions::delete_own_session)
                .service(mfa::complete_sign_in)
                .service(mfa::enrol_at_sign_in)
                .service(mfa::get_mfa)
                .service(mfa::begin_totp)
                .service(mfa::confirm_totp)
                .service(mfa::remove_totp)
                .service(accounts::list_accounts)
                .service(accounts::create_account)
                .service(accounts::get_account)
                .service(accounts::update_account)
                .service(users::list_users)
                .service(users::create_user)
                .service(users::get_user)
                .service(users::update_user)
                .service(users::delete_user)
                .service(users::effective_permissions)
                .service(user_sessions::list_user_sessions)
                .service(user_sessions::delete_user_sessions)
                .service(user_sessions::delete_user_session)
                .service(lockouts::get_lockout)
                .service(lockouts::clear_lockout)
                .service(mfa::reset_mfa)
                .service(credential_report::credential_report)
                .service(access_keys::list_access_keys)
                .service(access_keys::create_access_key)
                .service(access_keys::get_access_key)
                .service(access_keys::update_access_key)
                .service(access_keys::delete_access_key)
                .service(service_keys::list_keys)
                .service(service_keys::create_key)
                .service(service_keys::get_key)
                .service(service_keys::update_key)
                .service(service_keys::set_key_roles)
                .service(service_keys::delete_key)
                .service(sso::list_sso)
                .service(sso::create_sso)
                .service(sso::get_sso)
                .service(sso::update_sso)
                .service(sso::delete_sso)
                .service(sso::begin_verification)
                .service(sso_signin::sso_login)
                .service(sso_signin::sso_callback)
                .service(oauth_clients::list_oauth_clients)
                .service(oauth_clients::create_oauth_client)
                .service(oauth_clients::get_oauth_client)
                .service(oauth_clients::update_oauth_client)
                .service(oauth_clients::delete_oauth_client)
                .service(oauth_clients::rotate_secret)
                .service(oauth_clients::delete_rotated_secret)
                .service(oauth_clients::list_oauth_scopes)
                .service(authorized_ips::list_authorized_ips)
                .service(authorized_ips::add_authorized_ip)
                .service(authorized_ips::delete_authorized_ips)
                .service(authorized_ips::check_authorized_ip)
                .service(iam::catalog::list_roles)
                .service(iam::catalog::list_role_groups)
                .service(iam::catalog::list_permission_groups)
                .service(iam::catalog::get_permission_group)
                .service(iam::resource_groups::list_resource_groups)
                .service(iam::resource_groups::create_resource_group)
                .service(iam::resource_groups::get_resource_group)
                .service(iam::resource_groups::update_resource_group)
                .service(iam::resource_groups::delete_resource_group)
                .service(iam::user_groups::list_user_groups)
                .service(iam::user_groups::create_user_group)
                .service(iam::user_groups::get_user_group)
                .service(iam::user_groups::update_user_group)
                .service(iam::user_groups::delete_user_group)
                .service(iam::members::list_members)
                .service(iam::members::add_members)
                .service(iam::members::replace_members)
                .service(iam::members::remove_member)
                .service(iam::authorize::authorize)
                .service(gatekeeper::check)
                .service(gatekeeper::check_post)
                .service(gatekeeper::check_envoy)
                .route(
                    "/authz/check/{path:.*}",
                    web::route().to(gatekeeper::envoy_any),
                )
                .service(audit::list_audit_logs),
        );
}
