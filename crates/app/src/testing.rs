//! Mocks of every port, wired into an `App`, for the use-case tests.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::ports::{
    MockAccessKeyRepo, MockAccountRepo, MockAuditRepo, MockAuthzRepo, MockClock, MockDnsResolver,
    MockHealth, MockIdGenerator, MockKeyPairGenerator, MockPasswordHasher, MockResourceGroupRepo,
    MockServiceKeyRepo, MockSessionRepo, MockSsoRepo, MockUserGroupRepo, MockUserRepo,
};
use tessera_domain::roles::RoleId;
use tessera_domain::user::{Login, User, UserStatus};

use crate::{App, Ports, Principal, Settings};

pub const ACME: AccountId = AccountId(1);

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

pub struct Mocks {
    pub accounts: MockAccountRepo,
    pub users: MockUserRepo,
    pub audit: MockAuditRepo,
    pub service_keys: MockServiceKeyRepo,
    pub access_keys: MockAccessKeyRepo,
    pub sessions: MockSessionRepo,
    pub user_groups: MockUserGroupRepo,
    pub resource_groups: MockResourceGroupRepo,
    pub authz: MockAuthzRepo,
    pub sso: MockSsoRepo,
    pub dns: MockDnsResolver,
    pub health: MockHealth,
    pub hasher: MockPasswordHasher,
    pub clock: MockClock,
    pub ids: MockIdGenerator,
    pub key_pairs: MockKeyPairGenerator,
    pub settings: Settings,
}

impl Mocks {
    pub fn new() -> Self {
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        Self {
            accounts: MockAccountRepo::new(),
            users: MockUserRepo::new(),
            audit: MockAuditRepo::new(),
            service_keys: MockServiceKeyRepo::new(),
            access_keys: MockAccessKeyRepo::new(),
            sessions: MockSessionRepo::new(),
            user_groups: MockUserGroupRepo::new(),
            resource_groups: MockResourceGroupRepo::new(),
            authz: MockAuthzRepo::new(),
            sso: MockSsoRepo::new(),
            dns: MockDnsResolver::new(),
            health: MockHealth::new(),
            hasher: MockPasswordHasher::new(),
            clock,
            ids: MockIdGenerator::new(),
            key_pairs: MockKeyPairGenerator::new(),
            settings: Settings::default(),
        }
    }

    pub fn app(self) -> App {
        App::new(
            Ports {
                accounts: Arc::new(self.accounts),
                users: Arc::new(self.users),
                audit: Arc::new(self.audit),
                service_keys: Arc::new(self.service_keys),
                access_keys: Arc::new(self.access_keys),
                sessions: Arc::new(self.sessions),
                user_groups: Arc::new(self.user_groups),
                resource_groups: Arc::new(self.resource_groups),
                authz: Arc::new(self.authz),
                sso: Arc::new(self.sso),
                dns: Arc::new(self.dns),
                health: Arc::new(self.health),
                hasher: Arc::new(self.hasher),
                clock: Arc::new(self.clock),
                ids: Arc::new(self.ids),
                key_pairs: Arc::new(self.key_pairs),
            },
            self.settings,
        )
    }
}

/// A signed-in user of ACME with `roles`.
pub fn principal(id: i64, roles: &[RoleId]) -> Principal {
    Principal::user(ACME, UserId(id), roles.to_vec(), &[])
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
    }
}
