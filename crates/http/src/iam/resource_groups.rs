//! Resource groups: `/v1/accounts/{account_id}/iam/resource_groups`.

use std::sync::Arc;
use tessera_domain::Entity;

use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use tessera_app::{App, AppError, ResourceGroupInput};
use tessera_domain::groups::ResourceGroup;
use tessera_domain::ids::{AccountId, ResourceGroupId};
use tessera_domain::policy::Scope;
use tessera_domain::ports::Page;
use utoipa::ToSchema;
use validator::Validate;

use super::MetaView;
use crate::envelope::{ApiError, Envelope, IdResult};
use crate::extract::{Caller, JsonBody, QueryParams, Reads, request_meta, run};
use crate::paging::ListParams;

/// `{key}` of a scope object.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScopeObjectView {
    /// `*` or `com.tessera.api.account.<resource_type>.<id>` (Cloudflare's
    /// `com.cloudflare.api.account.` is accepted as a synonym; answers show Tessera's prefix).
    #[schema(
        pattern = r"^(\*|com\.(tessera|cloudflare)\.api\.account\.(user|service_key|access_key|user_group|resource_group|sso_connector)\.[A-Za-z0-9-]{1,64})$"
    )]
    pub key: String,
}

/// A scope: the account and objects in it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScopeView {
    /// `com.tessera.api.account.<account_id>` (this account; Cloudflare's
    /// `com.cloudflare.api.account.<account_id>` is accepted as a synonym, answers show
    /// Tessera's prefix).
    #[schema(pattern = r"^com\.(tessera|cloudflare)\.api\.account\.[1-9][0-9]{0,17}$")]
    pub key: String,
    /// The objects (`*` = the whole account).
    #[schema(min_items = 1)]
    pub objects: Vec<ScopeObjectView>,
}

/// A scope as sent: one object (the Cloudflare SDK) or a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ScopeInput {
    /// One scope.
    One(ScopeView),
    /// Several (all naming this account).
    Many(Vec<ScopeView>),
}

impl utoipa::PartialSchema for ScopeInput {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::Ref;
        use utoipa::openapi::schema::{ArrayBuilder, OneOfBuilder};
        OneOfBuilder::new()
            .description(Some(
                "One scope (as the Cloudflare SDK sends it) or a list of them.",
            ))
            .item(Ref::from_schema_name("ScopeView"))
            .item(
                ArrayBuilder::new()
                    .items(Ref::from_schema_name("ScopeView"))
                    .min_items(Some(1)),
            )
            .into()
    }
}

impl ToSchema for ScopeInput {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        schemas.push((
            "ScopeView".into(),
            <ScopeView as utoipa::PartialSchema>::schema(),
        ));
        <ScopeView as ToSchema>::schemas(schemas);
    }
}

/// A resource group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResourceGroupView {
    /// 32 hex digits.
    pub id: String,
    /// Name.
    pub name: String,
    /// Attributes.
    pub meta: Option<MetaView>,
    /// Always a list.
    pub scope: Vec<ScopeView>,
}

impl From<ResourceGroup> for ResourceGroupView {
    fn from(g: ResourceGroup) -> Self {
        Self {
            id: g.id.to_string(),
            name: g.name,
            meta: g.meta.map(MetaView::from),
            scope: vec![ScopeView {
                key: Scope::account_key(g.scope.account),
                objects: g
                    .scope
                    .object_keys()
                    .into_iter()
                    .map(|key| ScopeObjectView { key })
                    .collect(),
            }],
        }
    }
}

/// A resource group as sent.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ResourceGroupBody {
    /// Name (unique in the account; default: generated).
    #[validate(length(min = 1, max = 100, message = "must be 1 to 100 characters"))]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000]*[^\s\u0085\u0000][^\u0000]*$"
    )]
    pub name: Option<String>,
    /// Attributes.
    pub meta: Option<MetaView>,
    /// The scope.
    pub scope: ScopeInput,
}

impl crate::extract::RequestBody for ResourceGroupBody {}

impl ResourceGroupBody {
    fn into_input(self, default_name: impl FnOnce() -> String) -> ResourceGroupInput {
        let scopes = match self.scope {
            ScopeInput::One(s) => vec![s],
            ScopeInput::Many(list) => list,
        };
        ResourceGroupInput {
            name: self.name.unwrap_or_else(default_name),
            meta: self.meta.map(Into::into),
            scope: scopes
                .into_iter()
                .map(|s| (s.key, s.objects.into_iter().map(|o| o.key).collect()))
                .collect(),
        }
    }
}

