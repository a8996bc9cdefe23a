//! The invariants, checked after every step.
//!
//! Per step (before and after, with the caller's permissions as they were before):
//! 1. No principal's effective permissions gained anything unless the caller held it (on that
//!    object, in that principal's account) and could manage the principal (held every
//!    permission of its roles).
//! 2. No principal lost a role or a deny, was deleted, had its status changed or (a service
//!    key) stopped working by a new validity, unless the caller could manage it (a user's own
//!    service keys are its own to re-role, end and delete). A key made to work again by a new
//!    validity gains what it may do then: rule 1 holds it.
//! 3. No caller obtained a credential worth more than itself: an access key of another user,
//!    or its password, only if the caller holds everything that user holds (and, for the
//!    password, could manage it); its own password only with the old one; a new child
//!    account (and its owner's credentials) only with Manage Enterprise Accounts write in the
//!    parent; a user's sign-in lockout cleared only by a caller that could manage the user.
//!
//! After every step:
//! 4. Every service key's effective permissions ⊆ its roles' permissions ∩ its owner's
//!    current effective permissions.
//! 5. Every object a deny hides from a principal is absent from every answer it gets: user
//!    lists, the owners shown with keys, group members, key lists, the credential report.
//! 6. Nothing of another account is ever visible: lists and the credential report answer only
//!    the account asked, a principal that cannot see an account gets "not found" for it, and
//!    `GetAccountInfo` answers the principal's own account.
//!
//! Per step, for the address conditions:
//! 7. An account's authorized IPs change only by a caller holding Account Settings write
//!    there; a key's `allowed_ips` only by its own user (not through a service key) or by a
//!    caller that could manage the key (and, for an access key, its user).
//!
//! Per step, for sessions:
//! 8. A user's sessions end only by the user itself (its session or access key, not a service
//!    key) or by a caller holding User Management write on it that could manage it; and the
//!    session lists a principal gets hold only the user asked about, of the account asked.

use std::collections::{BTreeMap, BTreeSet};

use tessera_app::{AppError, CredentialKind, Principal, ReportFilter};
use tessera_domain::Entity;
use tessera_domain::ids::AccountId;
use tessera_domain::permissions::{Capability, PermSet, Permission};
use tessera_domain::policy::{self, Effect, Reason, Request, ResourceKey, ResourceType, Subject};
use tessera_domain::ports::ListQuery;
use tessera_domain::roles::{Role, RoleId};

use crate::apply::{Handed, POOL};
use crate::world::{Addresses, View, Who, World};

/// The permissions the oracle evaluates: the pool policies use, plus what roles grant
/// unevenly.
fn permissions() -> Vec<Permission> {
    let mut out: Vec<Permission> = POOL.iter().map(|(c, l)| Permission::new(*c, *l)).collect();
    for c in [
        Capability::Usage,
        Capability::AaProvisioning,
        Capability::CmCampaigns,
        Capability::FeatureAccessControl,
    ] {
        out.push(Permission::read(c));
        out.push(Permission::write(c));
    }
    out.sort_unstable();
    out.dedup();
    out
}

pub(crate) type Grant = (Permission, Option<ResourceKey>);

/// One principal as the oracle sees it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub view: View,
    /// What it may do (empty when it cannot authenticate).
    pub allowed: BTreeSet<Grant>,
    /// What a deny policy takes from it.
    pub denied: BTreeSet<Grant>,
}

/// Every principal of the world, and the objects known when it was taken (a grant on an
/// object created since is the account-wide grant applied to it, checked as such).
pub struct Snapshot {
    pub principals: BTreeMap<Who, Seen>,
    pub objects: BTreeSet<ResourceKey>,
    /// Which users (by index) have a confirmed second factor.
    pub mfa: BTreeMap<usize, bool>,
    /// Whether each account requires a second factor.
    pub require_mfa: BTreeMap<AccountId, bool>,
}

pub(crate) fn decide(
    subject: &Subject,
    account: AccountId,
    ancestors: &[AccountId],
    g: &Grant,
) -> policy::Decision {
    policy::decide(
        subject,
        &Request {
            account,
            permission: g.0,
            resource: g.1.as_ref(),
            ancestors,
        },
    )
}

