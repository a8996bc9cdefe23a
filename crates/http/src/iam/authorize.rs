//! The explain endpoint: `POST /v1/accounts/{account_id}/iam/authorize`.

use std::sync::Arc;

use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use tessera_app::{App, PrincipalRef};
use tessera_domain::ids::AccountId;
use tessera_domain::permissions::{Capability, Level, Permission};
use tessera_domain::policy::ResourceKey;
use utoipa::ToSchema;
use validator::Validate;

use super::members::UserRef;
use crate::envelope::{ApiError, Envelope};
use crate::extract::{Caller, JsonBody, run};

/// The kind of principal to explain.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalType {
    /// A user (`id` = user id).
    User,
    /// A service key (`id` = key UUID).
    ServiceKey,
    /// An access key (`id` = `AK…`).
    AccessKey,
}

/// Whose permission to check.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PrincipalBody {
    /// Kind.
    #[serde(rename = "type")]
    pub kind: PrincipalType,
    /// Id: a user id (string or number), a service key's UUID or an access key's `AK…` id.
    #[schema(value_type = crate::schema::PrincipalIdDoc)]
    pub id: UserRef,
}

/// A question for the policy engine.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct AuthorizeBody {
    /// Whose permission.
    pub principal: PrincipalBody,
    /// Capability slug (`user_management`, `api_credentials`, …).
    #[schema(value_type = String, example = "user_management")]
    pub capability: Capability,
    /// `read` or `write`.
    #[schema(value_type = crate::schema::LevelDoc)]
    pub level: Level,
    /// An object key (`com.tessera.api.account.user.42`; `com.cloudflare.api.account.` is a
    /// synonym), or none for account-wide.
    #[schema(
        pattern = r"^com\.(tessera|cloudflare)\.api\.account\.(user|service_key|access_key|user_group|resource_group|sso_connector)\.[A-Za-z0-9-]{1,64}$"
    )]
    pub resource: Option<String>,
}

impl crate::extract::RequestBody for AuthorizeBody {}

/// The engine's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizeView {
    /// Whether the principal may.
    pub allowed: bool,
    /// The roles, policies and rules that decided, each with a sentence (`message`).
    #[schema(value_type = Vec<Object>)]
    pub reasons: Vec<serde_json::Value>,
}

fn principal_ref(p: PrincipalBody) -> Result<PrincipalRef, ApiError> {
    let text = match p.id {
        UserRef::Number(n) => n.to_string(),
        UserRef::Text(t) => t,
    };
    let bad = |what: &str| ApiError::bad_request(format!("principal.id: '{text}' is not {what}"));
    Ok(match p.kind {
        PrincipalType::User => PrincipalRef::User(tessera_domain::ids::UserId(
            text.trim().parse().map_err(|_| bad("a user id"))?,
        )),
        PrincipalType::ServiceKey => {
            PrincipalRef::ServiceKey(text.parse().map_err(|_| bad("a service key id"))?)
        }
        PrincipalType::AccessKey => {
            PrincipalRef::AccessKey(text.parse().map_err(|_| bad("an access key id"))?)
        }
    })
}

/// Asks the policy engine whether a principal of the account holds a permission, and why.
#[utoipa::path(tag = "Authorization", params(("account_id" = i64, Path)), request_body = AuthorizeBody,
    responses((status = 200, body = Envelope<AuthorizeView>), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[post("/accounts/{account_id}/iam/authorize")]
pub async fn authorize(
    app: web::Data<Arc<App>>,
    caller: Caller,
    path: web::Path<i64>,
    body: JsonBody<AuthorizeBody>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let body = body.0;
    let target = principal_ref(body.principal)?;
    let permission = Permission::new(body.capability, body.level);
    let resource = body
        .resource
        .as_deref()
        .map(|r| ResourceKey::parse(r).map_err(|e| ApiError::bad_request(format!("resource: {e}"))))
        .transpose()?;
    let decision = run(&app, move |app| {
        app.explain(&caller.0, account, &target, permission, resource.as_ref())
    })
    .await?;
    let reasons = decision
        .reasons
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).unwrap_or_default();
            if let Some(obj) = v.as_object_mut() {
                obj.insert("message".into(), r.to_string().into());
            }
            v
        })
        .collect();
    Ok(Envelope::ok(AuthorizeView {
        allowed: decision.allowed,
        reasons,
    })
    .respond())
}
