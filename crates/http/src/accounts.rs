//! Accounts: `/v1/accounts` (the caller's and its children) and `/v1/accounts/{account_id}`.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_app::{App, BootstrapCredentials, CreateChildAccount, UpdateAccount};
use tessera_domain::account::Account;
use tessera_domain::ids::AccountId;
use utoipa::ToSchema;
use validator::Validate;

use crate::envelope::{ApiError, Envelope};
use crate::extract::{Caller, JsonBody, QueryParams, Reads, request_meta, run};
use crate::paging::{ListParams, Listed};
use crate::serde_util::double_option;

/// An account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Parent account, for a child account.
    pub parent_id: Option<i64>,
    /// Whether its credentials work.
    pub active: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Longest lifetime of a key created or given an expiry here, in days (`null`: no limit).
    pub max_key_lifetime_days: Option<u32>,
    /// Whether password users must sign in with a second factor (TOTP); one without a
    /// confirmed enrolment enrols at sign-in. SSO users and keys are not concerned.
    pub require_mfa: bool,
    /// Cloudflare's account settings: `enforce_twofactor` is `require_mfa` under Cloudflare's
    /// name.
    pub settings: AccountSettingsView,
}

/// Cloudflare's `settings` object of an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountSettingsView {
    /// The same as `require_mfa`.
    pub enforce_twofactor: bool,
}

/// Cloudflare's `settings` object in a change (`{"settings": {"enforce_twofactor": true}}`).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AccountSettingsBody {
    /// The same as `require_mfa`.
    pub enforce_twofactor: Option<bool>,
}

impl Listed for AccountView {
    fn list_id(&self) -> String {
        self.id.to_string()
    }

    fn list_name(&self) -> Option<&str> {
        Some(&self.name)
    }
}

impl From<Account> for AccountView {
    fn from(a: Account) -> Self {
        Self {
            id: a.id.0,
            name: a.name,
            email: a.email,
            parent_id: a.parent_id.map(|p| p.0),
            active: a.active,
            created_at: a.created_at,
            max_key_lifetime_days: a.max_key_lifetime_days,
            require_mfa: a.require_mfa,
            settings: AccountSettingsView {
                enforce_twofactor: a.require_mfa,
            },
        }
    }
}

/// A new child account.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateAccountBody {
    /// Name.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000]*[^\s\u0085\u0000][^\u0000]*$"
    )]
    pub name: String,
    /// Email.
    #[schema(
        max_length = 90,
        pattern = r"^[^@\s\u0085\u0000]+@[^@\s\u0085\u0000.][^@\s\u0085\u0000]*\.[^@\s\u0085\u0000]*[^@\s\u0085\u0000.]$"
    )]
    pub email: String,
    /// Its owner's login (default `admin`).
    #[schema(pattern = "^[A-Za-z][A-Za-z0-9._-]{4,19}$")]
    pub owner_login: Option<String>,
    /// Its owner's email (default: the account's).
    #[schema(
        max_length = 90,
        pattern = r"^[^@\s\u0085\u0000]+@[^@\s\u0085\u0000.][^@\s\u0085\u0000]*\.[^@\s\u0085\u0000]*[^@\s\u0085\u0000.]$"
    )]
    pub owner_email: Option<String>,
    /// The account to create it under (default: the caller's own); Manage Enterprise Accounts
    /// write is needed there.
    #[schema(minimum = 1)]
    pub parent_id: Option<i64>,
}

impl crate::extract::RequestBody for CreateAccountBody {}

/// Changes to an account.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
pub struct UpdateAccountBody {
    /// New name.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000]*[^\s\u0085\u0000][^\u0000]*$"
    )]
    pub name: Option<String>,
    /// New email.
    #[schema(
        max_length = 90,
        pattern = r"^[^@\s\u0085\u0000]+@[^@\s\u0085\u0000.][^@\s\u0085\u0000]*\.[^@\s\u0085\u0000]*[^@\s\u0085\u0000.]$"
    )]
    pub email: Option<String>,
    /// Activate or deactivate a child account (from its parent).
    pub active: Option<bool>,
    /// Longest lifetime of the account's keys, in days, 1–3650 (`null` removes the limit):
    /// a key created or given an expiry from then on expires within it (by default at it).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 3650)]
    pub max_key_lifetime_days: Option<Option<u32>>,
    /// Require a second factor (TOTP) of the account's password users from their next
    /// sign-in (Account Settings write).
    pub require_mfa: Option<bool>,
    /// Cloudflare's settings: `enforce_twofactor` is `require_mfa` (giving both, they must
    /// agree).
    pub settings: Option<AccountSettingsBody>,
}

impl UpdateAccountBody {
    /// `require_mfa`, said directly or as Cloudflare's `settings.enforce_twofactor`.
    ///
    /// # Errors
    /// 400 naming `settings.enforce_twofactor` when both are given and disagree.
    pub fn required_mfa(&self) -> Result<Option<bool>, ApiError> {
        let cloudflare = self.settings.as_ref().and_then(|s| s.enforce_twofactor);
        match (self.require_mfa, cloudflare) {
            (Some(a), Some(b)) if a != b => Err(ApiError::bad_request(
                "settings.enforce_twofactor: must agree with require_mfa when both are given",
            )),
            (a, b) => Ok(a.or(b)),
        }
    }
}

