//! Authorized IPs: `/v1/accounts/{account_id}/authorized_ips` — the REST face of the method
//! API's `AddAuthorizedAccountIP` & co., IPv4 and IPv6.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_app::{AddAuthorizedIp, App, AuthorizedIpFilter, DeleteAuthorizedIps, IpTarget};
use tessera_domain::authorized_ips::{AuthorizedIp, MAX_AUTHORIZED_IPS, Network, parse_address};
use tessera_domain::ids::AccountId;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::envelope::{ApiError, Envelope};
use crate::extract::{Caller, JsonBody, QueryParams, request_meta, run};
use crate::paging::PageParams;

/// An entry of the account's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizedIpView {
    /// The address (`192.0.2.1`) or network (`192.0.2.0/24`, `2001:db8::/32`), canonical.
    pub authorized_ip: String,
    /// `true`: allowed; `false`: denied.
    pub allowed: bool,
    /// What it is for.
    pub description: Option<String>,
    /// When it was added.
    pub created: DateTime<Utc>,
}

impl From<AuthorizedIp> for AuthorizedIpView {
    fn from(e: AuthorizedIp) -> Self {
        Self {
            authorized_ip: e.network.to_string(),
            allowed: e.allowed,
            description: e.description,
            created: e.created,
        }
    }
}

/// A new entry.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct AddAuthorizedIpBody {
    /// An address or CIDR network, IPv4 or IPv6 (host bits are cleared: `192.0.2.7/24` is
    /// `192.0.2.0/24`).
    #[validate(length(min = 1, max = 64, message = "must be 1 to 64 characters"))]
    #[schema(min_length = 1, max_length = 64, example = "192.0.2.0/24")]
    pub authorized_ip: String,
    /// `false` adds a deny entry.
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub allowed: bool,
    /// What it is for.
    #[validate(length(max = 255, message = "must be at most 255 characters"))]
    #[schema(max_length = 255)]
    pub description: Option<String>,
    /// Add it even if the list then refuses the address making this request.
    #[serde(default)]
    pub force: bool,
}

fn yes() -> bool {
    true
}

impl crate::extract::RequestBody for AddAuthorizedIpBody {}

/// Filters and paging of the list.
#[derive(Debug, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListAuthorizedIpsParams {
    /// Only the entry for this network.
    #[param(max_length = 64)]
    #[validate(length(max = 64, message = "must be at most 64 characters"))]
    pub authorized_ip: Option<String>,
    /// Only allow (`true`) or deny (`false`) entries.
    pub allowed: Option<bool>,
    /// Only entries containing this address.
    #[param(max_length = 64)]
    #[validate(length(max = 64, message = "must be at most 64 characters"))]
    pub contains_ip: Option<String>,
    /// Only entries whose description contains this text (case-insensitive).
    #[param(max_length = 255)]
    #[validate(length(max = 255, message = "must be at most 255 characters"))]
    pub description: Option<String>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    #[serde(default, deserialize_with = "crate::serde_util::query_number")]
    #[validate(range(min = 1, max = 1_000_000, message = "must be between 1 and 1000000"))]
    pub page: Option<u64>,
    /// Items per page (default: all of them, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    #[serde(default, deserialize_with = "crate::serde_util::query_number")]
    #[validate(range(min = 1, max = 1000, message = "must be between 1 and 1000"))]
    pub per_page: Option<u32>,
}

/// Which entries to remove.
#[derive(Debug, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteAuthorizedIpsParams {
    /// The network to remove, or `all`.
    #[param(max_length = 64)]
    #[validate(length(max = 64, message = "must be at most 64 characters"))]
    pub authorized_ip: Option<String>,
    /// Remove every entry containing this address (instead of `authorized_ip`).
    #[param(max_length = 64)]
    #[validate(length(max = 64, message = "must be at most 64 characters"))]
    pub contains_ip: Option<String>,
    /// Only allow (`true`) or deny (`false`) entries; absent: both.
    pub allowed: Option<bool>,
    /// Remove them even if the list then refuses the address making this request.
    pub force: Option<bool>,
}

/// The address to test.
#[derive(Debug, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckAuthorizedIpParams {
    /// An IPv4 or IPv6 address.
    #[param(max_length = 64, example = "192.0.2.1")]
    #[validate(length(min = 1, max = 64, message = "must be 1 to 64 characters"))]
    pub ip: String,
}

/// How many entries a removal took.
#[derive(Debug, Serialize, ToSchema)]
pub struct RemovedView {
    /// Entries removed (0 when none matched: nothing changed).
    pub removed: u64,
}

/// Whether an address may call.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckView {
    /// The address tested (canonical).
    pub ip: String,
    /// Whether the account's list admits it.
    pub allowed: bool,
    /// The entry that decided (the deny entry that refuses it, or the allow entry that admits
    /// it); `null` when none matched.
    pub authorized_ip: Option<String>,
}

