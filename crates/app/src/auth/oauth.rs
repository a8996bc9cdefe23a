//! OAuth access tokens at use: the token must verify (`oauth::verify`), not be revoked, and its
//! subject must still stand — the access or service key active and valid, the grant not
//! revoked, the user active. Its principal holds the subject's current permissions within the
//! token's scopes.

use chrono::{DateTime, TimeZone, Utc};
use tessera_domain::ids::AccountId;
use tessera_domain::keys::KeyStatus;
use tessera_domain::oauth::{AccessTokenClaims, TOKEN_SKEW_SECS, TokenSubject};

use super::usage::LastUse;
use super::verify::{earliest, outside_validity};
use super::{Verified, refuse};
use crate::App;
use crate::error::{AppResult, AuthFailure};
use crate::oauth::{Audience, OAuthToken, TokenFault};
use crate::principal::{Credential, Principal};
use crate::telemetry::FailureKind;

const CREDENTIAL: &str = "oauth_token";

impl App {
    pub(super) fn verify_oauth_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Verified> {
        let claims = match self.decode_access_token(token, now, Audience::Tessera)? {
            Ok(claims) => claims,
            Err(fault) => {
                let (failure, kind) = match fault {
                    TokenFault::Expired => {
                        (AuthFailure::TokenExpired, FailureKind::ExpiredAccessToken)
                    }
                    TokenFault::Format => {
                        (AuthFailure::TokenFormat, FailureKind::InvalidAccessToken)
                    }
                    TokenFault::Signature | TokenFault::Times | TokenFault::Elsewhere => {
                        (AuthFailure::Failed, FailureKind::InvalidAccessToken)
                    }
                };
                return Ok(refuse(failure, kind, None, "oauth_token", CREDENTIAL));
            }
        };
        self.oauth_principal(claims, now)
    }

    /// The principal of verified `claims`, or `None` when its subject no longer stands (for
    /// introspection and revocation, which refuse silently).
    pub(crate) fn token_principal(
        &self,
        claims: AccessTokenClaims,
        now: DateTime<Utc>,
    ) -> AppResult<Option<Principal>> {
        Ok(self.oauth_principal(claims, now)?.ok().map(|(p, _)| p))
    }

    /// The principal of verified `claims`, or why its subject no longer stands.
    fn oauth_principal(
        &self,
        claims: AccessTokenClaims,
        now: DateTime<Utc>,
    ) -> AppResult<Verified> {
        let account = AccountId(claims.account_id);
        let who = format!("oauth_token:{}", claims.jti);
        let fail = |kind| {
            refuse(
                AuthFailure::Failed,
                kind,
                Some(account),
                who.clone(),
                CREDENTIAL,
            )
        };
        let (Ok(subject), Ok(scopes), Ok(grant)) =
            (claims.subject(), claims.scopes(), claims.grant())
        else {
            return Ok(fail(FailureKind::InvalidAccessToken));
        };
        if self.ports.oauth_tokens.is_token_revoked(&claims.jti)? {
            return Ok(fail(FailureKind::RevokedAccessToken));
        }
        let (user_id, mut policy_subject, addresses, key_ends) = match &subject {
            TokenSubject::AccessKey(id) => {
                let Some(found) = self.ports.access_keys.find_access_key(id)? else {
                    return Ok(fail(FailureKind::RevokedAccessToken));
                };
                if found.key.account_id != account {
                    return Ok(fail(FailureKind::InvalidAccessToken));
                }
                if found.key.status != KeyStatus::Active {
                    return Ok(fail(FailureKind::InactiveKey));
                }
                if let Some((failure, kind)) = outside_validity(&found.key.validity, now) {
                    return Ok(refuse(failure, kind, Some(account), who, CREDENTIAL));
                }
                let user = match self.user_if_active(account, found.key.user_id)? {
                    Ok(user) => user,
                    Err(kind) => return Ok(fail(kind)),
                };
                (
                    Some(user.id),
                    self.user_subject(account, &user, None)?,
                    self.address_rule(account, found.key.allowed_ips)?,
                    found.key.validity.expires_at,
                )
            }
            TokenSubject::ServiceKey(id) => {
                let Some(found) = self.ports.service_keys.find_service_key(*id)? else {
                    return Ok(fail(FailureKind::RevokedAccessToken));
                };
                if found.key.account_id != account {
                    return Ok(fail(FailureKind::InvalidAccessToken));
                }
                if let Some((failure, kind)) = outside_validity(&found.key.validity, now) {
                    return Ok(refuse(failure, kind, Some(account), who, CREDENTIAL));
                }
                let Some(policy_subject) = self.key_subject(&found.key)? else {
                    let kind = if self.account_active(account)? {
                        FailureKind::InactiveUser
                    } else {
                        FailureKind::InactiveAccount
                    };
                    return Ok(fail(kind));
                };
                (
                    found.key.owner,
                    policy_subject,
                    self.address_rule(account, found.key.allowed_ips.clone())?,
                    found.key.validity.expires_at,
                )
            }
            TokenSubject::User(user) => {
                let Some(grant) = grant else {
                    return Ok(fail(FailureKind::InvalidAccessToken));
                };
                if !self.grant_usable(account, grant, *user, &claims.client_id)? {
                    return Ok(fail(FailureKind::RevokedAccessToken));
                }
                let user = match self.user_if_active(account, *user)? {
                    Ok(user) => user,
                    Err(kind) => return Ok(fail(kind)),
                };
                (
                    Some(user.id),
                    self.user_subject(account, &user, None)?,
                    self.address_rule(account, Vec::new())?,
                    None,
                )
            }
        };
        // The token's scopes cap what its subject holds now.
        policy_subject.scope = Some(scopes.permissions());
        let expires_at = earliest(
            Utc.timestamp_opt(claims.exp.saturating_add(TOKEN_SKEW_SECS), 0)
                .single(),
            key_ends,
        );
        Ok(Ok((
            Principal {
                account_id: account,
                user_id,
                credential: Credential::OAuthToken(Box::new(OAuthToken {
                    jti: claims.jti,
                    subject,
                    client_id: claims.client_id,
                    grant,
                    scopes,
                })),
                subject: policy_subject,
                addresses,
                last_use: LastUse::default(),
            },
            expires_at,
        )))
    }
}
