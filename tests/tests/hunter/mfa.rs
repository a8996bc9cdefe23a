//! Second factors in the hunt: the users' authenticator apps, a clock the hunt moves on by a
//! time step when a user signs in twice within one (a code is accepted once per step), and
//! the invariants of second factors, checked per step:
//!
//! 8. A user's confirmed second factor disappears (the user still there) only by a reset
//!    (`mfa.reset`) from a caller holding User Management write on it that could manage it,
//!    never the user itself; one appears only through the user's own session.
//! 9. An account's requirement of a second factor changes only by a caller holding Account
//!    Settings write there.

use std::sync::atomic::{AtomicI64, Ordering};

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use tessera_app::{Credential, Principal};
use tessera_domain::ids::AccountId;
use tessera_domain::permissions::{Capability, Permission};
use tessera_domain::policy::{self, ResourceKey, ResourceType};
use tessera_domain::ports::{AccountRepo, Clock, MfaRepo};

use crate::apply::Handed;
use crate::invariants::{Snapshot, decide, manage_set};
use crate::world::{Who, World};

/// The system clock plus an offset the hunt grows.
#[derive(Default)]
pub struct HuntClock {
    ahead_secs: AtomicI64,
}

impl HuntClock {
    /// Moves on by `secs`.
    pub fn advance(&self, secs: i64) {
        self.ahead_secs.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for HuntClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + TimeDelta::seconds(self.ahead_secs.load(Ordering::SeqCst))
    }
}

/// A user's authenticator app: its seed and the last step whose code it gave.
#[derive(Debug, Clone)]
pub struct Authenticator {
    seed: Vec<u8>,
    last: Option<i64>,
}

impl Authenticator {
    /// The app after scanning an enrolment's base32 `secret`.
    pub fn scan(secret: &str) -> Self {
        Self {
            seed: totp_rs::Secret::Encoded(secret.to_owned())
                .to_bytes()
                .expect("base32"),
            last: None,
        }
    }

    /// A code the app accepts now; when this step's code was given already, the clock moves on
    /// to the next step first.
    pub fn code(&mut self, clock: &HuntClock) -> String {
        let mut step = clock.now().timestamp().div_euclid(30);
        if self.last.is_some_and(|l| l >= step) {
            let into = clock.now().timestamp().rem_euclid(30);
            clock.advance(30 - into);
            step = clock.now().timestamp().div_euclid(30);
        }
        self.last = Some(step);
        let totp = totp_rs::TOTP::new_unchecked(
            totp_rs::Algorithm::SHA1,
            6,
            1,
            30,
            self.seed.clone(),
            None,
            String::new(),
        );
        totp.generate(u64::try_from(step * 30).expect("after 1970"))
    }
}

impl World {
    /// Which users (by index) have a confirmed second factor now.
    pub fn mfa_states(&self) -> BTreeMap<usize, bool> {
        self.users
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let confirmed = self
                    .store
                    .totp_enrolment(u.account, u.id)
                    .expect("an enrolment read")
                    .is_some_and(|e| e.is_confirmed());
                (i, confirmed)
            })
            .collect()
    }

    /// Whether each account requires a second factor now.
    pub fn mfa_requirements(&self) -> BTreeMap<AccountId, bool> {
        [self.root, self.child]
            .into_iter()
            .filter_map(|a| self.store.get_account(a).ok().map(|x| (a, x.require_mfa)))
            .collect()
    }

    /// Invariants 8 and 9 for one step.
    pub fn check_mfa(
        &self,
        caller: &Principal,
        before: &Snapshot,
        after: &Snapshot,
        handed: Handed,
        describe: &str,
    ) {
        for (i, was) in &before.mfa {
            let now = after.mfa.get(i).copied().unwrap_or(false);
            if *was == now {
                continue;
            }
            let rec = &self.users[*i];
            let itself = caller.account_id == rec.account && caller.user_id == Some(rec.id);
            if now {
                assert!(
                    itself && matches!(caller.credential, Credential::Session(_)),
                    "user {i} got a second factor from a caller other than its own session: \
                     {describe}"
                );
                continue;
            }
            if !after.principals.contains_key(&Who::User(*i)) {
                // Deleted with the user: invariant 2 holds the deletion.
                continue;
            }
            assert_eq!(
                handed,
                Handed::MfaReset(*i),
                "user {i}'s second factor vanished without a reset: {describe}"
            );
            assert!(!itself, "user {i} reset its own second factor: {describe}");
            let ancestors = self.ancestors(rec.account);
            let write = (
                Permission::write(Capability::UserManagement),
                Some(ResourceKey::new(ResourceType::User, rec.id)),
            );
            assert!(
                decide(&caller.subject, rec.account, &ancestors, &write).allowed,
                "user {i}'s second factor reset without User Management write on it: {describe}"
            );
            let b = before
                .principals
                .get(&Who::User(*i))
                .expect("a user with a second factor was there");
            assert!(
                policy::check_permissions(
                    &caller.subject,
                    rec.account,
                    &ancestors,
                    manage_set(&b.view).highest()
                )
                .allowed,
                "user {i}'s second factor reset by a caller that cannot manage it: {describe}"
            );
        }
        for (account, required) in &after.require_mfa {
            if before.require_mfa.get(account) != Some(required) {
                let grant = (Permission::write(Capability::AccountSettings), None);
                assert!(
                    decide(&caller.subject, *account, &self.ancestors(*account), &grant).allowed,
                    "account {account}'s second-factor requirement changed by a caller without \
                     Account Settings write there: {describe}"
                );
            }
        }
    }
}
