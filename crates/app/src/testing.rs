//! Mocks of every port, wired into an `App`, for the use-case tests.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use tessera_domain::ids::{AccountId, ServiceKeyId, UserId};
use tessera_domain::keys::ServiceKey;
use tessera_domain::policy::PolicyRule;
use tessera_domain::ports::{
    AttemptCount, AttemptKey, AttemptRepo, MockAccessKeyRepo, MockAccountRepo, MockAuditRepo,
    MockAuthorizedIpRepo, MockAuthzRepo, MockClock, MockDnsResolver, MockHealth, MockIdGenerator,
    MockKeyPairGenerator, MockOidcRelyingParty, MockPasswordHasher, MockResourceGroupRepo,
    MockSealer, MockServiceKeyRepo, MockSessionRepo, MockSsoRepo, MockUserGroupRepo, MockUserRepo,
    RepoError, Reservation,
};
use tessera_domain::roles::RoleId;
use tessera_domain::user::{Login, User, UserStatus};

use crate::principal::Credential;
use crate::{App, Ports, Principal, Settings};

pub const ACME: AccountId = AccountId(1);

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

pub struct Mocks {
    pub accounts: MockAccountRepo,
    pub attempts: MemoryAttempts,
    pub users: MockUserRepo,
    pub audit: MockAuditRepo,
    pub service_keys: MockServiceKeyRepo,
    pub access_keys: MockAccessKeyRepo,
    pub sessions: MockSessionRepo,
    pub user_groups: MockUserGroupRepo,
    pub resource_groups: MockResourceGroupRepo,
    pub authz: MockAuthzRepo,
    pub sso: MockSsoRepo,
    pub authorized_ips: MockAuthorizedIpRepo,
    pub dns: MockDnsResolver,
    pub health: MockHealth,
    pub hasher: MockPasswordHasher,
    pub clock: MockClock,
    pub ids: MockIdGenerator,
    pub key_pairs: MockKeyPairGenerator,
    pub sealer: MockSealer,
    pub oidc: MockOidcRelyingParty,
    pub settings: Settings,
}

impl Mocks {
    pub fn new() -> Self {
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        Self {
            accounts: MockAccountRepo::new(),
            attempts: MemoryAttempts::default(),
            users: MockUserRepo::new(),
            audit: MockAuditRepo::new(),
            service_keys: MockServiceKeyRepo::new(),
            access_keys: MockAccessKeyRepo::new(),
            sessions: MockSessionRepo::new(),
            user_groups: MockUserGroupRepo::new(),
            resource_groups: MockResourceGroupRepo::new(),
            authz: unchanging_versions(),
            sso: MockSsoRepo::new(),
            authorized_ips: MockAuthorizedIpRepo::new(),
            dns: MockDnsResolver::new(),
            health: MockHealth::new(),
            hasher: MockPasswordHasher::new(),
            clock,
            ids: MockIdGenerator::new(),
            key_pairs: MockKeyPairGenerator::new(),
            sealer: MockSealer::new(),
            oidc: MockOidcRelyingParty::new(),
            settings: Settings::default(),
        }
    }

    pub fn app(mut self) -> App {
        // After the test's own expectations (mockall takes the first that matches): an account
        // lists no authorized IPs unless the test says otherwise.
        self.authorized_ips
            .expect_list_authorized_ips()
            .returning(|_| Ok(Vec::new()));
        App::new(
            Ports {
                accounts: Arc::new(self.accounts),
                users: Arc::new(self.users),
                attempts: Arc::new(self.attempts),
                audit: Arc::new(self.audit),
                service_keys: Arc::new(self.service_keys),
                access_keys: Arc::new(self.access_keys),
                sessions: Arc::new(self.sessions),
                user_groups: Arc::new(self.user_groups),
                resource_groups: Arc::new(self.resource_groups),
                authz: Arc::new(self.authz),
                sso: Arc::new(self.sso),
                authorized_ips: Arc::new(self.authorized_ips),
                dns: Arc::new(self.dns),
                health: Arc::new(self.health),
                hasher: Arc::new(self.hasher),
                clock: Arc::new(self.clock),
                ids: Arc::new(self.ids),
                key_pairs: Arc::new(self.key_pairs),
                sealer: Arc::new(self.sealer),
                oidc: Arc::new(self.oidc),
            },
            self.settings,
        )
    }
}

/// A signed-in user of ACME with `roles`.
pub fn principal(id: i64, roles: &[RoleId]) -> Principal {
    Principal::user(ACME, UserId(id), roles.to_vec(), &[])
}

/// A user of ACME with `roles` and the policies `rules`, signed in with a password.
pub fn principal_with(id: i64, roles: &[RoleId], rules: &[PolicyRule]) -> Principal {
    Principal::user(ACME, UserId(id), roles.to_vec(), rules)
}

/// User `id` of ACME with `roles`, authenticated with one of its access keys.
pub fn access_key_principal(id: i64, roles: &[RoleId]) -> Principal {
    Principal {
        credential: Credential::AccessKey("AK000000000000000001".parse().unwrap()),
        ..principal(id, roles)
    }
}