fn by_deny(d: &policy::Decision) -> bool {
    d.reasons.iter().any(|r| {
        matches!(
            r,
            Reason::Policy {
                effect: Effect::Deny,
                ..
            }
        )
    })
}

/// The permissions a principal's roles carry (for a user's key: only those its owner's roles
/// carry too, since the key never exceeds them).
fn weight(view: &View) -> Vec<RoleId> {
    view.subject
        .key_roles
        .clone()
        .unwrap_or_else(|| view.subject.roles.clone())
}

pub(crate) fn manage_set(view: &View) -> PermSet {
    let of = |roles: &[RoleId]| {
        roles
            .iter()
            .filter_map(|r| Role::by_id(*r).ok())
            .fold(PermSet::EMPTY, |acc, r| acc.union(r.permissions()))
    };
    let mine = of(&weight(view));
    match (&view.subject.key_roles, view.owner) {
        (Some(_), Some(_)) => {
            let owner = of(&view.subject.roles);
            mine.iter().filter(|p| owner.contains(*p)).collect()
        }
        _ => mine,
    }
}

impl World {
    /// The grants the oracle asks about in `account`: account-wide, and on each user and key
    /// of that account the hunt knows.
    fn grants(&self, account: AccountId) -> Vec<Grant> {
        let mut objects: Vec<Option<ResourceKey>> = vec![None];
        objects.extend(
            self.users
                .iter()
                .filter(|u| u.account == account)
                .map(|u| Some(ResourceKey::new(ResourceType::User, u.id))),
        );
        objects.extend(
            self.keys
                .iter()
                .filter(|k| k.account == account)
                .map(|k| Some(ResourceKey::new(ResourceType::ServiceKey, k.id))),
        );
        permissions()
            .into_iter()
            .flat_map(|p| objects.iter().map(move |o| (p, o.clone())))
            .collect()
    }

    /// Every principal, decided by the engine over what storage holds now.
    pub fn snapshot(&self) -> Snapshot {
        let mut out = BTreeMap::new();
        let whos = (0..self.users.len())
            .map(Who::User)
            .chain((0..self.keys.len()).map(Who::Key));
        for who in whos {
            let Some(view) = self.subject_of(who) else {
                continue;
            };
            let mut allowed = BTreeSet::new();
            let mut denied = BTreeSet::new();
            for g in self.grants(view.account) {
                let d = decide(&view.subject, view.account, &[], &g);
                if d.allowed && view.active {
                    allowed.insert(g.clone());
                }
                if by_deny(&d) {
                    denied.insert(g);
                }
            }
            out.insert(
                who,
                Seen {
                    view,
                    allowed,
                    denied,
                },
            );
        }
        let objects = [self.root, self.child]
            .into_iter()
            .flat_map(|a| self.grants(a))
            .filter_map(|(_, o)| o)
            .collect();
        Snapshot {
            principals: out,
            objects,
            mfa: self.mfa_states(),
            require_mfa: self.mfa_requirements(),
        }
    }

