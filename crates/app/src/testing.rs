//! Mocks of every port, wired into an `App`, for the use-case tests.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use tessera_domain::audit::AuditRecord;
use tessera_domain::ids::{AccountId, ServiceKeyId, UserId};
use tessera_domain::keys::ServiceKey;
use tessera_domain::mfa::{MfaChallenge, RecoveryCode, TotpEnrolment};
use tessera_domain::policy::PolicyRule;
use tessera_domain::ports::{
    AttemptCount, AttemptKey, AttemptRepo, EnrolmentStarted, MfaRepo, MockAccessKeyRepo,
    MockAccountRepo, MockAuditRepo, MockAuthorizedIpRepo, MockAuthzRepo, MockClock,
    MockDnsResolver, MockHealth, MockIdGenerator, MockKeyPairGenerator, MockOAuthClientRepo,
    MockOAuthFlowRepo, MockOAuthTokenRepo, MockOidcRelyingParty, MockPasswordHasher,
    MockResourceGroupRepo, MockSealer, MockServiceKeyRepo, MockSessionRepo, MockSsoRepo,
    MockUserGroupRepo, MockUserRepo, NewMfaChallenge, NewTotpEnrolment, Redeemed, Redemption,
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

/// An active root account "Acme" with `id`, created at [`now`], with no key lifetime limit and
/// no second factor required.
pub fn account(id: AccountId) -> tessera_domain::account::Account {
    tessera_domain::account::Account {
        id,
        name: "Acme".into(),
        email: "acme@example.com".into(),
        parent_id: None,
        active: true,
        created_at: now(),
        max_key_lifetime_days: None,
        require_mfa: false,
    }
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
    pub mfa: Arc<MemoryMfa>,
    pub oauth_tokens: MockOAuthTokenRepo,
    pub oauth_clients: MockOAuthClientRepo,
    pub oauth_flow: MockOAuthFlowRepo,
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
            mfa: Arc::new(MemoryMfa::default()),
            oauth_tokens: MockOAuthTokenRepo::new(),
            oauth_clients: MockOAuthClientRepo::new(),
            oauth_flow: MockOAuthFlowRepo::new(),
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
                mfa: self.mfa,
                oauth_tokens: Arc::new(self.oauth_tokens),
                oauth_clients: Arc::new(self.oauth_clients),
                oauth_flow: Arc::new(self.oauth_flow),
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

/// One user's enrolment in [`MemoryMfa`]: the enrolment and its recovery codes (digest, used).
type MemoryEnrolment = (TotpEnrolment, Vec<(Vec<u8>, bool)>);

/// Second factors in memory, with the store's semantics (guarded acceptance of steps, recovery
/// codes and challenges, all or nothing): the use cases' tests need their state.
#[derive(Default)]
pub struct MemoryMfa {
    pub enrolments: parking_lot::Mutex<std::collections::HashMap<UserId, MemoryEnrolment>>,
    pub challenges: parking_lot::Mutex<std::collections::HashMap<Vec<u8>, MfaChallenge>>,
    pub audit: parking_lot::Mutex<Vec<AuditRecord>>,
}

impl MemoryMfa {
    /// Consumes the live challenge of `r` (if it names one) unless `dry`; whether it was there.
    fn challenge_ok(&self, r: &Redemption, dry: bool) -> bool {
        let Some(digest) = &r.challenge else {
            return true;
        };
        let mut challenges = self.challenges.lock();
        let live = challenges.get(digest).is_some_and(|c| {
            c.user_id == r.user_id && c.account_id == r.account_id && c.expires_at > r.at
        });
        if live && !dry {
            challenges.remove(digest);
        }
        live
    }
}

impl MfaRepo for MemoryMfa {
    fn sealed_totp_seeds(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<(UserId, Vec<u8>)>, RepoError> {
        let mut seeds: Vec<(UserId, Vec<u8>)> = self
            .enrolments
            .lock()
            .iter()
            .filter(|(u, _)| after.is_none_or(|a| u.0 > a.0))
            .map(|(u, (e, _))| (*u, e.sealed_secret.clone()))
            .collect();
        seeds.sort_by_key(|(u, _)| u.0);
        seeds.truncate(limit as usize);
        Ok(seeds)
    }

    fn replace_totp_seed(&self, user: UserId, old: &[u8], new: &[u8]) -> Result<bool, RepoError> {
        let mut enrolments = self.enrolments.lock();
        match enrolments.get_mut(&user) {
            Some((e, _)) if e.sealed_secret == old => {
                e.sealed_secret = new.to_vec();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn totp_enrolment(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<Option<TotpEnrolment>, RepoError> {
        Ok(self
            .enrolments
            .lock()
            .get(&user)
            .filter(|(e, _)| e.account_id == account)
            .map(|(e, codes)| TotpEnrolment {
                recovery_codes_left: u32::try_from(codes.iter().filter(|(_, used)| !used).count())
                    .unwrap_or(0),
                ..e.clone()
            }))
    }

    fn unused_recovery_codes(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<Vec<RecoveryCode>, RepoError> {
        Ok(self
            .enrolments
            .lock()
            .get(&user)
            .filter(|(e, _)| e.account_id == account)
            .map(|(_, codes)| {
                (0i32..)
                    .zip(codes)
                    .filter(|(_, (_, used))| !used)
                    .map(|(position, (digest, _))| RecoveryCode {
                        position,
                        digest: digest.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    fn begin_totp_enrolment(
        &self,
        e: &NewTotpEnrolment,
        audit: &AuditRecord,
    ) -> Result<EnrolmentStarted, RepoError> {
        let mut all = self.enrolments.lock();
        if all.get(&e.user_id).is_some_and(|(x, _)| x.is_confirmed()) {
            return Ok(EnrolmentStarted::AlreadyConfirmed);
        }
        all.insert(
            e.user_id,
            (
                TotpEnrolment {
                    account_id: e.account_id,
                    user_id: e.user_id,
                    sealed_secret: e.sealed_secret.clone(),
                    created_at: e.created_at,
                    confirmed_at: None,
                    last_step: None,
                    recovery_codes_left: 0,
                },
                Vec::new(),
            ),
        );
        self.audit.lock().push(audit.clone());
        Ok(EnrolmentStarted::Pending)
    }

    fn confirm_totp_enrolment(
        &self,
        r: &Redemption,
        step: i64,
        recovery_digests: &[Vec<u8>],
        audit: &AuditRecord,
    ) -> Result<Redeemed, RepoError> {
        let mut all = self.enrolments.lock();
        let Some((e, codes)) = all.get_mut(&r.user_id) else {
            return Ok(Redeemed::CodeUsed);
        };
        if e.account_id != r.account_id
            || e.sealed_secret != r.sealed_secret
            || e.is_confirmed()
            || e.last_step.is_some_and(|last| last >= step)
        {
            return Ok(Redeemed::CodeUsed);
        }
        if !self.challenge_ok(r, false) {
            return Ok(Redeemed::ChallengeGone);
        }
        e.confirmed_at = Some(r.at);
        e.last_step = Some(step);
        *codes = recovery_digests
            .iter()
            .map(|d| (d.clone(), false))
            .collect();
        self.audit.lock().push(audit.clone());
        Ok(Redeemed::Accepted)
    }

    fn redeem_totp_step(&self, r: &Redemption, step: i64) -> Result<Redeemed, RepoError> {
        let mut all = self.enrolments.lock();
        let Some((e, _)) = all.get_mut(&r.user_id) else {
            return Ok(Redeemed::CodeUsed);
        };
        if e.account_id != r.account_id
            || e.sealed_secret != r.sealed_secret
            || e.last_step.is_some_and(|last| last >= step)
        {
            return Ok(Redeemed::CodeUsed);
        }
        if !self.challenge_ok(r, false) {
            return Ok(Redeemed::ChallengeGone);
        }
        e.last_step = Some(step);
        Ok(Redeemed::Accepted)
    }

    fn redeem_recovery_code(
        &self,
        r: &Redemption,
        position: i32,
        audit: &AuditRecord,
    ) -> Result<Redeemed, RepoError> {
        let mut all = self.enrolments.lock();
        let Some((e, codes)) = all.get_mut(&r.user_id) else {
            return Ok(Redeemed::CodeUsed);
        };
        let slot = usize::try_from(position)
            .ok()
            .and_then(|p| codes.get_mut(p));
        let Some(slot) = slot.filter(|(_, used)| !used) else {
            return Ok(Redeemed::CodeUsed);
        };
        if e.account_id != r.account_id || e.sealed_secret != r.sealed_secret || !e.is_confirmed() {
            return Ok(Redeemed::CodeUsed);
        }
        if !self.challenge_ok(r, false) {
            return Ok(Redeemed::ChallengeGone);
        }
        slot.1 = true;
        self.audit.lock().push(audit.clone());
        Ok(Redeemed::Accepted)
    }

    fn remove_totp_enrolment(
        &self,
        account: AccountId,
        user: UserId,
        audit: &AuditRecord,
    ) -> Result<(), RepoError> {
        let mut all = self.enrolments.lock();
        if all.get(&user).is_none_or(|(e, _)| e.account_id != account) {
            return Err(RepoError::NotFound);
        }
        all.remove(&user);
        self.audit.lock().push(audit.clone());
        Ok(())
    }

    fn users_with_totp(&self, account: AccountId) -> Result<Vec<UserId>, RepoError> {
        let mut ids: Vec<UserId> = self
            .enrolments
            .lock()
            .values()
            .filter(|(e, _)| e.account_id == account && e.is_confirmed())
            .map(|(e, _)| e.user_id)
            .collect();
        ids.sort_unstable();
        Ok(ids)
    }

    fn create_mfa_challenge(&self, c: &NewMfaChallenge, max_live: u32) -> Result<(), RepoError> {
        let mut all = self.challenges.lock();
        all.retain(|_, x| x.user_id != c.user_id || x.expires_at > c.created_at);
        let mut mine: Vec<(DateTime<Utc>, Vec<u8>)> = all
            .iter()
            .filter(|(_, x)| x.user_id == c.user_id)
            .map(|(d, x)| (x.created_at, d.clone()))
            .collect();
        mine.sort();
        let keep = usize::try_from(max_live.saturating_sub(1)).unwrap_or(0);
        let excess = mine.len().saturating_sub(keep);
        for (_, digest) in mine.into_iter().take(excess) {
            all.remove(&digest);
        }
        all.insert(
            c.token_digest.clone(),
            MfaChallenge {
                account_id: c.account_id,
                user_id: c.user_id,
                purpose: c.purpose,
                created_at: c.created_at,
                expires_at: c.expires_at,
            },
        );
        Ok(())
    }

    fn find_mfa_challenge(
        &self,
        token_digest: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<MfaChallenge>, RepoError> {
        Ok(self
            .challenges
            .lock()
            .get(token_digest)
            .filter(|c| c.expires_at > now)
            .cloned())
    }

    fn purge_expired_mfa_challenges(&self, now: DateTime<Utc>) -> Result<u64, RepoError> {
        let mut all = self.challenges.lock();
        let before = all.len();
        all.retain(|_, c| c.expires_at > now);
        Ok((before - all.len()) as u64)
    }
}
