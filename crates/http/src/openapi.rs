//! The OpenAPI document's frame: title, security schemes, tags. Paths are collected from the
//! handlers as they are registered (utoipa-actix-web), so a route cannot miss its entry.

use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response, Schema};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use crate::envelope::EnvelopeMessage;

/// Adds the security schemes: bearer (JWT, access-key token, session token), basic (access key
/// id and secret), Cloudflare's `X-Auth-Email` + `X-Auth-Key`, and the session cookie the sign-in
/// page sets.
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
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "tessera_session",
                "The session cookie the sign-in page (`/signin`) sets; accepted wherever a \
                 bearer session is, when no Authorization header is sent. Writes it \
                 authenticates also need `X-CSRF-Token` (the sign-in's `csrf_token`).",
            ))),
        );
    }
}

/// The document's frame.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tessera",
        description = "Identity and access management: a Cloudflare-compatible REST API under `/v1` \
                       and a Voximplant-compatible method API under `/platform_api`. \
                       People sign in at [/signin](/signin) (password, one-time code, SSO): \
                       the page shows the session token for API use and keeps the session \
                       in a cookie.",
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "Sessions", description = "Password sign-in (with a second factor where due), sign-out, and the sessions a user holds (listed and ended by the user, or by an administrator with User Management write)"),
        (name = "MFA", description = "The signed-in user's own second factor: TOTP enrolment, recovery codes"),
        (name = "Accounts", description = "Account settings and child accounts"),
        (name = "Users", description = "Restcomm-style users"),
        (name = "Access keys", description = "Restcomm API access keys"),
        (name = "Service keys", description = "RSA service keys (the method API's CreateKey & co.)"),
        (name = "Credential report", description = "Every user and key with status, creation, last use and expiry (JSON or CSV)"),
        (name = "SSO", description = "Cloudflare SSO connectors and domain verification"),
        (name = "OAuth clients", description = "Cloudflare OAuth clients (the applications that may ask users for tokens) and the OAuth scope catalog"),
        (name = "Authorized IPs", description = "The addresses an account's credentials may be used from (allow and deny entries, IPv4 and IPv6)"),
        (name = "Roles", description = "The role catalog"),
        (name = "Permission groups", description = "Cloudflare permission groups"),
        (name = "Resource groups", description = "Cloudflare resource groups"),
        (name = "User groups", description = "Cloudflare user groups, policies and members"),
        (name = "Authorization", description = "Policy decisions and their explanation"),
        (name = "Gatekeeper", description = "The check gateways (nginx `auth_request`, Envoy `ext_authz`) ask before letting a request through to another service of the platform"),
        (name = "Audit", description = "The audit log"),
        (name = "OAuth", description = "Tessera as an OAuth 2.0 / OpenID Connect authorization server: tokens (RFC 6749, 7523, 9068), keys (RFC 7517), discovery (RFC 8414), introspection (RFC 7662), revocation (RFC 7009), userinfo. Form-encoded requests; refusals are `{\"error\", \"error_description\"}` (RFC 6749 §5.2), not the envelope"),
        (name = "Operations", description = "Health, readiness and metrics"),
        (name = "Method API (RoleSystem)", description = "Voximplant-compatible methods: form parameters in, `{\"result\"}` or `{\"error\": {\"code\", \"msg\"}}` out, always HTTP 200. Also reachable as `/platform_api?cmd=<Method>` and by GET."),
    )
)]
pub struct ApiDoc;

/// The envelope of a failed call (documentation only): `success` false, one entry in `errors`
/// whose message names the offending field when there is one, `result` null.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorEnvelope {
    /// Always `false`.
    success: bool,
    /// One entry.
    errors: Vec<EnvelopeMessage>,
    /// Empty.
    messages: Vec<EnvelopeMessage>,
    /// Always `null`.
    #[schema(value_type = Option<Object>)]
    result: Option<()>,
}

