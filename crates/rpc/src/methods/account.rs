//! GetAccountInfo: the caller's own account (a basic method: every key may call it).

use serde::Deserialize;
use tessera_app::{App, Principal};
use tessera_domain::audit::RequestMeta;
use utoipa::ToSchema;
use validator::Validate;

use crate::answers::AccountInfo;
use crate::error::RpcError;
use crate::params::{self, Params};
use crate::views::AccountInfoView;

/// GetAccountInfo.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct GetAccountInfoParams {
    /// Accepted (a boolean) and ignored: Tessera keeps no balance.
    #[serde(default, deserialize_with = "params::opt_bool")]
    #[schema(value_type = Option<bool>)]
    pub return_live_balance: Option<bool>,
}

/// The caller's account: id, name, email, active flag and creation time, in the shape of
/// Voximplant's `AccountInfoType` (without its billing fields, which Tessera does not have).
///
/// # Errors
/// 101 for a `return_live_balance` that is not a boolean.
pub fn get_account_info(
    app: &App,
    p: &Principal,
    _: &RequestMeta,
    params: &Params,
) -> Result<AccountInfo, RpcError> {
    let _: GetAccountInfoParams = params.decode()?;
    let account = app.own_account(p)?;
    Ok(AccountInfo {
        result: AccountInfoView::from(&account),
    })
}
