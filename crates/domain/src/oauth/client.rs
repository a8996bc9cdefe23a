//! OAuth clients (Cloudflare's `iam.oauth_clients`): the applications allowed to ask Tessera's
//! users for tokens, with the redirect URIs codes may be sent to and the scopes they may ask
//! for.
//!
//! Everything a client is made of is checked here, on creation and on every update (an update
//! is the current client with the changes applied, checked whole):
//! - `redirect_uris` (1 to [`MAX_URIS`]) and `post_logout_redirect_uris`: absolute `https` URLs,
//!   or `http` for a loopback host only (`127.0.0.1`, `[::1]`, `localhost`: RFC 8252 §7.3), with
//!   no fragment and no user name or password; duplicates are dropped;
//! - `allowed_cors_origins`: origins (`scheme://host[:port]`, nothing else) under the same rule;
//! - `client_uri`, `logo_uri`, `policy_uri`, `tos_uri`: absolute `https` URLs;
//! - `grant_types` must list `authorization_code` (`refresh_token` is optional);
//! - `response_types` must list `code`; `token` (the implicit flow, RFC 9700 §2.1.2) is refused;
//! - `scopes`: names of [`Scope`]; a colon-delimited scope is refused, and so is an unknown one;
//!   the protocol scopes follow the flows: `offline_access` is present exactly when
//!   `grant_types` lists `refresh_token`, `openid` exactly when `response_types` lists
//!   `id_token` (added or removed automatically, as Cloudflare does);
//! - `optional_scopes` ⊆ `scopes`, and never `openid` or `offline_access`.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::{AccountId, OAuthClientId};
use crate::oauth::scope::{IdentityScope, Scope, ScopeSet};

/// Most entries of each URI list (`redirect_uris`, `post_logout_redirect_uris`,
/// `allowed_cors_origins`).
pub const MAX_URIS: usize = 10;
/// Longest URL.
pub const MAX_URI_LEN: usize = 2000;
/// Longest `client_name`, in characters.
pub const MAX_NAME_LEN: usize = 100;
/// Most entries of `scopes` (and of `optional_scopes`) as sent.
pub const MAX_SCOPES: usize = 200;
/// Longest scope name as sent.
pub const MAX_SCOPE_LEN: usize = 100;
/// Most OAuth clients one account may have.
pub const MAX_CLIENTS_PER_ACCOUNT: u32 = 100;

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(
                $(#[$vdoc])*
                #[serde(rename = $text)]
                $variant,
            )+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire (and storage) name.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses a wire name.
            ///
            /// # Errors
            /// `Invalid` naming the field.
            pub fn parse(s: &str) -> Result<Self, DomainError> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    DomainError::invalid(
                        $field,
                        format!("'{}' is not one of {}", shorten(s), names.join(", ")),
                    )
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// An OAuth grant type a client may use at the token endpoint.
    GrantType, "grant_types" {
        /// RFC 6749 §4.1.
        AuthorizationCode = "authorization_code",
        /// RFC 6749 §6.
        RefreshToken = "refresh_token",
    }
);

wire_enum!(
    /// A response type a client may ask `/oauth/authorize` for.
    ResponseType, "response_types" {
        /// An authorization code.
        Code = "code",
        /// An access token from the authorization endpoint (the implicit flow): refused.
        Token = "token",
        /// ID tokens (OpenID Connect); in the code flow they come from the token endpoint.
        IdToken = "id_token",
    }
);

wire_enum!(
    /// How a client authenticates at the token endpoint.
    TokenEndpointAuthMethod, "token_endpoint_auth_method" {
        /// A public client (a browser or native app): no secret; PKCE is required.
        None = "none",
        /// The secret in HTTP Basic (RFC 6749 §2.3.1).
        ClientSecretBasic = "client_secret_basic",
        /// The secret in the form body.
        ClientSecretPost = "client_secret_post",
    }
);

wire_enum!(
    /// Who may see a client: its account only, or every account (after promotion).
    Visibility, "visibility" {
        /// Only its account.
        Private = "private",
        /// Every account (promotion: not offered by Tessera yet).
        Public = "public",
    }
);

impl TokenEndpointAuthMethod {
    /// Whether the client holds a secret.
    #[must_use]
    pub fn is_confidential(self) -> bool {
        self != Self::None
    }
}

/// At most 64 characters of a hostile value, for an error message.
fn shorten(s: &str) -> String {
    s.chars().take(64).collect()
}

