//! The OpenAPI document's frame: title, security schemes, tags. Paths are collected from the
//! handlers as they are registered (utoipa-actix-web), so a route cannot miss its entry.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Adds the security schemes: bearer (JWT, access-key token, session token), basic (access key
/// id and secret) and Cloudflare's `X-Auth-Email` + `X-Auth-Key`.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
        components.add_security_scheme(
            "x_auth_email",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Auth-Email"))),
        );
        components.add_security_scheme(
            "x_auth_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Auth-Key"))),
        );
    }
}

/// The document's frame.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tessera",
        description = "Identity and access management: a Cloudflare-compatible REST API under `/v1` \
                       and a Voximplant-compatible method API under `/platform_api`.",
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "Sessions", description = "Password sign-in"),
        (name = "Accounts", description = "Account settings and child accounts"),
        (name = "Users", description = "Restcomm-style users"),
        (name = "Access keys", description = "Restcomm API access keys"),
        (name = "Service keys", description = "RSA service keys (the method API's CreateKey & co.)"),
        (name = "SSO", description = "Cloudflare SSO connectors and domain verification"),
        (name = "Roles", description = "The role catalog"),
        (name = "Permission groups", description = "Cloudflare permission groups"),
        (name = "Resource groups", description = "Cloudflare resource groups"),
        (name = "User groups", description = "Cloudflare user groups, policies and members"),
        (name = "Authorization", description = "Policy decisions and their explanation"),
        (name = "Audit", description = "The audit log"),
        (name = "Operations", description = "Health, readiness and metrics"),
        (name = "Method API (RoleSystem)", description = "Voximplant-compatible methods: form parameters in, `{\"result\"}` or `{\"error\": {\"code\", \"msg\"}}` out, always HTTP 200. Also reachable as `/platform_api?cmd=<Method>` and by GET."),
    )
)]
pub struct ApiDoc;
