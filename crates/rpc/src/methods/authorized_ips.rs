//! AddAuthorizedAccountIP, DelAuthorizedAccountIP, GetAuthorizedAccountIPs,
//! CheckAuthorizedAccountIP: the caller's account's authorized IPs, as the official client calls
//! them. Addresses and networks may be IPv6 too; `force` (a Tessera addition) makes a change that
//! would refuse the caller's own address.

use serde::Deserialize;
use tessera_app::{
    AddAuthorizedIp, App, AuthorizedIpFilter, DeleteAuthorizedIps, IpTarget, Principal,
};
use tessera_domain::audit::RequestMeta;
use tessera_domain::authorized_ips::{Network, parse_address};
use utoipa::ToSchema;
use validator::Validate;

use crate::answers::{AuthorizedIpCheck, AuthorizedIpPage, Done, Removed};
use crate::error::RpcError;
use crate::params::{self, Params};
use crate::views::AuthorizedIpView;

/// Default page size of `GetAuthorizedAccountIPs` (Voximplant's).
const DEFAULT_COUNT: i64 = 50;

/// AddAuthorizedAccountIP.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct AddAuthorizedIpParams {
    /// The address or CIDR network (IPv4, or IPv6).
    #[serde(deserialize_with = "params::text")]
    #[schema(example = "192.0.2.0/24")]
    pub authorized_ip: String,
    /// `false` adds a deny entry.
    #[serde(default, deserialize_with = "params::opt_bool")]
    #[schema(default = true)]
    pub allowed: Option<bool>,
    /// What it is for.
    #[serde(default, deserialize_with = "params::opt_text")]
    #[validate(length(max = 255, message = "must be at most 255 characters"))]
    pub description: Option<String>,
    /// Add it even if the list then refuses the caller's own address.
    #[serde(default, deserialize_with = "params::opt_bool")]
    #[schema(default = false)]
    pub force: Option<bool>,
}

/// Adds an allow (or, with `allowed=false`, a deny) entry: `{"result": 1}`.
///
/// # Errors
/// 134, 101, 104.
pub fn add_authorized_account_ip(
    app: &App,
    p: &Principal,
    meta: &RequestMeta,
    params: &Params,
) -> Result<Done, RpcError> {
    let a: AddAuthorizedIpParams = params.decode()?;
    let cmd = AddAuthorizedIp {
        network: Network::parse("authorized_ip", &a.authorized_ip)?,
        allowed: a.allowed.unwrap_or(true),
        description: a.description,
        force: a.force.unwrap_or(false),
    };
    app.add_authorized_ip(p, meta, p.account_id, cmd)?;
    Ok(Done::ONE)
}

/// DelAuthorizedAccountIP.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct DelAuthorizedIpParams {
    /// The network to remove, or `all`.
    #[serde(default, deserialize_with = "params::opt_text")]
    #[schema(example = "192.0.2.0/24")]
    pub authorized_ip: Option<String>,
    /// Remove every entry containing this address (instead of `authorized_ip`).
    #[serde(default, deserialize_with = "params::opt_text")]
    pub contains_ip: Option<String>,
    /// Only allow (`true`) or deny (`false`) entries; absent: both.
    #[serde(default, deserialize_with = "params::opt_bool")]
    pub allowed: Option<bool>,
    /// Remove them even if the list then refuses the caller's own address.
    #[serde(default, deserialize_with = "params::opt_bool")]
    #[schema(default = false)]
    pub force: Option<bool>,
}

/// Removes entries: `{"result": N}`, how many went.
///
/// # Errors
/// 134 (neither `authorized_ip` nor `contains_ip`), 101, 104.
pub fn del_authorized_account_ip(
    app: &App,
    p: &Principal,
    meta: &RequestMeta,
    params: &Params,
) -> Result<Removed, RpcError> {
    let a: DelAuthorizedIpParams = params.decode()?;
    let named = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let target = match (named(a.authorized_ip), named(a.contains_ip)) {
        (Some(_), Some(_)) => {
            return Err(RpcError::invalid(
                "contains_ip",
                "authorized_ip and contains_ip cannot be used together",
            ));
        }
        (Some(all), None) if all.trim().eq_ignore_ascii_case("all") => IpTarget::All,
        (Some(ip), None) => IpTarget::Network(Network::parse("authorized_ip", &ip)?),
        (None, Some(ip)) => IpTarget::Containing(parse_address("contains_ip", &ip)?),
        (None, None) => return Err(RpcError::required("authorized_ip")),
    };
    let removed = app.delete_authorized_ips(
        p,
        meta,
        p.account_id,
        DeleteAuthorizedIps {
            target,
            allowed: a.allowed,
            force: a.force.unwrap_or(false),
        },
    )?;
    Ok(Removed { result: removed })
}