    /// Invariants 1–3 for one step.
    pub fn check_step(
        &self,
        caller: &Principal,
        before: &Snapshot,
        after: &Snapshot,
        handed: Handed,
        describe: &str,
    ) {
        let whos: BTreeSet<&Who> = before
            .principals
            .keys()
            .chain(after.principals.keys())
            .collect();
        for who in whos {
            let (b, a) = (before.principals.get(who), after.principals.get(who));
            let account = b.or(a).map(|s| s.view.account).expect("seen");
            let ancestors = self.ancestors(account);
            let held = |g: &Grant| decide(&caller.subject, account, &ancestors, g).allowed;
            let manages = |view: &View| {
                policy::check_permissions(
                    &caller.subject,
                    account,
                    &ancestors,
                    manage_set(view).highest(),
                )
                .allowed
            };
            let empty = BTreeSet::new();
            let before_allowed = b.map_or(&empty, |s| &s.allowed);
            if let Some(a) = a {
                let known = |g: &&Grant| g.1.as_ref().is_none_or(|o| before.objects.contains(o));
                for g in a.allowed.difference(before_allowed).filter(known) {
                    assert!(
                        held(g),
                        "{who:?} gained {g:?}, which the caller does not hold: {describe}"
                    );
                    if let Some(b) = b {
                        assert!(
                            manages(&b.view),
                            "{who:?} gained {g:?} from a caller that cannot manage it: {describe}"
                        );
                    }
                }
            }
            // A user's own service keys are its to re-role and delete (self-service): taking
            // power away from one's own credential is never an attack on someone else.
            let own_key = matches!(who, Who::Key(_))
                && b.is_some_and(|b| {
                    b.view.owner.is_some_and(|o| {
                        caller.user_id == Some(self.users[o].id)
                            && caller.account_id == self.users[o].account
                            && !matches!(caller.credential, tessera_app::Credential::ServiceKey(_))
                    })
                });
            if let (Some(b), false) = (b, own_key) {
                let roles_after = a.map(|s| weight(&s.view)).unwrap_or_default();
                let lost_role = weight(&b.view).iter().any(|r| !roles_after.contains(r));
                let lost_deny = a.is_some_and(|a| b.denied.difference(&a.denied).next().is_some());
                let status = a.is_some_and(|a| a.view.user_active != b.view.user_active);
                let ended = a.is_some_and(|a| b.view.valid && !a.view.valid);
                if lost_role || lost_deny || status || ended || a.is_none() {
                    assert!(
                        manages(&b.view),
                        "{who:?} lost a role or a deny, or changed status, validity or \
                         existence, by a caller that cannot manage it (role {lost_role}, deny \
                         {lost_deny}, status {status}, ended {ended}, gone {}): {describe}",
                        a.is_none()
                    );
                }
            }
        }
        match handed {
            Handed::Nothing => {}
            Handed::ChildOf(parent) => {
                let grant = (Permission::write(Capability::EnterpriseAccounts), None);
                assert!(
                    decide(&caller.subject, parent, &self.ancestors(parent), &grant).allowed,
                    "a child of account {parent} made by a caller without Manage Enterprise \
                     Accounts there: {describe}"
                );
            }
            Handed::AccessKeyOf(user) => {
                let rec = &self.users[user];
                let itself = caller.user_id == Some(rec.id)
                    && caller.account_id == rec.account
                    && !matches!(caller.credential, tessera_app::Credential::ServiceKey(_));
                if !itself {
                    let ancestors = self.ancestors(rec.account);
                    if let Some(target) = after.principals.get(&Who::User(user)) {
                        for g in &target.allowed {
                            assert!(
                                decide(&caller.subject, rec.account, &ancestors, g).allowed,
                                "the caller got an access key of user {user} worth {g:?}, \
                                 which it does not hold: {describe}"
                            );
                        }
                    }
                }
            }
            Handed::IdpSet(account, role) => {
                let ancestors = self.ancestors(account);
                assert!(
                    policy::check_permissions(
                        &caller.subject,
                        account,
                        &ancestors,
                        Capability::ALL.iter().map(|c| Permission::write(*c)),
                    )
                    .allowed
                        && policy::check_manage(
                            &caller.subject,
                            account,
                            &ancestors,
                            &[tessera_domain::roles::ids::OWNER]
                        )
                        .allowed,
                    "an SSO connector's IdP (who signs in as anyone of its domain) was set by a \
                     caller without an Owner's power: {describe}"
                );
                if let Some(role) = role {
                    let target = tessera_domain::roles::Role::by_id(role).expect("a catalog role");
                    assert!(
                        policy::check_role_grant(
                            &caller.subject,
                            account,
                            &self.ancestors(account),
                            target
                        )
                        .allowed,
                        "an SSO connector hands {role:?} to first-time users, set by a \
                         caller that may not grant it: {describe}"
                    );
                }
            }
            Handed::OAuthGrant(account, scopes) => {
                assert!(
                    policy::check_permissions(
                        &caller.subject,
                        account,
                        &self.ancestors(account),
                        scopes.permissions().highest(),
                    )
                    .allowed,
                    "a user granted an OAuth client {scopes}, beyond what they hold: {describe}"
                );
            }
            Handed::OAuthClient(account, scopes) => {
                assert!(
                    policy::check_permissions(
                        &caller.subject,
                        account,
                        &self.ancestors(account),
                        scopes.permissions().highest(),
                    )
                    .allowed,
                    "an OAuth client worth {scopes} was made, changed or had its secret taken by \
                     a caller that does not hold it: {describe}"
                );
                assert!(
                    decide(
                        &caller.subject,
                        account,
                        &self.ancestors(account),
                        &(Permission::write(Capability::ApiCredentials), None)
                    )
                    .allowed,
                    "an OAuth client was managed without API Credentials write: {describe}"
                );
            }
            Handed::MfaReset(_) => {
                // Checked with every other change of a second factor: `check_mfa`.
            }
            Handed::Unlocked(user) => {
                let rec = &self.users[user];
                if let Some(b) = before.principals.get(&Who::User(user)) {
                    let ancestors = self.ancestors(rec.account);
                    assert!(
                        policy::check_permissions(
                            &caller.subject,
                            rec.account,
                            &ancestors,
                            manage_set(&b.view).highest()
                        )
                        .allowed,
                        "the lockout of user {user} was cleared by a caller that cannot manage \
                         it: {describe}"
                    );
                }
            }
            Handed::PasswordOf { user, with_old } => {
                let rec = &self.users[user];
                let itself = caller.user_id == Some(rec.id)
                    && caller.account_id == rec.account
                    && !matches!(caller.credential, tessera_app::Credential::ServiceKey(_));
                if itself {
                    assert!(
                        with_old,
                        "a user set its own password without the old one: {describe}"
                    );
                } else if let Some(b) = before.principals.get(&Who::User(user)) {
                    let ancestors = self.ancestors(rec.account);
                    assert!(
                        policy::check_permissions(
                            &caller.subject,
                            rec.account,
                            &ancestors,
                            manage_set(&b.view).highest()
                        )
                        .allowed,
                        "the password of user {user} was set by a caller that cannot manage it: \
                         {describe}"
                    );
                    for g in &b.allowed {
                        assert!(
                            decide(&caller.subject, rec.account, &ancestors, g).allowed,
                            "the caller set the password of user {user}, worth {g:?}, which it \
                             does not hold: {describe}"
                        );
                    }
                }
            }
        }
    }

