//! Use-case tests of second factors over mocked ports (second factors in memory with the
//! store's semantics, the real AES-GCM sealer, a clock the tests move). Codes are computed by
//! [`hotp`], an HOTP written here from RFC 4226 on aws-lc's HMAC, independent of `totp-rs`.

mod enrolment;
mod reset;
mod signin;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use aws_lc_rs::hmac;
use chrono::{DateTime, TimeDelta, Utc};
use parking_lot::Mutex;
use tessera_domain::Secret;
use tessera_domain::account::Account;
use tessera_domain::audit::{AuditRecord, RequestMeta};
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::ports::{IdGenerator, NewSession, RepoError, Sealer, UserWithSecret};
use tessera_domain::roles::{RoleId, ids};
use tessera_domain::user::UserStatus;
use zeroize::Zeroizing;

use super::codes::STEP_SECS;
use super::{MfaChallengeToken, SignIn, TotpSecret};
use crate::infra::{AesGcmSealer, OsRandom};
use crate::testing::{ACME, MemoryMfa, Mocks, now, user};
use crate::{App, LoginCommand};

/// HOTP (RFC 4226 §5.3) of `counter`: HMAC-SHA-1, dynamic truncation, `digits` digits.
pub(crate) fn hotp(seed: &[u8], counter: u64, digits: u32) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, seed);
    let tag = hmac::sign(&key, &counter.to_be_bytes());
    let h = tag.as_ref();
    let offset = usize::from(h[h.len() - 1] & 0x0f);
    let binary = (u32::from(h[offset] & 0x7f) << 24)
        | (u32::from(h[offset + 1]) << 16)
        | (u32::from(h[offset + 2]) << 8)
        | u32::from(h[offset + 3]);
    format!(
        "{:0width$}",
        binary % 10u32.pow(digits),
        width = digits as usize
    )
}

/// The users of the fixture's account: 1 the Owner, 2 a Developer (`dev01`, the one signing
/// in), 3 a User Manager, 4 a Developer who is inactive.
fn users_of(id: i64) -> Option<tessera_domain::user::User> {
    Some(match id {
        1 => user(1, "owner1", &[ids::OWNER, ids::ADMINISTRATOR]),
        2 => user(2, "dev01", &[ids::DEVELOPER]),
        3 => user(3, "mgr01", &[ids::USER_MANAGER]),
        4 => {
            let mut u = user(4, "gone1", &[ids::DEVELOPER]);
            u.status = UserStatus::Inactive;
            u
        }
        _ => return None,
    })
}

/// A use-case world: the app, its second factors, its clock (milliseconds after `now()`), the
/// sessions it opened and the audit records it appended.
pub(super) struct Fx {
    pub app: App,
    pub mfa: Arc<MemoryMfa>,
    pub clock: Arc<AtomicI64>,
    pub sessions: Arc<Mutex<Vec<NewSession>>>,
    pub audit: Arc<Mutex<Vec<AuditRecord>>>,
    pub sealer: Arc<AesGcmSealer>,
}

fn account(require_mfa: bool) -> Account {
    Account {
        require_mfa,
        ..crate::testing::account(ACME)
    }
}

/// The world; `tweak` sets the test's own expectations first (mockall takes the first that
/// matches).
pub(super) fn fixture(require_mfa: bool, tweak: impl FnOnce(&mut Mocks)) -> Fx {
    let mut m = Mocks::new();
    tweak(&mut m);
    let clock = Arc::new(AtomicI64::new(0));
    let c = clock.clone();
    m.clock.checkpoint();
    m.clock
        .expect_now()
        .returning(move || now() + TimeDelta::milliseconds(c.load(Ordering::SeqCst)));
    m.users.expect_find_user_by_login().returning(|a, l| {
        let found = (a == ACME)
            .then(|| (1..=4).filter_map(users_of).find(|u| u.login == *l))
            .flatten();
        Ok(found.map(|user| UserWithSecret {
            user,
            password_hash: Some("$hash".into()),
        }))
    });
    m.users.expect_get_user().returning(|a, id| {
        (a == ACME)
            .then(|| users_of(id.0))
            .flatten()
            .ok_or(RepoError::NotFound)
    });
    m.users.expect_get_users().returning(|a, wanted| {
        Ok(wanted
            .iter()
            .filter(|_| a == ACME)
            .filter_map(|id| users_of(id.0))
            .collect())
    });
    m.hasher
        .expect_verify()
        .returning(|_, p| Ok(p.expose() == "R1ght-pass"));
    m.hasher.expect_waste_time().returning(|_| ());
    m.accounts.expect_get_account().returning(move |a| {
        (a == ACME)
            .then(|| account(require_mfa))
            .ok_or(RepoError::NotFound)
    });
    let sealer = Arc::new(AesGcmSealer::new(&Zeroizing::new([3; 32]), &[]));
    let (s1, s2) = (sealer.clone(), sealer.clone());
    m.sealer
        .expect_seal()
        .returning(move |purpose, plain| s1.seal(purpose, plain));
    m.sealer
        .expect_open()
        .returning(move |purpose, sealed| s2.open(purpose, sealed));
    m.ids.expect_hex32().returning(|| OsRandom::new().hex32());
    m.ids.expect_secret().returning(|| OsRandom::new().secret());
    let sessions = Arc::new(Mutex::new(Vec::new()));
    let opened = sessions.clone();
    m.sessions.expect_create_session().returning(move |s, _| {
        opened.lock().push(s.clone());
        Ok(())
    });
    let audit = Arc::new(Mutex::new(Vec::new()));
    let appended = audit.clone();
    m.audit.expect_append_audit().returning(move |r| {
        appended.lock().push(r.clone());
        Ok(())
    });
    m.sso.expect_list_sso().returning(|_| Ok(Vec::new()));
    m.authz
        .expect_policy_rules_for_user()
        .returning(|_, _| Ok(Vec::new()));
    let mfa = m.mfa.clone();
    Fx {
        app: m.app(),
        mfa,
        clock,
        sessions,
        audit,
        sealer,
    }
}