impl crate::extract::RequestBody for UpdateAccountBody {}

/// The owner of a new account.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnerCredentials {
    /// Id.
    pub user_id: i64,
    /// Login.
    pub login: String,
    /// Email.
    pub email: Option<String>,
    /// Generated password (shown once).
    pub password: String,
}

/// An access key's secrets (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessKeyCredentials {
    /// Id.
    pub id: String,
    /// Secret.
    pub secret: String,
    /// `tsr_<id>_<secret>`.
    pub token: String,
}

/// A service key's credentials file (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceKeyCredentials {
    /// The account's email.
    pub account_email: String,
    /// The account.
    pub account_id: i64,
    /// The key.
    pub key_id: String,
    /// PKCS#8 PEM.
    pub private_key: String,
}

/// A new account's credentials: the same JSON as `initial-credentials.json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountCredentials {
    /// Id.
    pub account_id: i64,
    /// Name.
    pub account_name: String,
    /// Email.
    pub account_email: String,
    /// Its owner.
    pub owner: OwnerCredentials,
    /// The owner's access key.
    pub access_key: AccessKeyCredentials,
    /// The account's service key (role Owner).
    pub service_key: ServiceKeyCredentials,
}

impl From<BootstrapCredentials> for AccountCredentials {
    fn from(c: BootstrapCredentials) -> Self {
        Self {
            account_id: c.account.id.0,
            account_name: c.account.name.clone(),
            account_email: c.account.email.clone(),
            owner: OwnerCredentials {
                user_id: c.owner.id.0,
                login: c.owner.login.as_str().to_owned(),
                email: c.owner.email.clone(),
                password: c.owner_password.expose().to_owned(),
            },
            access_key: AccessKeyCredentials {
                id: c.access_key.id.to_string(),
                secret: c.access_key.secret.expose().to_owned(),
                token: c.access_key.token.expose().to_owned(),
            },
            service_key: ServiceKeyCredentials {
                account_email: c.account.email,
                account_id: c.account.id.0,
                key_id: c.service_key.key_id.to_string(),
                private_key: c.service_key.private_key.expose().to_owned(),
            },
        }
    }
}

/// The caller's account and the child accounts it manages, by id; all of them unless
/// `per_page` is given.
#[utoipa::path(tag = "Accounts", params(ListParams),
    responses((status = 200, body = Envelope<Vec<AccountView>>), (status = 401)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts")]
pub async fn list_accounts(
    app: web::Data<Arc<App>>,
    caller: Caller,
    params: QueryParams<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.0.whole_by_default();
    let list = run(&app, move |app| app.list_accounts(&caller.0)).await?;
    let mut views: Vec<AccountView> = list.into_iter().map(AccountView::from).collect();
    views.sort_by_key(|a| a.id);
    params.respond_whole(views)
}

/// Creates a child account with its own owner, access key and service key; the answer shows
/// their secrets, once. Needs Manage Enterprise Accounts.
#[utoipa::path(tag = "Accounts", request_body = CreateAccountBody,
    responses((status = 200, body = Envelope<AccountCredentials>), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[post("/accounts")]
pub async fn create_account(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    body: JsonBody<CreateAccountBody>,
) -> Result<HttpResponse, ApiError> {
    let meta = request_meta(&req);
    let b = body.0;
    let cmd = CreateChildAccount {
        name: b.name,
        email: b.email,
        owner_login: b.owner_login,
        owner_email: b.owner_email,
        parent_id: b.parent_id.map(AccountId),
    };
    let creds = run(&app, move |app| {
        app.create_child_account(&caller.0, &meta, cmd)
    })
    .await?;
    Ok(Envelope::ok(AccountCredentials::from(creds)).respond())
}

/// One account's settings.
#[utoipa::path(tag = "Accounts", params(("account_id" = i64, Path)),
    responses((status = 200, body = Envelope<AccountView>), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[get("/accounts/{account_id}")]
pub async fn get_account(
    app: web::Data<Arc<App>>,
    caller: Caller,
    reads: Reads,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let a = reads
        .run(&app, move |app| app.get_account(&caller.0, account))
        .await?;
    Ok(Envelope::ok(AccountView::from(a)).respond())
}

/// Changes an account's name, email, longest key lifetime or second-factor requirement
/// (`require_mfa`, or Cloudflare's `settings.enforce_twofactor`), or (from its parent)
/// deactivates it.
#[utoipa::path(tag = "Accounts", params(("account_id" = i64, Path)), request_body = UpdateAccountBody,
    responses((status = 200, body = Envelope<AccountView>), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = []), ("basic" = []), ("x_auth_email" = [], "x_auth_key" = [])))]
#[patch("/accounts/{account_id}")]
pub async fn update_account(
    app: web::Data<Arc<App>>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: JsonBody<UpdateAccountBody>,
) -> Result<HttpResponse, ApiError> {
    let account = AccountId(path.into_inner());
    let meta = request_meta(&req);
    let b = body.0;
    let require_mfa = b.required_mfa()?;
    let cmd = UpdateAccount {
        name: b.name,
        email: b.email,
        active: b.active,
        max_key_lifetime_days: b.max_key_lifetime_days,
        require_mfa,
    };
    let a = run(&app, move |app| {
        app.update_account(&caller.0, &meta, account, cmd)
    })
    .await?;
    Ok(Envelope::ok(AccountView::from(a)).respond())
}