/// Service key `KEY` of ACME holding `key_roles`, owned by user `owner` with `owner_roles`
/// (or by the account, acting as its Owner, when `owner` is `None`).
pub fn key_principal(
    owner: Option<i64>,
    owner_roles: &[RoleId],
    key_roles: &[RoleId],
) -> Principal {
    let mut p = match owner {
        Some(id) => principal(id, owner_roles),
        None => Principal {
            user_id: None,
            ..principal(0, &[tessera_domain::roles::ids::OWNER])
        },
    };
    p.credential = Credential::ServiceKey(KEY);
    p.subject.key_roles = Some(key_roles.to_vec());
    p
}

/// The service key [`key_principal`] authenticates with.
pub const KEY: ServiceKeyId = ServiceKeyId(uuid::Uuid::from_u128(0x5e5e));

/// A service key of ACME.
pub fn service_key(id: ServiceKeyId, owner: Option<i64>, roles: &[RoleId]) -> ServiceKey {
    ServiceKey {
        id,
        account_id: ACME,
        owner: owner.map(UserId),
        name: "key".into(),
        description: None,
        roles: roles.to_vec(),
        created_at: now(),
        validity: tessera_domain::keys::KeyValidity::default(),
        allowed_ips: Vec::new(),
        last_used_at: None,
        last_used_from: None,
    }
}

/// A stored session of user `user` of ACME, opened with a password at `created_at`.
pub fn stored_session(
    id: u8,
    user: i64,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> tessera_domain::keys::Session {
    tessera_domain::keys::Session {
        id: tessera_domain::ids::SessionId(tessera_domain::ids::Hex32([id; 16])),
        account_id: ACME,
        user_id: UserId(user),
        created_at,
        expires_at,
        created_from: None,
        method: tessera_domain::keys::SignInMethod::Password,
        last_used_at: None,
        last_used_from: None,
    }
}

pub fn user(id: i64, login: &str, roles: &[RoleId]) -> User {
    User {
        id: UserId(id),
        account_id: ACME,
        login: Login::parse(login).unwrap(),
        email: None,
        phone_number: None,
        description: None,
        status: UserStatus::Active,
        roles: roles.to_vec(),
        created_at: now(),
        updated_at: now(),
        last_sign_in_at: None,
        last_sign_in_from: None,
    }
}

/// Attempt limits in memory, with the store's semantics (a fixed window per key, reservations
/// counted atomically): the use cases' tests need their state, not a script of calls.
#[derive(Default)]
pub struct MemoryAttempts {
    rows: parking_lot::Mutex<std::collections::HashMap<String, (DateTime<Utc>, u32)>>,
}

impl AttemptRepo for MemoryAttempts {
    fn reserve_attempt(
        &self,
        keys: &[AttemptKey],
        window_secs: i64,
        now: DateTime<Utc>,
    ) -> Result<Reservation, RepoError> {
        let window = chrono::TimeDelta::seconds(window_secs);
        let mut rows = self.rows.lock();
        for k in keys {
            if let Some((since, n)) = rows.get(&k.key) {
                if *since > now - window && *n >= k.max {
                    return Ok(Reservation::Locked {
                        until: *since + window,
                    });
                }
            }
        }
        for k in keys {
            let row = rows.entry(k.key.clone()).or_insert((now, 0));
            if row.0 <= now - window {
                *row = (now, 0);
            }
            row.1 += 1;
        }
        Ok(Reservation::Granted)
    }

    fn release_attempt(&self, keys: &[String]) -> Result<(), RepoError> {
        let mut rows = self.rows.lock();
        for k in keys {
            if let Some(row) = rows.get_mut(k) {
                row.1 = row.1.saturating_sub(1);
            }
        }
        Ok(())
    }

    fn clear_attempts(&self, key: &str) -> Result<bool, RepoError> {
        Ok(self.rows.lock().remove(key).is_some())
    }

    fn purge_attempts(&self, before: DateTime<Utc>) -> Result<(), RepoError> {
        self.rows.lock().retain(|_, (since, _)| *since > before);
        Ok(())
    }

    fn attempt_count(
        &self,
        key: &str,
        window_secs: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<AttemptCount>, RepoError> {
        let window = chrono::TimeDelta::seconds(window_secs);
        Ok(self
            .rows
            .lock()
            .get(key)
            .filter(|(since, n)| *since > now - window && *n > 0)
            .map(|(since, n)| AttemptCount {
                attempts: *n,
                since: *since,
            }))
    }
}

/// An authorization repository whose versions never move (tests of other use cases; a test of
/// invalidation replaces it).
pub fn unchanging_versions() -> MockAuthzRepo {
    let mut authz = MockAuthzRepo::new();
    authz.expect_authz_version().returning(|| Ok(1));
    authz
        .expect_authz_changes()
        .returning(|_, _| Ok(Vec::new()));
    authz
}