    /// Invariant 7 for one step.
    pub fn check_addresses(
        &self,
        caller: &Principal,
        before: &Addresses,
        after: &Addresses,
        seen: &Snapshot,
        describe: &str,
    ) {
        for (account, list) in &after.accounts {
            if before.accounts.get(account) != Some(list) {
                let grant = (Permission::write(Capability::AccountSettings), None);
                assert!(
                    decide(&caller.subject, *account, &self.ancestors(*account), &grant).allowed,
                    "the authorized IPs of account {account} changed by a caller without \
                     Account Settings write there: {describe}"
                );
            }
        }
        let itself = |user: usize| {
            let rec = &self.users[user];
            caller.user_id == Some(rec.id)
                && caller.account_id == rec.account
                && !matches!(caller.credential, tessera_app::Credential::ServiceKey(_))
        };
        let manages = |view: &View| {
            policy::check_permissions(
                &caller.subject,
                view.account,
                &self.ancestors(view.account),
                manage_set(view).highest(),
            )
            .allowed
        };
        for (i, nets) in &after.service_keys {
            if before.service_keys.get(i).is_some_and(|b| b != nets) {
                let Some(b) = seen.principals.get(&Who::Key(*i)) else {
                    continue;
                };
                assert!(
                    b.view.owner.is_some_and(itself) || manages(&b.view),
                    "the allowed_ips of service key {i} changed by a caller that cannot manage \
                     it: {describe}"
                );
            }
        }
        for (i, nets) in &after.access_keys {
            if before.access_keys.get(i).is_some_and(|b| b != nets) {
                let Some(b) = seen.principals.get(&Who::User(*i)) else {
                    continue;
                };
                assert!(
                    itself(*i) || manages(&b.view),
                    "the allowed_ips of user {i}'s access key changed by a caller that cannot \
                     manage the user: {describe}"
                );
            }
        }
    }

