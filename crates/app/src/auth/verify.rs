//! Verifying a presented credential: access keys (compared in constant time with their
//! stored digest), sessions, service-key JWTs, and the principal each one yields.

use chrono::{DateTime, TimeZone, Utc};
use subtle::ConstantTimeEq;
use tessera_domain::Secret;
use tessera_domain::ids::{AccessKeyId, AccountId, UserId};
use tessera_domain::keys::{
    KeyState, KeyStatus, KeyValidity, SESSION_TOKEN_PREFIX, ServiceKey, parse_access_token,
};
use tessera_domain::policy::{PolicyIndex, Subject};
use tessera_domain::roles::{RoleId, ids as role_ids};
use tessera_domain::user::{User, UserStatus};

use super::usage::LastUse;
use super::{LegacyAccount, MAX_ACCOUNT_DEPTH, Presented, Refused, Verified, digest, jwt, refuse};
use crate::App;
use crate::error::{AppResult, AuthFailure};
use crate::principal::{Credential, Principal};
use crate::telemetry::FailureKind;

/// How operators count a refused JWT.
fn jwt_kind(failure: AuthFailure) -> FailureKind {
    match failure {
        AuthFailure::TokenExpired => FailureKind::ExpiredJwt,
        AuthFailure::TokenLifetime => FailureKind::JwtLifetime,
        AuthFailure::TokenFromFuture => FailureKind::JwtFromFuture,
        AuthFailure::KeyExpired => FailureKind::ExpiredKey,
        AuthFailure::KeyNotYetValid => FailureKind::KeyNotYetValid,
        AuthFailure::TokenFormat | AuthFailure::Failed | AuthFailure::Missing => {
            FailureKind::InvalidJwt
        }
    }
}

/// An access key's principal, its user and the key's `expires_at`, or why it was refused.
type KeyVerified = Result<(Principal, User, Option<DateTime<Utc>>), Refused>;

/// Why a key is refused at `now`, if it is: before its `not_before` or past its `expires_at`.
pub(super) fn outside_validity(
    validity: &KeyValidity,
    now: DateTime<Utc>,
) -> Option<(AuthFailure, FailureKind)> {
    match validity.state_at(now) {
        KeyState::Valid => None,
        KeyState::Expired => Some((AuthFailure::KeyExpired, FailureKind::ExpiredKey)),
        KeyState::NotYetValid => Some((AuthFailure::KeyNotYetValid, FailureKind::KeyNotYetValid)),
    }
}