/// What a client is made of, as an administrator sets it: every field but the identity, the
/// secret and the times. Check it with [`ClientSettings::checked`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientInput {
    /// Human-readable name.
    pub client_name: String,
    /// Grant types.
    pub grant_types: Vec<String>,
    /// Response types.
    pub response_types: Vec<String>,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Scopes a user may decline.
    pub optional_scopes: Vec<String>,
    /// Token endpoint authentication.
    pub token_endpoint_auth_method: String,
    /// CORS origins.
    pub allowed_cors_origins: Vec<String>,
    /// Post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Home page.
    pub client_uri: Option<String>,
    /// Logo.
    pub logo_uri: Option<String>,
    /// Privacy policy.
    pub policy_uri: Option<String>,
    /// Terms of service.
    pub tos_uri: Option<String>,
}

/// A client's checked settings (see the module's rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSettings {
    /// Human-readable name (trimmed).
    pub client_name: String,
    /// Grant types, in [`GrantType::ALL`] order; `authorization_code` is always there.
    pub grant_types: Vec<GrantType>,
    /// Response types, in [`ResponseType::ALL`] order; `code` is always there.
    pub response_types: Vec<ResponseType>,
    /// Redirect URIs, as given (duplicates dropped); compared exactly at `/oauth/authorize`.
    pub redirect_uris: Vec<String>,
    /// Scopes, in [`Scope::all`] order, protocol scopes adjusted.
    pub scopes: Vec<Scope>,
    /// Scopes the user may decline, in [`Scope::all`] order.
    pub optional_scopes: Vec<Scope>,
    /// Token endpoint authentication.
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// CORS origins.
    pub allowed_cors_origins: Vec<String>,
    /// Post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Home page.
    pub client_uri: Option<String>,
    /// Logo.
    pub logo_uri: Option<String>,
    /// Privacy policy.
    pub policy_uri: Option<String>,
    /// Terms of service.
    pub tos_uri: Option<String>,
}

impl ClientSettings {
    /// Checks `input` against every rule of the module.
    ///
    /// # Errors
    /// `Invalid` naming the first field that breaks a rule.
    pub fn checked(input: ClientInput) -> Result<Self, DomainError> {
        let client_name = check_name(&input.client_name)?;
        let grant_types = enum_list(&input.grant_types, "grant_types", GrantType::parse)?;
        if !grant_types.contains(&GrantType::AuthorizationCode) {
            return Err(DomainError::invalid(
                "grant_types",
                "must include authorization_code",
            ));
        }
        let response_types =
            enum_list(&input.response_types, "response_types", ResponseType::parse)?;
        if response_types.contains(&ResponseType::Token) {
            return Err(DomainError::invalid(
                "response_types",
                "token (the implicit flow) is not supported: use code",
            ));
        }
        if !response_types.contains(&ResponseType::Code) {
            return Err(DomainError::invalid("response_types", "must include code"));
        }
        let token_endpoint_auth_method =
            TokenEndpointAuthMethod::parse(input.token_endpoint_auth_method.trim())?;
        if input.redirect_uris.is_empty() {
            return Err(DomainError::invalid(
                "redirect_uris",
                "at least one redirect URI is required",
            ));
        }
        let redirect_uris = uri_list(&input.redirect_uris, "redirect_uris", UriKind::Redirect)?;
        let post_logout_redirect_uris = uri_list(
            &input.post_logout_redirect_uris,
            "post_logout_redirect_uris",
            UriKind::Redirect,
        )?;
        let allowed_cors_origins = uri_list(
            &input.allowed_cors_origins,
            "allowed_cors_origins",
            UriKind::Origin,
        )?;
        let mut scopes = scope_list(&input.scopes, "scopes")?;
        adjust(
            &mut scopes,
            IdentityScope::OfflineAccess,
            grant_types.contains(&GrantType::RefreshToken),
        );
        adjust(
            &mut scopes,
            IdentityScope::OpenId,
            response_types.contains(&ResponseType::IdToken),
        );
        // As sent, and after the protocol scopes follow the flows (`["openid"]` without
        // `id_token` leaves nothing, and the settings must read back as they were checked).
        if input.scopes.is_empty() || scopes.is_empty() {
            return Err(DomainError::invalid(
                "scopes",
                "at least one scope is required",
            ));
        }
        let optional_scopes = scope_list(&input.optional_scopes, "optional_scopes")?;
        for scope in &optional_scopes {
            if matches!(
                scope,
                Scope::Identity(IdentityScope::OpenId | IdentityScope::OfflineAccess)
            ) {
                return Err(DomainError::invalid(
                    "optional_scopes",
                    format!("{scope} cannot be optional"),
                ));
            }
            if !scopes.contains(scope) {
                return Err(DomainError::invalid(
                    "optional_scopes",
                    format!("{scope} is not in scopes"),
                ));
            }
        }
        Ok(Self {
            client_name,
            grant_types,
            response_types,
            redirect_uris,
            scopes,
            optional_scopes,
            token_endpoint_auth_method,
            allowed_cors_origins,
            post_logout_redirect_uris,
            client_uri: web_url(input.client_uri.as_deref(), "client_uri")?,
            logo_uri: web_url(input.logo_uri.as_deref(), "logo_uri")?,
            policy_uri: web_url(input.policy_uri.as_deref(), "policy_uri")?,
            tos_uri: web_url(input.tos_uri.as_deref(), "tos_uri")?,
        })
    }