    /// Invariant 8 for one step: sessions that ended (`before` but not `after`, still live)
    /// were ended by their user or by a caller that may manage it.
    pub fn check_sessions(
        &self,
        caller: &Principal,
        before: &BTreeMap<usize, BTreeSet<tessera_domain::ids::SessionId>>,
        after: &BTreeMap<usize, BTreeSet<tessera_domain::ids::SessionId>>,
        seen: &Snapshot,
        describe: &str,
    ) {
        for (i, ids) in before {
            let kept = after.get(i);
            if ids.iter().all(|id| kept.is_some_and(|k| k.contains(id))) {
                continue;
            }
            let rec = &self.users[*i];
            let itself = caller.user_id == Some(rec.id)
                && caller.account_id == rec.account
                && !matches!(caller.credential, tessera_app::Credential::ServiceKey(_));
            if itself {
                continue;
            }
            let Some(b) = seen.principals.get(&Who::User(*i)) else {
                continue;
            };
            let ancestors = self.ancestors(rec.account);
            let write = (
                Permission::write(Capability::UserManagement),
                Some(ResourceKey::new(ResourceType::User, rec.id)),
            );
            assert!(
                decide(&caller.subject, rec.account, &ancestors, &write).allowed
                    && policy::check_permissions(
                        &caller.subject,
                        rec.account,
                        &ancestors,
                        manage_set(&b.view).highest()
                    )
                    .allowed,
                "sessions of user {i} ended by a caller that cannot manage it: {describe}"
            );
        }
    }

    /// Invariant 8 on the session lists of user `i` (principal `p`): every session listed is
    /// the asked user's, in the asked account; another account it cannot see is not found.
    fn check_session_lists(&self, i: usize, p: &Principal, sees_other: bool) {
        let rec = &self.users[i];
        for u in &self.users {
            match self.app.list_user_sessions(p, u.account, u.id, 1000, 0) {
                Ok(page) => {
                    assert!(
                        u.account == rec.account || sees_other,
                        "user {i} listed sessions in an account it cannot see"
                    );
                    for s in &page.items {
                        assert_eq!(
                            (s.session.account_id, s.session.user_id),
                            (u.account, u.id),
                            "user {i} asked for user {}'s sessions and got another's",
                            u.id
                        );
                    }
                }
                Err(AppError::NotFound(Entity::Account)) => {
                    assert_ne!(u.account, rec.account, "its own account is visible");
                }
                Err(AppError::NotFound(Entity::User) | AppError::Forbidden(_)) => {}
                Err(e) => panic!("listing sessions: {e:?}"),
            }
        }
    }

    /// Invariant 4.
    pub fn check_keys(&self, now: &Snapshot) {
        for (who, seen) in &now.principals {
            let Who::Key(_) = who else { continue };
            let key_roles = seen.view.subject.key_roles.clone().unwrap_or_default();
            for g in &seen.allowed {
                assert!(
                    key_roles
                        .iter()
                        .filter_map(|r| Role::by_id(*r).ok())
                        .any(|r| r.permissions().contains(g.0)),
                    "{who:?} may {g:?}, which none of its roles grants"
                );
                if let Some(owner) = seen.view.owner {
                    assert!(
                        now.principals
                            .get(&Who::User(owner))
                            .is_some_and(|o| o.allowed.contains(g)),
                        "{who:?} may {g:?}, which its owner may not"
                    );
                }
            }
        }
    }

