//! Who is calling: the credential headers every adapter reads ([`Presented::from_headers`]:
//! service-key JWT, access key, session, `X-Auth-Email` + `X-Auth-Key`), or the legacy
//! `account_id`/`account_name` + `api_key` parameters.

use std::sync::Arc;

use actix_web::{HttpRequest, web};
use tessera_app::{App, AppError, AuthFailure, LegacyAccount, Presented, Principal};
use tessera_domain::Secret;
use tessera_domain::audit::RequestMeta;
use tessera_domain::ids::AccountId;

use crate::error::RpcError;
use crate::params::Params;

fn presented(req: &HttpRequest, params: &Params) -> Result<Presented, RpcError> {
    if let Some(found) = Presented::from_headers(|name| {
        req.headers()
            .get(name)
            .and_then(|v| tessera_app::auth::header_text(v.as_bytes()))
    }) {
        return Ok(found);
    }
    let api_key = params.get("api_key").filter(|k| !k.is_empty());
    let account = match (params.get("account_id"), params.get("account_name")) {
        (Some(id), _) if !id.is_empty() => Some(LegacyAccount::Id(AccountId(
            id.trim().parse().map_err(|_| {
                RpcError::invalid(
                    "account_id",
                    format!("expected an integer such as 42, not '{id}'"),
                )
            })?,
        ))),
        (_, Some(name)) if !name.is_empty() => Some(LegacyAccount::Name(name.to_owned())),
        _ => None,
    };
    match (account, api_key) {
        (Some(account), Some(key)) => Ok(Presented::Legacy {
            account,
            api_key: Secret::new(key),
        }),
        _ => Err(AppError::Unauthenticated(AuthFailure::Missing).into()),
    }
}

/// Authenticates the call (from the principal cache when possible, else on the blocking pool).
///
/// # Errors
/// 100, 340, 447, 454, 455, 456.
pub async fn authenticate(
    app: &web::Data<Arc<App>>,
    req: &HttpRequest,
    params: &Params,
    meta: &RequestMeta,
) -> Result<Arc<Principal>, RpcError> {
    let presented = presented(req, params)?;
    if let Some(hit) = app.authenticate_cached(&presented, meta) {
        return hit.map_err(Into::into);
    }
    let app = app.get_ref().clone();
    let meta = meta.clone();
    web::block(move || app.authenticate(&presented, &meta))
        .await
        .map_err(|_| RpcError::from(AppError::Internal("the blocking pool is gone".into())))?
        .map_err(Into::into)
}
