//! The machine-to-machine grants: `client_credentials` with an access key (RFC 6749 §4.4) and
//! the JWT bearer grant with a service key's RS256 JWT (RFC 7523). The client authenticates
//! exactly as it would call the API (same checks, lockouts and audit of failures); the token
//! acts for the key, within the scopes asked (by default, every permission the key holds).

use tessera_domain::Secret;
use tessera_domain::audit::RequestMeta;
use tessera_domain::keys::SESSION_TOKEN_PREFIX;
use tessera_domain::oauth::{Scope, ScopeSet, TokenSubject};
use tessera_domain::permissions::{Capability, Level, PermSet, Permission};
use tessera_domain::policy::{Request, decide};

use super::{IssuedAccessToken, NewAccessToken, OAuthError};
use crate::error::{AppError, AppResult};
use crate::principal::{Credential, Principal};
use crate::{App, Presented};

/// Longest `audience` accepted.
const MAX_AUDIENCE: usize = 256;

/// A machine client's credential at the token endpoint.
#[derive(Debug, Clone)]
pub enum MachineGrant {
    /// `client_credentials`: an access key's id and secret.
    ClientCredentials {
        /// The access key id (`client_id`).
        key_id: String,
        /// Its secret (`client_secret`).
        secret: Secret,
    },
    /// `urn:ietf:params:oauth:grant-type:jwt-bearer`: a service key's RS256 JWT.
    JwtBearer {
        /// The JWT (`assertion`).
        assertion: Secret,
    },
}

impl App {
    /// Issues an access token for a machine grant, with the scopes of `scope` (space-separated;
    /// `None`: every permission the key holds) for `audience` (`None`: Tessera's own API).
    ///
    /// # Errors
    /// `OAuth(InvalidClient)` when the access key does not authenticate; `OAuth(InvalidGrant)`
    /// when the assertion is not a valid service-key JWT; `OAuth(InvalidScope)` for an unknown
    /// scope, an identity scope, or one the key does not hold; `OAuth(InvalidRequest)` for an
    /// unusable audience; `RateLimited` when the client address is locked; storage errors.
    pub fn machine_token(
        &self,
        grant: &MachineGrant,
        scope: Option<&str>,
        audience: Option<&str>,
        issuer: &str,
        meta: &RequestMeta,
    ) -> AppResult<IssuedAccessToken> {
        if let Some(audience) = audience {
            check_audience(audience)?;
        }
        let (principal, subject) = match grant {
            MachineGrant::ClientCredentials { key_id, secret } => {
                let presented = Presented::Basic {
                    key_id: key_id.clone(),
                    secret: secret.clone(),
                };
                let principal = self
                    .authenticate(&presented, meta)
                    .map_err(|e| refused(e, OAuthError::InvalidClient))?;
                let Credential::AccessKey(id) = &principal.credential else {
                    return Err(OAuthError::InvalidClient.into());
                };
                let subject = TokenSubject::AccessKey(id.clone());
                (principal, subject)
            }
            MachineGrant::JwtBearer { assertion } => {
                let invalid = || {
                    OAuthError::InvalidGrant("the assertion is not a valid service-key JWT".into())
                };
                let t = assertion.expose();
                if t.starts_with("tsr_")
                    || t.starts_with(SESSION_TOKEN_PREFIX)
                    || super::is_access_token(t)
                {
                    return Err(invalid().into());
                }
                let principal = self
                    .authenticate(&Presented::Bearer(assertion.clone()), meta)
                    .map_err(|e| refused(e, invalid()))?;
                let Credential::ServiceKey(id) = principal.credential else {
                    return Err(invalid().into());
                };
                (principal, TokenSubject::ServiceKey(id))
            }
        };
        let held = held_permissions(&principal);
        let scopes = match scope {
            None => held.iter().map(Scope::Permission).collect(),
            Some(asked) => {
                let asked =
                    ScopeSet::parse(asked).map_err(|e| OAuthError::InvalidScope(e.to_string()))?;
                if asked.iter().any(|s| matches!(s, Scope::Identity(_))) {
                    return Err(OAuthError::InvalidScope(
                        "openid, email, profile and offline_access need the authorization-code flow"
                            .into(),
                    )
                    .into());
                }
                if let Some(missing) = asked.permissions().iter().find(|p| !held.contains(*p)) {
                    return Err(OAuthError::InvalidScope(format!(
                        "the key does not hold {}",
                        Scope::Permission(missing)
                    ))
                    .into());
                }
                asked
            }
        };
        self.issue_access_token(
            &NewAccessToken {
                account: principal.account_id,
                subject,
                client_id: None,
                scopes,
                grant: None,
                issuer: issuer.to_owned(),
                audience: audience.map(str::to_owned),
            },
            meta,
        )
    }
}

/// What a failed client authentication answers: the OAuth refusal, except for a locked
/// address or unreachable storage, which keep their own meaning.
fn refused(e: AppError, refusal: OAuthError) -> AppError {
    match e {
        AppError::Unauthenticated(_) | AppError::AddressNotAuthorized | AppError::NotFound(_) => {
            refusal.into()
        }
        other => other,
    }
}

/// The permissions `principal` holds account-wide in its own account (its scopes' ceiling).
pub(crate) fn held_permissions(principal: &Principal) -> PermSet {
    let mut held = PermSet::EMPTY;
    for capability in Capability::ALL {
        for level in Level::ALL {
            let permission = Permission::new(*capability, level);
            let d = decide(
                &principal.subject,
                &Request {
                    account: principal.account_id,
                    permission,
                    resource: None,
                    ancestors: &[],
                },
            );
            if d.allowed {
                held.insert(permission);
            }
        }
    }
    held
}

/// An audience is an absolute `http(s)` URI of visible ASCII, at most [`MAX_AUDIENCE`] bytes.
fn check_audience(audience: &str) -> Result<(), OAuthError> {
    let ok = audience.len() <= MAX_AUDIENCE
        && (audience.starts_with("https://") || audience.starts_with("http://"))
        && audience.len() > "https://".len()
        && audience.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(OAuthError::InvalidRequest(format!(
            "audience must be an absolute http(s) URI of at most {MAX_AUDIENCE} characters"
        )))
    }
}