fn group_id(raw: &str) -> Result<ResourceGroupId, ApiError> {
    ResourceGroupId::parse(raw)
        .map_err(|_| ApiError::from(AppError::NotFound(Entity::ResourceGroup)))
}

/// Lists resource groups (all of them, up to 1000, unless `per_page` is given: the Cloudflare
/// SDK reads this list as one page).
#[utoipa::path(tag = "Resource groups", params(("account_id" = i64, Path), ListParams),
    responses((status = 200, body = Envelope<Vec<ResourceGroupView>>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/iam/resource_groups")]
pub async fn list_resource_groups(
    app: web::Data<Arc<App>>,
    caller: Caller,
    path: web::Path<i64>,
    params: QueryParams<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let params = params.0.whole_by_default();
    let query = params.query()?;
    let only = params.id.clone();
    let page = run(&app, move |app| match only {
        // `?id=` (the Cloudflare SDK's filter): that group alone, or nothing.
        Some(id) => {
            let found = match ResourceGroupId::parse(&id) {
                Ok(id) => app.find_resource_groups(&caller.0, account, &[id])?,
                Err(_) => Vec::new(),
            };
            Ok(Page::whole(found))
        }
        None => app.list_resource_groups(&caller.0, account, &query),
    })
    .await?;
    let items: Vec<ResourceGroupView> = page.items.into_iter().map(Into::into).collect();
    Ok(params.respond(items, page.total, |g| g.id.clone()))
}

/// Creates a resource group; its scope must name this account.
#[utoipa::path(tag = "Resource groups", params(("account_id" = i64, Path)), request_body = ResourceGroupBody,
    responses((status = 200, body = Envelope<ResourceGroupView>), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[post("/accounts/{account_id}/iam/resource_groups")]
pub async fn create_resource_group(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: JsonBody<ResourceGroupBody>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let meta = request_meta(&req);
    let input = body
        .0
        .into_input(|| format!("resource group {}", uuid::Uuid::new_v4().simple()));
    let group = run(&app, move |app| {
        app.create_resource_group(&caller.0, &meta, account, input)
    })
    .await?;
    Ok(Envelope::ok(ResourceGroupView::from(group)).respond())
}

/// One resource group.
#[utoipa::path(tag = "Resource groups", params(("account_id" = i64, Path), ("resource_group_id" = String, Path)),
    responses((status = 200, body = Envelope<ResourceGroupView>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/iam/resource_groups/{resource_group_id}")]
pub async fn get_resource_group(
    app: web::Data<Arc<App>>,
    caller: Caller,
    reads: Reads,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let id = group_id(&id)?;
    let group = reads
        .run(&app, move |app| {
            app.get_resource_group(&caller.0, AccountId(account), id)
        })
        .await?;
    Ok(Envelope::ok(ResourceGroupView::from(group)).respond())
}

/// Replaces a resource group's name, meta and scope.
#[utoipa::path(tag = "Resource groups", params(("account_id" = i64, Path), ("resource_group_id" = String, Path)),
    request_body = ResourceGroupBody,
    responses((status = 200, body = Envelope<ResourceGroupView>), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[put("/accounts/{account_id}/iam/resource_groups/{resource_group_id}")]
pub async fn update_resource_group(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
    body: JsonBody<ResourceGroupBody>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let (account, id) = (AccountId(account), group_id(&id)?);
    let meta = request_meta(&req);
    let body = body.0;
    let keep_name = body.name.is_none();
    let group = run(&app, move |app| {
        let current_name = if keep_name {
            app.get_resource_group(&caller.0, account, id)?.name
        } else {
            String::new()
        };
        app.update_resource_group(
            &caller.0,
            &meta,
            account,
            id,
            body.into_input(|| current_name),
        )
    })
    .await?;
    Ok(Envelope::ok(ResourceGroupView::from(group)).respond())
}

/// Deletes a resource group no policy names.
#[utoipa::path(tag = "Resource groups", params(("account_id" = i64, Path), ("resource_group_id" = String, Path)),
    responses((status = 200, body = Envelope<IdResult>), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[delete("/accounts/{account_id}/iam/resource_groups/{resource_group_id}")]
pub async fn delete_resource_group(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let id = group_id(&id)?;
    let meta = request_meta(&req);
    run(&app, move |app| {
        app.delete_resource_group(&caller.0, &meta, AccountId(account), id)
    })
    .await?;
    Ok(Envelope::ok(IdResult::from(id)).respond())
}