    /// The settings as input again (to apply an update's changes and check the whole).
    #[must_use]
    pub fn to_input(&self) -> ClientInput {
        fn names<T: fmt::Display>(v: &[T]) -> Vec<String> {
            v.iter().map(ToString::to_string).collect()
        }
        ClientInput {
            client_name: self.client_name.clone(),
            grant_types: names(&self.grant_types),
            response_types: names(&self.response_types),
            redirect_uris: self.redirect_uris.clone(),
            scopes: names(&self.scopes),
            optional_scopes: names(&self.optional_scopes),
            token_endpoint_auth_method: self.token_endpoint_auth_method.to_string(),
            allowed_cors_origins: self.allowed_cors_origins.clone(),
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            client_uri: self.client_uri.clone(),
            logo_uri: self.logo_uri.clone(),
            policy_uri: self.policy_uri.clone(),
            tos_uri: self.tos_uri.clone(),
        }
    }

    /// The scopes as a set (what a token of the client may carry at most).
    #[must_use]
    pub fn scope_set(&self) -> ScopeSet {
        self.scopes.iter().copied().collect()
    }
}

/// Adds `scope` to `scopes` when `wanted`, removes it otherwise (order kept).
fn adjust(scopes: &mut Vec<Scope>, scope: IdentityScope, wanted: bool) {
    let scope = Scope::Identity(scope);
    scopes.retain(|s| *s != scope);
    if wanted {
        scopes.push(scope);
        scopes.sort_by_key(|s| Scope::all().position(|a| a == *s));
    }
}

fn check_name(raw: &str) -> Result<String, DomainError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(DomainError::invalid(
            "client_name",
            format!("must be 1 to {MAX_NAME_LEN} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "client_name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// Parses a list of enum names, sorted in declaration order with duplicates dropped.
fn enum_list<T: Ord + Copy>(
    raw: &[String],
    field: &'static str,
    parse: fn(&str) -> Result<T, DomainError>,
) -> Result<Vec<T>, DomainError> {
    if raw.len() > 10 {
        return Err(DomainError::invalid(field, "at most 10 entries"));
    }
    let mut out = raw
        .iter()
        .map(|s| parse(s.trim()))
        .collect::<Result<Vec<T>, _>>()?;
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Parses scope names: colon-delimited and unknown ones refused; catalog order, duplicates
/// dropped.
fn scope_list(raw: &[String], field: &'static str) -> Result<Vec<Scope>, DomainError> {
    if raw.len() > MAX_SCOPES {
        return Err(DomainError::invalid(
            field,
            format!("at most {MAX_SCOPES} entries"),
        ));
    }
    let mut set = Vec::with_capacity(raw.len());
    for name in raw {
        if name.len() > MAX_SCOPE_LEN {
            return Err(DomainError::invalid(
                field,
                format!("'{}…' is longer than {MAX_SCOPE_LEN} bytes", shorten(name)),
            ));
        }
        if name.contains(':') {
            return Err(DomainError::invalid(
                field,
                format!(
                    "'{}': colon-delimited scopes are not accepted; use capability.level",
                    shorten(name)
                ),
            ));
        }
        let scope: Scope = name.parse().map_err(|_| {
            DomainError::invalid(field, format!("unknown scope '{}'", shorten(name)))
        })?;
        if !set.contains(&scope) {
            set.push(scope);
        }
    }
    set.sort_by_key(|s| Scope::all().position(|a| a == *s));
    Ok(set)
}

/// An OAuth client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// `client_id`.
    pub id: OAuthClientId,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// What it is made of.
    pub settings: ClientSettings,
    /// Visibility (always `private` for now).
    pub visibility: Visibility,
    /// SHA-256 of the current secret; `None` for a public client.
    pub secret_digest: Option<Vec<u8>>,
    /// SHA-256 of the secret before the last rotation, valid until removed.
    pub previous_secret_digest: Option<Vec<u8>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When it was promoted to `public`.
    pub promoted_at: Option<DateTime<Utc>>,
}

impl OAuthClient {
    /// Whether a rotated secret is still valid (Cloudflare's `has_rotated_secret`).
    #[must_use]
    pub fn has_rotated_secret(&self) -> bool {
        self.previous_secret_digest.is_some()
    }

    /// Whether it is confidential (holds a secret).
    #[must_use]
    pub fn is_confidential(&self) -> bool {
        self.settings.token_endpoint_auth_method.is_confidential()
    }
}

#[cfg(test)]
mod tests;
mod uris;

#[cfg(test)]
use uris::is_loopback;
use uris::{UriKind, uri_list, web_url};