/// The earlier of two optional ends (`None` is no end).
pub(super) fn earliest(
    a: Option<DateTime<Utc>>,
    b: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl App {
    pub(super) fn verify(&self, presented: &Presented, now: DateTime<Utc>) -> AppResult<Verified> {
        match presented {
            Presented::Bearer(token) => {
                let t = token.expose();
                if let Some((id, secret)) = parse_access_token(t) {
                    Ok(self
                        .verify_access_key(&id, &secret, now)?
                        .map(|(p, _, ends)| (p, ends)))
                } else if t.starts_with(SESSION_TOKEN_PREFIX) {
                    self.verify_session(t, now)
                } else if t.starts_with("tsr_") {
                    Ok(refuse(
                        AuthFailure::Failed,
                        FailureKind::Malformed,
                        None,
                        "tsr_",
                        "access_key",
                    ))
                } else if crate::oauth::is_access_token(t) {
                    self.verify_oauth_token(t, now)
                } else {
                    self.verify_jwt(t, now)
                }
            }
            Presented::Basic { key_id, secret } => match key_id.parse::<AccessKeyId>() {
                Ok(id) => Ok(self
                    .verify_access_key(&id, secret, now)?
                    .map(|(p, _, ends)| (p, ends))),
                Err(_) => Ok(refuse(
                    AuthFailure::Failed,
                    FailureKind::Malformed,
                    None,
                    "basic",
                    "access_key",
                )),
            },
            Presented::EmailKey { email, key } => {
                let Some((id, secret)) = parse_access_token(key.expose()) else {
                    return Ok(refuse(
                        AuthFailure::Failed,
                        FailureKind::Malformed,
                        None,
                        "x-auth-key",
                        "access_key",
                    ));
                };
                Ok(match self.verify_access_key(&id, &secret, now)? {
                    Ok((p, user, ends))
                        if user
                            .email
                            .as_deref()
                            .is_some_and(|e| e.eq_ignore_ascii_case(email)) =>
                    {
                        Ok((p, ends))
                    }
                    Ok((p, _, _)) => refuse(
                        AuthFailure::Failed,
                        FailureKind::BadSecret,
                        Some(p.account_id),
                        id.to_string(),
                        "access_key",
                    ),
                    Err(r) => Err(r),
                })
            }
            Presented::Legacy { account, api_key } => {
                let Some((id, secret)) = parse_access_token(api_key.expose()) else {
                    return Ok(refuse(
                        AuthFailure::Failed,
                        FailureKind::Malformed,
                        None,
                        "api_key",
                        "access_key",
                    ));
                };
                Ok(match self.verify_access_key(&id, &secret, now)? {
                    Ok((p, _, ends)) => {
                        let matches = match account {
                            LegacyAccount::Id(a) => *a == p.account_id,
                            LegacyAccount::Name(n) => {
                                self.ports.accounts.get_account(p.account_id)?.name == *n
                            }
                        };
                        if matches {
                            Ok((p, ends))
                        } else {
                            refuse(
                                AuthFailure::Failed,
                                FailureKind::BadSecret,
                                Some(p.account_id),
                                id.to_string(),
                                "access_key",
                            )
                        }
                    }
                    Err(r) => Err(r),
                })
            }
        }
    }

    /// Whether `account` exists and is active, and so is every account above it: deactivating
    /// an account deactivates the credentials of all its descendants.
    pub(crate) fn account_active(&self, account: AccountId) -> AppResult<bool> {
        let mut next = Some(account);
        let mut seen = 0;
        while let Some(id) = next {
            seen += 1;
            if seen > MAX_ACCOUNT_DEPTH {
                return Ok(false);
            }
            match self.ports.accounts.get_account(id) {
                Ok(a) if a.active => next = a.parent_id,
                Ok(_) | Err(tessera_domain::ports::RepoError::NotFound) => return Ok(false),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(true)
    }

    /// The active user `id` of an active `account`, or `None`.
    pub(crate) fn active_user(&self, account: AccountId, id: UserId) -> AppResult<Option<User>> {
        Ok(self.user_if_active(account, id)?.ok())
    }

    /// The active user `id` of an active `account`, or why not: `InactiveAccount` or
    /// `InactiveUser` (a user that is gone counts as inactive).
    pub(super) fn user_if_active(
        &self,
        account: AccountId,
        id: UserId,
    ) -> AppResult<Result<User, FailureKind>> {
        if !self.account_active(account)? {
            return Ok(Err(FailureKind::InactiveAccount));
        }
        match self.ports.users.get_user(account, id) {
            Ok(u) if u.status == UserStatus::Active => Ok(Ok(u)),
            Ok(_) | Err(tessera_domain::ports::RepoError::NotFound) => {
                Ok(Err(FailureKind::InactiveUser))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The principal of an access key, its user, and when the key stops working (its
    /// `expires_at`: a cached principal stops then too).
    fn verify_access_key(
        &self,
        id: &AccessKeyId,
        secret: &Secret,
        now: DateTime<Utc>,
    ) -> AppResult<KeyVerified> {
        let refused = |failure, kind, account| {
            Err(Refused {
                failure,
                kind,
                account,
                who: id.to_string(),
                credential: "access_key",
            })
        };
        let fail = |kind, account| refused(AuthFailure::Failed, kind, account);
        let Some(found) = self.ports.access_keys.find_access_key(id)? else {
            // Counted as a wrong secret: which key ids exist is not for a metrics reader.
            return Ok(fail(FailureKind::BadSecret, None));
        };
        let account = found.key.account_id;
        let presented = digest(secret.expose());
        if !bool::from(presented.as_slice().ct_eq(found.secret_digest.as_slice())) {
            return Ok(fail(FailureKind::BadSecret, Some(account)));
        }
        if found.key.status != KeyStatus::Active {
            return Ok(fail(FailureKind::InactiveKey, Some(account)));
        }
        if let Some((failure, kind)) = outside_validity(&found.key.validity, now) {
            return Ok(refused(failure, kind, Some(account)));
        }
        let user = match self.user_if_active(account, found.key.user_id)? {
            Ok(user) => user,
            Err(kind) => return Ok(fail(kind, Some(account))),
        };
        let subject = self.user_subject(account, &user, None)?;
        let addresses = self.address_rule(account, found.key.allowed_ips)?;
        Ok(Ok((
            Principal {
                account_id: account,
                user_id: Some(user.id),
                credential: Credential::AccessKey(id.clone()),
                subject,
                addresses,
                last_use: LastUse::default(),
            },
            user,
            found.key.validity.expires_at,
        )))
    }

    fn verify_session(&self, token: &str, now: DateTime<Utc>) -> AppResult<Verified> {
        let Some(session) = self.ports.sessions.find_session(&digest(token))? else {
            return Ok(refuse(
                AuthFailure::Failed,
                FailureKind::UnknownSession,
                None,
                "session",
                "session",
            ));
        };
        if session.expires_at <= now {
            return Ok(refuse(
                AuthFailure::Failed,
                FailureKind::ExpiredSession,
                Some(session.account_id),
                session.user_id.to_string(),
                "session",
            ));
        }
        let user = match self.user_if_active(session.account_id, session.user_id)? {
            Ok(user) => user,
            Err(kind) => {
                return Ok(refuse(
                    AuthFailure::Failed,
                    kind,
                    Some(session.account_id),
                    session.user_id.to_string(),
                    "session",
                ));
            }
        };
        let subject = self.user_subject(session.account_id, &user, None)?;
        let addresses = self.address_rule(session.account_id, Vec::new())?;
        Ok(Ok((
            Principal {
                account_id: session.account_id,
                user_id: Some(user.id),
                credential: Credential::Session(session.id),
                subject,
                addresses,
                last_use: LastUse::default(),
            },
            Some(session.expires_at),
        )))
    }

    fn verify_jwt(&self, token: &str, now: DateTime<Utc>) -> AppResult<Verified> {
        let inspected = match jwt::inspect(token, now.timestamp()) {
            Ok(i) => i,
            Err(failure) => {
                return Ok(refuse(
                    failure,
                    jwt_kind(failure),
                    None,
                    "jwt",
                    "service_key",
                ));
            }
        };
        let who = inspected.key_id.to_string();
        let Some(found) = self.ports.service_keys.find_service_key(inspected.key_id)? else {
            // Counted as a bad signature: which key ids exist is not for a metrics reader.
            return Ok(refuse(
                AuthFailure::Failed,
                FailureKind::InvalidJwt,
                None,
                who,
                "service_key",
            ));
        };
        let account = found.key.account_id;
        if account != inspected.account {
            return Ok(refuse(
                AuthFailure::Failed,
                FailureKind::InvalidJwt,
                Some(account),
                who,
                "service_key",
            ));
        }
        if let Err(failure) = jwt::verify_signature(token, &found.public_key_pem) {
            return Ok(refuse(
                failure,
                jwt_kind(failure),
                Some(account),
                who,
                "service_key",
            ));
        }
        if let Some((failure, kind)) = outside_validity(&found.key.validity, now) {
            return Ok(refuse(failure, kind, Some(account), who, "service_key"));
        }
        let Some(subject) = self.key_subject(&found.key)? else {
            let kind = if self.account_active(account)? {
                FailureKind::InactiveUser
            } else {
                FailureKind::InactiveAccount
            };
            return Ok(refuse(
                AuthFailure::Failed,
                kind,
                Some(account),
                who,
                "service_key",
            ));
        };
        // A cached principal stops with the token, or with the key when it expires first.
        let expires_at = earliest(
            Utc.timestamp_opt(inspected.expires_at.saturating_add(jwt::SKEW_SECS), 0)
                .single(),
            found.key.validity.expires_at,
        );
        let addresses = self.address_rule(account, found.key.allowed_ips.clone())?;
        Ok(Ok((
            Principal {
                account_id: account,
                user_id: found.key.owner,
                credential: Credential::ServiceKey(found.key.id),
                subject,
                addresses,
                last_use: LastUse::default(),
            },
            expires_at,
        )))
    }

    /// The engine's view of `user` (its roles and its groups' policies), acting through a key
    /// with `key_roles` when given.
    pub(crate) fn user_subject(
        &self,
        account: AccountId,
        user: &User,
        key_roles: Option<Vec<RoleId>>,
    ) -> AppResult<Subject> {
        let rules = self.ports.authz.policy_rules_for_user(account, user.id)?;
        Ok(Subject {
            account,
            roles: user.roles.clone(),
            policies: PolicyIndex::compile(account, &rules),
            key_roles,
            scope: None,
        })
    }

    /// The engine's view of a service key, or `None` when its owner or account is inactive.
    pub(crate) fn key_subject(&self, key: &ServiceKey) -> AppResult<Option<Subject>> {
        match key.owner {
            Some(owner) => match self.active_user(key.account_id, owner)? {
                Some(user) => Ok(Some(self.user_subject(
                    key.account_id,
                    &user,
                    Some(key.roles.clone()),
                )?)),
                None => Ok(None),
            },
            None => Ok(self.account_active(key.account_id)?.then(|| Subject {
                account: key.account_id,
                roles: vec![role_ids::OWNER],
                policies: PolicyIndex::default(),
                key_roles: Some(key.roles.clone()),
                scope: None,
            })),
        }
    }
}