/// GetAuthorizedAccountIPs.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct GetAuthorizedIpsParams {
    /// Only the entry for this network.
    #[serde(default, deserialize_with = "params::opt_text")]
    pub authorized_ip: Option<String>,
    /// Only allow (`true`) or deny (`false`) entries.
    #[serde(default, deserialize_with = "params::opt_bool")]
    pub allowed: Option<bool>,
    /// Only entries containing this address.
    #[serde(default, deserialize_with = "params::opt_text")]
    pub contains_ip: Option<String>,
    /// Only entries whose description contains this text (case-insensitive).
    #[serde(default, deserialize_with = "params::opt_text")]
    #[validate(length(max = 255, message = "must be at most 255 characters"))]
    pub description: Option<String>,
    /// Records to return (default 50, at most 1000).
    #[serde(default, deserialize_with = "params::opt_int")]
    #[validate(range(min = 0, max = 1000, message = "must be between 0 and 1000"))]
    #[schema(minimum = 0, maximum = 1000, default = 50, example = 50)]
    pub count: Option<i64>,
    /// Records to skip.
    #[serde(default, deserialize_with = "params::opt_int")]
    #[validate(range(min = 0, message = "must not be negative"))]
    #[schema(minimum = 0, default = 0, example = 0)]
    pub offset: Option<i64>,
}

/// Lists entries, oldest first: `{"result": [AuthorizedIpView], "total_count", "count"}`.
///
/// # Errors
/// 101, 104.
pub fn get_authorized_account_ips(
    app: &App,
    p: &Principal,
    _: &RequestMeta,
    params: &Params,
) -> Result<AuthorizedIpPage, RpcError> {
    let a: GetAuthorizedIpsParams = params.decode()?;
    let named = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let filter = AuthorizedIpFilter {
        network: named(a.authorized_ip)
            .map(|n| Network::parse("authorized_ip", &n))
            .transpose()?,
        allowed: a.allowed,
        containing: named(a.contains_ip)
            .map(|ip| parse_address("contains_ip", &ip))
            .transpose()?,
        description: named(a.description),
        limit: u32::try_from(a.count.unwrap_or(DEFAULT_COUNT)).unwrap_or(0),
        offset: u64::try_from(a.offset.unwrap_or(0)).unwrap_or(0),
    };
    let page = app.list_authorized_ips(p, p.account_id, &filter)?;
    let result: Vec<AuthorizedIpView> = page.items.iter().map(AuthorizedIpView::from).collect();
    Ok(AuthorizedIpPage {
        count: result.len(),
        result,
        total_count: page.total,
    })
}

/// CheckAuthorizedAccountIP.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CheckAuthorizedIpParams {
    /// The address to test.
    #[serde(deserialize_with = "params::text")]
    #[schema(example = "192.0.2.1")]
    pub authorized_ip: String,
}

/// Whether the account's list admits an address: `{"result": bool, "authorized_ip": entry?}`
/// (the entry that decided, when one did).
///
/// # Errors
/// 134, 101, 104.
pub fn check_authorized_account_ip(
    app: &App,
    p: &Principal,
    _: &RequestMeta,
    params: &Params,
) -> Result<AuthorizedIpCheck, RpcError> {
    let a: CheckAuthorizedIpParams = params.decode()?;
    let address = parse_address("authorized_ip", &a.authorized_ip)?;
    let checked = app.check_authorized_ip(p, p.account_id, address)?;
    Ok(AuthorizedIpCheck {
        result: checked.allowed,
        authorized_ip: checked.matched.map(|n| n.to_string()),
    })
}