pub(super) fn meta() -> RequestMeta {
    RequestMeta {
        client_ip: Some("192.0.2.1".into()),
        request_id: Some("r".into()),
    }
}

pub(super) fn login_as(login: &str, password: &str) -> LoginCommand {
    LoginCommand {
        account_id: ACME,
        login: login.into(),
        password: Secret::new(password),
    }
}

/// The seed an enrolment showed, read from its base32 form.
pub(super) fn seed_of(shown: &TotpSecret) -> Vec<u8> {
    totp_rs::Secret::Encoded(shown.secret.expose().to_owned())
        .to_bytes()
        .expect("base32")
}

impl Fx {
    /// Now, as the app's clock says.
    pub fn now(&self) -> DateTime<Utc> {
        now() + TimeDelta::milliseconds(self.clock.load(Ordering::SeqCst))
    }

    /// Moves the clock by `secs`.
    pub fn advance(&self, secs: i64) {
        self.clock.fetch_add(secs * 1000, Ordering::SeqCst);
    }

    /// The current time step.
    pub fn step(&self) -> i64 {
        self.now().timestamp().div_euclid(STEP_SECS)
    }

    /// The code of `seed` for the step `offset` steps from now (the independent HOTP).
    pub fn code(&self, seed: &[u8], offset: i64) -> Secret {
        let step = u64::try_from(self.step() + offset).expect("a step after 1970");
        Secret::new(hotp(seed, step, 6))
    }

    /// Moves to the start of the next step (a new code).
    pub fn next_step(&self) {
        let into = self.now().timestamp().rem_euclid(STEP_SECS);
        self.advance(STEP_SECS - into);
    }

    /// Signs `login` in with the right password.
    pub fn sign_in(&self, login: &str) -> SignIn {
        self.app
            .login(&meta(), login_as(login, "R1ght-pass"))
            .expect("the password is right")
    }

    /// A challenge for `login` (which must owe a code).
    pub fn challenge(&self, login: &str) -> MfaChallengeToken {
        match self.sign_in(login) {
            SignIn::MfaRequired(c) => c,
            other => panic!("a code is due: {other:?}"),
        }
    }

    /// `user` enrols through its session and confirms; answers the seed and recovery codes.
    /// Leaves the clock at the start of the next step (the confirming code is used).
    pub fn enrol(&self, user: i64, roles: &[RoleId]) -> (Vec<u8>, Vec<Secret>) {
        let me = crate::testing::principal(user, roles);
        let shown = self
            .app
            .begin_totp_enrolment(&me, &meta())
            .expect("enrolment starts");
        let seed = seed_of(&shown);
        let codes = self
            .app
            .confirm_totp_enrolment(&me, &meta(), &self.code(&seed, 0))
            .expect("a current code confirms it");
        self.next_step();
        (seed, codes)
    }

    /// How many sessions were opened.
    pub fn sessions_opened(&self) -> usize {
        self.sessions.lock().len()
    }

    /// The audit records appended with `action`.
    pub fn audited(&self, action: &str) -> Vec<AuditRecord> {
        let mut all: Vec<AuditRecord> = self.audit.lock().clone();
        all.extend(self.mfa.audit.lock().iter().cloned());
        all.into_iter().filter(|r| r.action == action).collect()
    }

    /// The enrolment of user `id`, as stored.
    pub fn enrolment(&self, id: i64) -> Option<tessera_domain::mfa::TotpEnrolment> {
        tessera_domain::ports::MfaRepo::totp_enrolment(self.mfa.as_ref(), ACME, UserId(id)).unwrap()
    }
}

/// The account of another tenant.
pub(super) const OTHER: AccountId = AccountId(2);
