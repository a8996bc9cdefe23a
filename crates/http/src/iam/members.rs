//! User group members: `/v1/accounts/{account_id}/iam/user_groups/{user_group_id}/members`.

use std::sync::Arc;
use tessera_domain::Entity;

use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use tessera_app::{App, AppError};
use tessera_domain::groups::{Member, MemberStatus};
use tessera_domain::ids::{AccountId, UserId};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::user_groups::group_id;
use crate::envelope::{ApiError, Envelope, ResultInfo};
use crate::extract::{Caller, JsonBody, QueryParams, request_meta, run};

/// A member.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    /// The user's id, as a string.
    pub id: String,
    /// The user's email.
    pub email: Option<String>,
    /// `accepted` or `pending`.
    #[schema(value_type = crate::schema::MemberStatusDoc)]
    pub status: MemberStatus,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        Self {
            id: m.user_id.to_string(),
            email: m.email,
            status: m.status,
        }
    }
}

/// A user id as a JSON string or number.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum UserRef {
    /// `"42"`.
    Text(String),
    /// `42`.
    Number(#[serde(deserialize_with = "crate::serde_util::integral")] i64),
}

impl utoipa::PartialSchema for UserRef {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::schema::id_string_or_number(
            "A user id, as a decimal string or a number.",
            Some("^[1-9][0-9]{0,17}$"),
        )
    }
}

impl ToSchema for UserRef {}

/// One member as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct MemberBody {
    /// The user's id.
    pub id: UserRef,
    /// `accepted` (default) or `pending`.
    #[schema(value_type = Option<crate::schema::MemberStatusDoc>)]
    pub status: Option<MemberStatus>,
}

/// Members as sent: a bare array or `{"members": [...]}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum MembersBody {
    /// `[{"id": …}]`.
    List(Vec<MemberBody>),
    /// `{"members": [{"id": …}]}`.
    Wrapped {
        /// The members.
        members: Vec<MemberBody>,
    },
}

impl crate::extract::RequestBody for MembersBody {
    const ROOT_ARRAY: bool = true;
}

impl Validate for MembersBody {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

fn members(body: MembersBody) -> Result<Vec<(UserId, MemberStatus)>, ApiError> {
    let list = match body {
        MembersBody::List(l) | MembersBody::Wrapped { members: l } => l,
    };
    list.into_iter()
        .enumerate()
        .map(|(i, m)| {
            let id = match m.id {
                UserRef::Number(n) => n,
                UserRef::Text(t) => t.trim().parse().map_err(|_| {
                    ApiError::bad_request(format!(
                        "members[{i}].id: expected a user id such as \"42\", not '{t}'"
                    ))
                })?,
            };
            Ok((UserId(id), m.status.unwrap_or(MemberStatus::Accepted)))
        })
        .collect()
}

/// Paging of the members list.
#[derive(Debug, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberParams {
    /// Page number, from 1.
    #[serde(default, deserialize_with = "crate::serde_util::query_number")]
    #[validate(range(min = 1, max = 1_000_000, message = "must be between 1 and 1000000"))]
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Members per page (default 20, at most 1000).
    #[serde(default, deserialize_with = "crate::serde_util::query_number")]
    #[validate(range(min = 1, max = 1000, message = "must be between 1 and 1000"))]
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<u32>,
    /// `asc` (default) or `desc` by user id.
    #[param(inline)]
    pub direction: Option<crate::paging::Direction>,
    /// Email contains (case-insensitive).
    #[serde(rename = "fuzzyEmail")]
    #[param(rename = "fuzzyEmail")]
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    #[param(max_length = 200)]
    pub fuzzy_email: Option<String>,
}

