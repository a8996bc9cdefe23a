//! Who is calling: an authenticated principal and what the engine needs to decide for it.

use tessera_domain::audit::{Actor, ActorKind};
use tessera_domain::authorized_ips::AddressRule;
use tessera_domain::ids::{AccessKeyId, AccountId, Hex32, ServiceKeyId, SessionId, UserId};
use tessera_domain::policy::{PolicyIndex, PolicyRule, Subject};
use tessera_domain::roles::RoleId;

use crate::auth::usage::LastUse;
use crate::oauth::OAuthToken;

/// The credential a principal authenticated with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A session (opened by a password sign-in, with or without a second factor, or SSO).
    Session(SessionId),
    /// A Restcomm-style access key.
    AccessKey(AccessKeyId),
    /// A service key's JWT.
    ServiceKey(ServiceKeyId),
    /// An OAuth access token: its subject's permissions within its scopes. It never acts as
    /// its user's own session (no self-service, no second-factor management).
    OAuthToken(Box<OAuthToken>),
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The principal's account.
    pub account_id: AccountId,
    /// The user it acts as; `None` for a service key owned by the account itself.
    pub user_id: Option<UserId>,
    /// How it authenticated.
    pub credential: Credential,
    /// What the policy engine decides on.
    pub subject: Subject,
    /// The addresses it may be used from: its account's authorized IPs and its key's own
    /// `allowed_ips` (checked on every request, the cached ones included).
    pub addresses: AddressRule,
    /// When the use of its credential (session, access or service key) was last recorded: a
    /// cached principal skips the usage tracker within a minute of it.
    pub(crate) last_use: LastUse,
}

impl Principal {
    /// The id of the session that [`Principal::user`] names: one no stored session has (its
    /// digits are all zeros, and stored ids are random).
    pub const UNSTORED_SESSION: SessionId = SessionId(Hex32([0; 16]));

    /// A user signed in through a session that is not stored ([`Principal::UNSTORED_SESSION`]),
    /// holding `roles` and `policies`: for tests and tools that decide for a user without
    /// signing it in.
    #[must_use]
    pub fn user(
        account: AccountId,
        user: UserId,
        roles: Vec<RoleId>,
        policies: &[PolicyRule],
    ) -> Self {
        Self {
            account_id: account,
            user_id: Some(user),
            credential: Credential::Session(Self::UNSTORED_SESSION),
            subject: Subject {
                account,
                roles,
                policies: PolicyIndex::compile(account, policies),
                key_roles: None,
                scope: None,
            },
            addresses: AddressRule::default(),
            last_use: LastUse::default(),
        }
    }

    /// Who to record in the audit log.
    #[must_use]
    pub fn actor(&self) -> Actor {
        match &self.credential {
            Credential::Session(_) => Actor {
                kind: ActorKind::User,
                id: self.user_id.map(|u| u.to_string()).unwrap_or_default(),
            },
            Credential::AccessKey(id) => Actor {
                kind: ActorKind::AccessKey,
                id: id.to_string(),
            },
            Credential::ServiceKey(id) => Actor {
                kind: ActorKind::ServiceKey,
                id: id.to_string(),
            },
            Credential::OAuthToken(token) => crate::oauth::subject_actor(&token.subject),
        }
    }
}