    /// Invariants 5 and 6, through the use cases, for every active user.
    pub fn check_answers(&self) {
        let everything = ListQuery {
            limit: 1000,
            ..ListQuery::default()
        };
        for (i, rec) in self.users.iter().enumerate() {
            let Some(p) = self.principal_of_user(i) else {
                continue;
            };
            let hidden = |kind: ResourceType, permission: Permission, id: String| {
                by_deny(&decide(
                    &p.subject,
                    rec.account,
                    &[],
                    &(permission, Some(ResourceKey::new(kind, id))),
                ))
            };
            let um_read = Permission::read(Capability::UserManagement);
            let keys_read = Permission::read(Capability::ApiCredentials);
            if let Ok(page) = self.app.list_subusers(&p, rec.account, &everything) {
                for u in &page.items {
                    assert_eq!(
                        u.account_id, rec.account,
                        "user {i} listed another account's user"
                    );
                    assert!(
                        !hidden(ResourceType::User, um_read, u.id.to_string()),
                        "user {i} listed user {} that a deny hides from it",
                        u.id
                    );
                }
            }
            let ids: Vec<_> = self.users.iter().map(|u| u.id).collect();
            if let Ok(users) = self.app.get_subusers(&p, rec.account, &ids) {
                for u in &users {
                    assert_eq!(u.account_id, rec.account);
                    assert!(!hidden(ResourceType::User, um_read, u.id.to_string()));
                }
            }
            if let Ok(page) = self
                .app
                .list_service_keys(&p, rec.account, &everything, None)
            {
                for k in &page.items {
                    assert_eq!(k.account_id, rec.account);
                    assert!(
                        !hidden(ResourceType::ServiceKey, keys_read, k.id.to_string()),
                        "user {i} listed key {} that a deny hides from it",
                        k.id
                    );
                }
            }
            self.check_report(i, &p, rec.account, &hidden);
            assert_eq!(
                self.app.own_account(&p).map(|a| a.id),
                Ok(rec.account),
                "user {i} read another account's info"
            );
            for (account, group) in &self.user_groups {
                if *account != rec.account {
                    continue;
                }
                if let Ok(members) = self.app.list_members(&p, rec.account, *group) {
                    for m in &members {
                        assert!(
                            !hidden(ResourceType::User, um_read, m.user_id.to_string()),
                            "user {i} saw member {} that a deny hides from it",
                            m.user_id
                        );
                    }
                }
            }
            // The other account: visible only to an ancestor's principal with Manage
            // Enterprise Accounts; then only that account's objects.
            let other = self.other(rec.account);
            let sees_other = self.ancestors(other).contains(&rec.account)
                && policy::decide(
                    &p.subject,
                    &Request {
                        account: rec.account,
                        permission: Permission::read(Capability::EnterpriseAccounts),
                        resource: None,
                        ancestors: &[],
                    },
                )
                .allowed;
            match self
                .app
                .credential_report(&p, other, ReportFilter::default())
            {
                Ok(report) => {
                    assert!(
                        sees_other,
                        "user {i} read the report of an account it cannot see"
                    );
                    assert_eq!(report.account_id, other);
                    let theirs: BTreeSet<_> = self
                        .users
                        .iter()
                        .filter(|u| u.account == other)
                        .map(|u| u.id)
                        .collect();
                    assert!(
                        report
                            .rows
                            .iter()
                            .all(|r| r.user_id.is_none_or(|u| theirs.contains(&u)))
                    );
                }
                Err(AppError::NotFound(Entity::Account)) => {}
                Err(AppError::Forbidden(_)) => {
                    assert!(
                        sees_other,
                        "an invisible account answered forbidden to user {i}"
                    );
                }
                Err(e) => panic!("the report of another account: {e:?}"),
            }
            match self.app.list_subusers(&p, other, &everything) {
                Ok(page) => {
                    assert!(sees_other, "user {i} listed an account it cannot see");
                    assert!(page.items.iter().all(|u| u.account_id == other));
                }
                Err(AppError::NotFound(Entity::Account)) => {}
                Err(AppError::Forbidden(_)) => {
                    assert!(
                        sees_other,
                        "an invisible account answered forbidden to user {i}"
                    );
                }
                Err(e) => panic!("listing another account: {e:?}"),
            }
            self.check_session_lists(i, &p, sees_other);
            if !sees_other {
                for u in self.users.iter().filter(|u| u.account == other) {
                    assert_eq!(
                        self.app.get_subuser(&p, other, u.id).map(|_| ()),
                        Err(AppError::NotFound(Entity::Account)),
                        "user {i} reached into an account it cannot see"
                    );
                }
            }
        }
    }