/// A key's `allowed_ips` as a request gives them (`[]` clears them).
///
/// # Errors
/// 400 naming `allowed_ips` for one that does not parse.
pub(crate) fn allowed_ips(given: Option<Vec<String>>) -> Result<Option<Vec<Network>>, ApiError> {
    given
        .map(|list| {
            list.iter()
                .map(|n| Network::parse("allowed_ips", n))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()
        .map_err(|e| ApiError::from(tessera_app::AppError::from(e)))
}

/// A key's `allowed_ips` as answers show them.
pub(crate) fn shown(networks: &[Network]) -> Vec<String> {
    networks.iter().map(ToString::to_string).collect()
}

fn named(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

/// The account's authorized IPs, oldest first (Account Settings read; all of them unless
/// `per_page` is given).
#[utoipa::path(tag = "Authorized IPs", params(("account_id" = i64, Path), ListAuthorizedIpsParams),
    responses((status = 200, body = Envelope<Vec<AuthorizedIpView>>), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/authorized_ips")]
pub async fn list_authorized_ips(
    app: web::Data<Arc<App>>,
    caller: Caller,
    path: web::Path<i64>,
    params: QueryParams<ListAuthorizedIpsParams>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let p = params.0;
    let filter = AuthorizedIpFilter {
        network: named(p.authorized_ip)
            .map(|n| Network::parse("authorized_ip", &n))
            .transpose()
            .map_err(tessera_app::AppError::from)?,
        allowed: p.allowed,
        containing: named(p.contains_ip)
            .map(|ip| parse_address("contains_ip", &ip))
            .transpose()
            .map_err(tessera_app::AppError::from)?,
        description: named(p.description),
        limit: u32::try_from(MAX_AUTHORIZED_IPS).unwrap_or(u32::MAX),
        offset: 0,
    };
    let page = run(&app, move |app| {
        app.list_authorized_ips(&caller.0, account, &filter)
    })
    .await?;
    let views: Vec<AuthorizedIpView> = page.items.into_iter().map(Into::into).collect();
    Ok(PageParams {
        page: p.page,
        per_page: p.per_page,
    }
    .respond(views))
}

/// Adds an allow (or, with `"allowed": false`, a deny) entry (Account Settings write). An entry
/// that would make the list refuse the address making the request needs `"force": true`
/// (409 otherwise); at most 1000 entries per account (409).
#[utoipa::path(tag = "Authorized IPs", params(("account_id" = i64, Path)), request_body = AddAuthorizedIpBody,
    responses((status = 200, body = Envelope<AuthorizedIpView>), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[post("/accounts/{account_id}/authorized_ips")]
pub async fn add_authorized_ip(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: JsonBody<AddAuthorizedIpBody>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let meta = request_meta(&req);
    let b = body.0;
    let cmd = AddAuthorizedIp {
        network: Network::parse("authorized_ip", &b.authorized_ip)
            .map_err(tessera_app::AppError::from)?,
        allowed: b.allowed,
        description: b.description,
        force: b.force,
    };
    let entry = run(&app, move |app| {
        app.add_authorized_ip(&caller.0, &meta, account, cmd)
    })
    .await?;
    Ok(Envelope::ok(AuthorizedIpView::from(entry)).respond())
}

/// Removes the entry for `authorized_ip` (or every entry with `authorized_ip=all`), or every
/// entry containing `contains_ip`; `allowed` narrows to allow or deny entries (Account
/// Settings write). A removal that would make the list refuse the address making the request
/// needs `force=true` (409 otherwise).
#[utoipa::path(tag = "Authorized IPs", params(("account_id" = i64, Path), DeleteAuthorizedIpsParams),
    responses((status = 200, body = Envelope<RemovedView>), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[delete("/accounts/{account_id}/authorized_ips")]
pub async fn delete_authorized_ips(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    params: QueryParams<DeleteAuthorizedIpsParams>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let meta = request_meta(&req);
    let p = params.0;
    let target = match (named(p.authorized_ip), named(p.contains_ip)) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "contains_ip: authorized_ip and contains_ip cannot be used together",
            ));
        }
        (Some(all), None) if all.trim().eq_ignore_ascii_case("all") => IpTarget::All,
        (Some(ip), None) => IpTarget::Network(
            Network::parse("authorized_ip", &ip).map_err(tessera_app::AppError::from)?,
        ),
        (None, Some(ip)) => IpTarget::Containing(
            parse_address("contains_ip", &ip).map_err(tessera_app::AppError::from)?,
        ),
        (None, None) => {
            return Err(ApiError::bad_request(
                "authorized_ip: name the network to remove (or all), or give contains_ip",
            ));
        }
    };
    let cmd = DeleteAuthorizedIps {
        target,
        allowed: p.allowed,
        force: p.force.unwrap_or(false),
    };
    let removed = run(&app, move |app| {
        app.delete_authorized_ips(&caller.0, &meta, account, cmd)
    })
    .await?;
    Ok(Envelope::ok(RemovedView { removed }).respond())
}

/// Whether the account's list admits an address, and the entry that decided (Account Settings
/// read). A key's own `allowed_ips` are not consulted.
#[utoipa::path(tag = "Authorized IPs", params(("account_id" = i64, Path), CheckAuthorizedIpParams),
    responses((status = 200, body = Envelope<CheckView>), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}/authorized_ips/check")]
pub async fn check_authorized_ip(
    app: web::Data<Arc<App>>,
    caller: Caller,
    path: web::Path<i64>,
    params: QueryParams<CheckAuthorizedIpParams>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let ip = parse_address("ip", &params.0.ip).map_err(tessera_app::AppError::from)?;
    let checked = run(&app, move |app| {
        app.check_authorized_ip(&caller.0, account, ip)
    })
    .await?;
    Ok(Envelope::ok(CheckView {
        ip: ip.to_string(),
        allowed: checked.allowed,
        authorized_ip: checked.matched.map(|n| n.to_string()),
    })
    .respond())
}