/// Request bodies that must name at least one field (an empty one is refused with 400).
/// Set here because utoipa-gen 5.5 renders `min_properties` as `maxProperties`.
const NON_EMPTY_BODIES: &[&str] = &["UpdateUserBody", "UpdateOAuthClientBody"];

/// The answers any `/v1` operation can give besides its own: 400 (a bad parameter or body
/// field), 401, 403 and 404 on account paths, 413 and 415 with a body, 429, 503.
fn common_responses(path: &str, op: &mut Operation) {
    let has_body = op.request_body.is_some();
    let mut wanted: Vec<(&str, &str)> = vec![
        (
            "400",
            "A parameter or body field is invalid; the message names it",
        ),
        ("401", "No valid credentials"),
        (
            "429",
            "Too many failed sign-ins from this login or address; see Retry-After",
        ),
        ("503", "The database is unavailable; see Retry-After"),
    ];
    if path.starts_with("/v1/accounts") {
        wanted.push(("403", "The caller lacks the permission"));
        wanted.push(("404", "No such object in an account the caller can see"));
    }
    if has_body {
        wanted.push(("413", "The body is larger than server.max_body_bytes"));
        wanted.push(("415", "The body is not application/json"));
    }
    for (status, description) in wanted {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(Response::new(description)));
    }
    for (status, response) in &mut op.responses.responses {
        if let RefOr::T(response) = response
            && status.parse::<u16>().is_ok_and(|s| s >= 400)
            && response.content.is_empty()
        {
            response.content.insert(
                "application/json".to_owned(),
                Content::new(Some(Ref::from_schema_name("ErrorEnvelope"))),
            );
        }
    }
}

/// What every text field without a pattern of its own promises: no NUL character (the server
/// refuses one anywhere, as Postgres cannot store it).
const NO_NUL: &str = "^[^\\u0000]*$";

/// Gives every string schema under `schema` without a pattern (or an enum) the [`NO_NUL`] one.
fn forbid_nul(schema: &mut RefOr<Schema>) {
    let RefOr::T(schema) = schema else {
        return;
    };
    match schema {
        Schema::Object(object) => {
            let text = match &object.schema_type {
                SchemaType::Type(t) => *t == Type::String,
                SchemaType::Array(types) => types.contains(&Type::String),
                SchemaType::AnyValue => false,
            };
            if text && object.pattern.is_none() && object.enum_values.is_none() {
                object.pattern = Some(NO_NUL.to_owned());
            }
            object.properties.values_mut().for_each(forbid_nul);
            if let Some(extra) = object.additional_properties.as_deref_mut()
                && let AdditionalProperties::RefOr(extra) = extra
            {
                forbid_nul(extra);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                forbid_nul(items);
            }
        }
        Schema::OneOf(one) => one.items.iter_mut().for_each(forbid_nul),
        Schema::AllOf(all) => all.items.iter_mut().for_each(forbid_nul),
        Schema::AnyOf(any) => any.items.iter_mut().for_each(forbid_nul),
        _ => {}
    }
}

/// Completes the collected document: the error envelope on every `/v1` error answer, the
/// answers every operation can give, and constraints utoipa cannot express.
pub fn finish(doc: &mut utoipa::openapi::OpenApi) {
    for (path, item) in &mut doc.paths.paths {
        let rest = path.starts_with("/v1");
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            if rest {
                common_responses(path, op);
            }
            for parameter in op.parameters.iter_mut().flatten() {
                if let Some(schema) = parameter.schema.as_mut() {
                    forbid_nul(schema);
                }
            }
            if let Some(body) = op.request_body.as_mut() {
                for content in body.content.values_mut() {
                    if let Some(schema) = content.schema.as_mut() {
                        forbid_nul(schema);
                    }
                }
            }
        }
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert("ErrorEnvelope".to_owned(), ErrorEnvelope::schema());
    components
        .schemas
        .insert("EnvelopeMessage".to_owned(), EnvelopeMessage::schema());
    components.schemas.values_mut().for_each(forbid_nul);
    for name in NON_EMPTY_BODIES {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(*name) {
            object.min_properties = Some(1);
        }
    }
}