    /// Invariants 5 and 6 on the credential report of user `i` (principal `p`) in its own
    /// account: only that account's users and keys, none a deny hides from it (a hidden user
    /// takes its keys with it).
    fn check_report(
        &self,
        i: usize,
        p: &Principal,
        account: AccountId,
        hidden: &dyn Fn(ResourceType, Permission, String) -> bool,
    ) {
        let Ok(report) = self
            .app
            .credential_report(p, account, ReportFilter::default())
        else {
            return;
        };
        let um_read = Permission::read(Capability::UserManagement);
        let keys_read = Permission::read(Capability::ApiCredentials);
        let ours: BTreeSet<_> = self
            .users
            .iter()
            .filter(|u| u.account == account)
            .map(|u| u.id)
            .collect();
        assert_eq!(report.account_id, account);
        for row in &report.rows {
            if let Some(u) = row.user_id {
                assert!(
                    ours.contains(&u),
                    "user {i}'s report shows user {u} of another account"
                );
                assert!(
                    !hidden(ResourceType::User, um_read, u.to_string()),
                    "user {i}'s report shows {row:?}, whose user a deny hides from it"
                );
            }
            let kind = match row.kind {
                CredentialKind::User => continue,
                CredentialKind::AccessKey => ResourceType::AccessKey,
                CredentialKind::ServiceKey => ResourceType::ServiceKey,
            };
            assert!(
                !hidden(kind, keys_read, row.id.clone()),
                "user {i}'s report shows {row:?}, which a deny hides from it"
            );
            if let Some(u) = row.user_id {
                assert!(
                    !hidden(ResourceType::User, keys_read, u.to_string()),
                    "user {i}'s report shows {row:?}, whose user's credentials a deny hides"
                );
            }
        }
    }
}

impl World {
    /// An access token of user `t`'s access key (every scope it holds), minted by the world as
    /// the key itself would: its `jti` and the token; `None` when the user has no working key.
    pub fn mint_token(&self, t: &crate::world::UserRec) -> Option<(String, String)> {
        let (id, token) = t.access_key.as_ref()?;
        let secret = token.strip_prefix(&format!("tsr_{id}_"))?;
        let grant = tessera_app::MachineGrant::ClientCredentials {
            key_id: id.to_string(),
            secret: tessera_domain::Secret::new(secret),
        };
        let issued = self
            .app
            .machine_token(
                &grant,
                None,
                None,
                "https://hunt.test",
                &crate::world::meta(),
            )
            .ok()?;
        Some((issued.jti, issued.token.expose().to_owned()))
    }

    /// Invariant 12: an access token of user `t`'s key is revoked only by the key itself, a
    /// token of the key, or a caller of its account holding API Credentials write there.
    pub fn check_token_revocation(
        &self,
        caller: &Principal,
        t: &crate::world::UserRec,
        revoked: bool,
    ) {
        if !revoked {
            return;
        }
        let key = t.access_key.as_ref().map(|(id, _)| id.clone());
        let itself = caller.account_id == t.account
            && match &caller.credential {
                tessera_app::Credential::AccessKey(id) => Some(id) == key.as_ref(),
                tessera_app::Credential::OAuthToken(token) => matches!(
                    &token.subject,
                    tessera_domain::oauth::TokenSubject::AccessKey(id) if Some(id) == key.as_ref()
                ),
                _ => false,
            };
        let admin = caller.account_id == t.account
            && decide(
                &caller.subject,
                t.account,
                &self.ancestors(t.account),
                &(Permission::write(Capability::ApiCredentials), None),
            )
            .allowed;
        assert!(
            itself || admin,
            "a token of user {}'s key was revoked by {:?}, neither the key nor an API Credentials writer of its account",
            t.id,
            caller.credential
        );
    }
}