/// The group's members, paged.
#[utoipa::path(tag = "User groups", params(("account_id" = i64, Path), ("user_group_id" = String, Path), MemberParams),
    responses((status = 200, body = Envelope<Vec<MemberView>>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/iam/user_groups/{user_group_id}/members")]
pub async fn list_members(
    app: web::Data<Arc<App>>,
    caller: Caller,
    path: web::Path<(i64, String)>,
    params: QueryParams<MemberParams>,
) -> Result<HttpResponse, ApiError> {
    let (account, group) = path.into_inner();
    let group = group_id(&group)?;
    let p = params.0;
    let list = run(&app, move |app| {
        app.list_members(&caller.0, AccountId(account), group)
    })
    .await?;
    let fuzzy = p.fuzzy_email.as_deref().map(str::to_lowercase);
    let mut matching: Vec<MemberView> = list
        .into_iter()
        .filter(|m| {
            fuzzy.as_deref().is_none_or(|f| {
                m.email
                    .as_deref()
                    .is_some_and(|e| e.to_lowercase().contains(f))
            })
        })
        .map(MemberView::from)
        .collect();
    if p.direction == Some(crate::paging::Direction::Desc) {
        matching.reverse();
    }
    let per_page = p.per_page.unwrap_or(crate::paging::DEFAULT_PER_PAGE);
    let page = p.page.unwrap_or(1);
    let total = i64::try_from(matching.len()).unwrap_or(i64::MAX);
    let items: Vec<MemberView> = matching
        .into_iter()
        .skip(usize::try_from((page - 1) * u64::from(per_page)).unwrap_or(usize::MAX))
        .take(per_page as usize)
        .collect();
    let info = ResultInfo {
        page,
        per_page,
        count: items.len(),
        total_count: Some(total),
        cursor: None,
    };
    Ok(Envelope::page(items, info).respond())
}

async fn set(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
    body: MembersBody,
    replace: bool,
) -> Result<HttpResponse, ApiError> {
    let (account, group) = path.into_inner();
    let group = group_id(&group)?;
    let list = members(body)?;
    let meta = request_meta(&req);
    let all = run(&app, move |app| {
        app.set_members(&caller.0, &meta, AccountId(account), group, list, replace)
    })
    .await?;
    let views: Vec<MemberView> = all.into_iter().map(MemberView::from).collect();
    Ok(Envelope::ok(views).respond())
}

/// Adds members.
#[utoipa::path(tag = "User groups", params(("account_id" = i64, Path), ("user_group_id" = String, Path)),
    request_body = MembersBody,
    responses((status = 200, body = Envelope<Vec<MemberView>>), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[post("/accounts/{account_id}/iam/user_groups/{user_group_id}/members")]
pub async fn add_members(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
    body: JsonBody<MembersBody>,
) -> Result<HttpResponse, ApiError> {
    set(app, caller, req, path, body.0, false).await
}

/// Sets the exact list of members.
#[utoipa::path(tag = "User groups", params(("account_id" = i64, Path), ("user_group_id" = String, Path)),
    request_body = MembersBody,
    responses((status = 200, body = Envelope<Vec<MemberView>>), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[put("/accounts/{account_id}/iam/user_groups/{user_group_id}/members")]
pub async fn replace_members(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
    body: JsonBody<MembersBody>,
) -> Result<HttpResponse, ApiError> {
    set(app, caller, req, path, body.0, true).await
}

/// Removes a member; answers with the member removed.
#[utoipa::path(tag = "User groups", params(("account_id" = i64, Path), ("user_group_id" = String, Path), ("member_id" = String, Path)),
    responses((status = 200, body = Envelope<MemberView>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[delete("/accounts/{account_id}/iam/user_groups/{user_group_id}/members/{member_id}")]
pub async fn remove_member(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, group, member) = path.into_inner();
    let group = group_id(&group)?;
    let user = member
        .trim()
        .parse::<i64>()
        .map_err(|_| ApiError::from(AppError::NotFound(Entity::Member)))?;
    let meta = request_meta(&req);
    let removed = run(&app, move |app| {
        app.remove_member(&caller.0, &meta, AccountId(account), group, UserId(user))
    })
    .await?;
    Ok(Envelope::ok(MemberView::from(removed)).respond())
}
