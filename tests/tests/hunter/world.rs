//! The system under test: the real use cases (`App`) over a fresh embedded database, the
//! objects the hunt created (so that steps can name them), the callers' credentials, and the
//! oracle's view of every principal (read straight from storage, decided by the engine).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use serde_json::json;
use tessera_app::infra::{AesGcmSealer, Argon2Hasher, AwsLcKeyPairs, HashParams, OsRandom};
use tessera_app::{
    App, BootstrapSettings, CreateChildAccount, CreateSubuser, LoginCommand, Ports, Presented,
    Principal, Settings, SystemPorts,
};
use tessera_domain::Secret;
use tessera_domain::audit::RequestMeta;
use tessera_domain::ids::{
    AccessKeyId, AccountId, ResourceGroupId, ServiceKeyId, SessionId, UserGroupId, UserId,
};
use tessera_domain::keys::KeyState;
use tessera_domain::permissions::Capability;
use tessera_domain::policy::{PolicyIndex, Subject};
use tessera_domain::ports::{
    AccessKeyRepo, AccountRepo, AuthorizedIpRepo, AuthzRepo, DnsResolver, GeneratedKeyPair,
    KeyPairGenerator, ServiceKeyRepo, SessionPage, SessionRepo, UserRepo,
};
use tessera_domain::roles::{RoleId, ids as role_ids};
use tessera_domain::user::UserStatus;
use tessera_store::Store;
use tessera_store::testing::TestDatabase;
use tessera_tests::{PASSWORD, jwt};
use zeroize::Zeroizing;

use crate::mfa::{Authenticator, HuntClock};
use crate::model::{Caller, Cred, Start};

/// One RSA key pair for every service key of the hunt: generating 2048-bit keys is the slow
/// part of `CreateKey`, and which key signs does not matter to authorization (the `kid` names
/// the key; each key still has its own row and roles).
struct OneKeyPair(GeneratedKeyPair);

impl KeyPairGenerator for OneKeyPair {
    fn rsa_2048(&self) -> Result<GeneratedKeyPair, String> {
        Ok(self.0.clone())
    }

    fn p256(&self) -> Result<GeneratedKeyPair, String> {
        AwsLcKeyPairs.p256()
    }
}

fn key_pair() -> GeneratedKeyPair {
    static PAIR: OnceLock<GeneratedKeyPair> = OnceLock::new();
    PAIR.get_or_init(|| AwsLcKeyPairs.rsa_2048().expect("an RSA key pair"))
        .clone()
}

/// No DNS: SSO verification is not hunted here.
struct NoDns;

impl DnsResolver for NoDns {
    fn txt_records(&self, _: &str) -> Result<Vec<String>, String> {
        Err("no DNS in the hunt".into())
    }
}

/// A user the hunt made (or the accounts' owners).
#[derive(Debug, Clone)]
pub struct UserRec {
    pub account: AccountId,
    pub id: UserId,
    pub login: String,
    pub password: String,
    pub access_key: Option<(AccessKeyId, String)>,
}

/// A service key the hunt made (or the accounts' bootstrap keys).
#[derive(Debug, Clone, Copy)]
pub struct KeyRec {
    pub account: AccountId,
    pub id: ServiceKeyId,
}

/// Who a principal of the oracle is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Who {
    User(usize),
    Key(usize),
}

/// The world of one hunt.
pub struct World {
    pub app: App,
    pub store: Store,
    _db: TestDatabase,
    pub root: AccountId,
    pub child: AccountId,
    pub users: Vec<UserRec>,
    pub keys: Vec<KeyRec>,
    pub user_groups: Vec<(AccountId, UserGroupId)>,
    pub resource_groups: Vec<(AccountId, ResourceGroupId)>,
    /// The OAuth clients made (deleted ones included).
    pub oauth_clients: Vec<(AccountId, tessera_domain::ids::OAuthClientId)>,
    /// The token of the session [`World::authenticate`] opened last (`None` after another
    /// kind of credential): the consent step signs in with it.
    pub last_session: Option<Secret>,
    pub counter: usize,
    /// Steps run, steps whose caller authenticated, and steps whose use case succeeded.
    pub stats: Stats,
    /// The app's clock (moved on when a user signs in twice within one time step).
    pub clock: Arc<HuntClock>,
    /// The authenticator apps of the users (by index) with a confirmed second factor.
    pub authenticators: BTreeMap<usize, Authenticator>,
}

/// How much of a hunt did something (printed with `HUNTER_STATS=1`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub steps: usize,
    pub authenticated: usize,
    pub succeeded: usize,
    /// Password sign-ins completed with a code (`enrolled`: enrolling at sign-in first).
    pub codes: usize,
    pub enrolled: usize,
    /// Second factors reset.
    pub resets: usize,
    /// Callers authenticated with an OAuth access token.
    pub tokens: usize,
    /// Access tokens revoked.
    pub revocations: usize,
    /// OAuth clients made, changed or rotated.
    pub oauth_clients: usize,
    /// Consents to OAuth clients (grants, and tokens of public clients).
    pub oauth_grants: usize,
}

/// The client address of every hunt call: inside some of the networks the authorized-IP
/// actions add (`apply::NETWORKS`), outside others.
pub const CLIENT_IP: &str = "192.0.2.1";

/// The request metadata of every hunt call (the address limit is raised out of the way in
/// [`World::new`]).
pub fn meta() -> RequestMeta {
    RequestMeta {
        client_ip: Some(CLIENT_IP.into()),
        request_id: None,
    }
}

/// The address conditions storage holds: each account's authorized IPs, each service key's
/// and each user's access key's `allowed_ips` (by index), as text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Addresses {
    pub accounts: BTreeMap<AccountId, Vec<(String, bool)>>,
    pub service_keys: BTreeMap<usize, Vec<String>>,
    pub access_keys: BTreeMap<usize, Vec<String>>,
}

impl World {
    /// Two accounts (a root and its child) with their owners and bootstrap keys, and the
    /// initial users, created by the owners.
    pub fn new(start: &Start) -> Self {
        let db = TestDatabase::sqlite();
        let store = db.store();
        let clock = Arc::new(HuntClock::default());
        let ports = Ports::with_storage(
            &Arc::new(store.clone()),
            SystemPorts {
                dns: Arc::new(NoDns),
                hasher: Arc::new(Argon2Hasher::new(
                    HashParams {
                        memory_kib: 8,
                        iterations: 1,
                        parallelism: 1,
                    },
                    2,
                )),
                clock: clock.clone(),
                ids: Arc::new(OsRandom::new()),
                key_pairs: Arc::new(OneKeyPair(key_pair())),
                sealer: Arc::new(AesGcmSealer::new(&Zeroizing::new([7; 32]), &[])),
                oidc: Arc::new(tessera_server::idp::NoOidc(
                    "the hunt reaches no IdP".into(),
                )),
            },
        );
        let settings = Settings {
            max_users_per_account: 40,
            max_service_keys_per_owner: 8,
            // Every call comes from one address: refused credentials (deleted users and keys)
            // must not lock it, or the hunt would stop hunting.
            rate_limits: tessera_app::RateLimits {
                per_address: u32::MAX,
                ..tessera_app::RateLimits::default()
            },
            ..Settings::default()
        };
        let app = App::new(ports, settings);
        app.ensure_signing_key().expect("a signing key");
        let boot = app
            .bootstrap(&BootstrapSettings {
                account_name: "Root".into(),
                account_email: "root@hunt.test".into(),
                owner_login: "admin".into(),
                owner_email: Some("admin@hunt.test".into()),
            })
            .expect("bootstrap")
            .expect("an empty database");
        let root = boot.account.id;
        let mut world = Self {
            app,
            store,
            _db: db,
            root,
            child: root,
            users: vec![UserRec {
                account: root,
                id: boot.owner.id,
                login: "admin".into(),
                password: boot.owner_password.expose().to_owned(),
                access_key: Some((
                    boot.access_key.id,
                    boot.access_key.token.expose().to_owned(),
                )),
            }],
            keys: vec![KeyRec {
                account: root,
                id: boot.service_key.key_id,
            }],
            user_groups: Vec::new(),
            resource_groups: Vec::new(),
            oauth_clients: Vec::new(),
            last_session: None,
            counter: 0,
            stats: Stats::default(),
            clock,
            authenticators: BTreeMap::new(),
        };
        let owner = world.principal_of_user(0).expect("the root owner");
        let child = world
            .app
            .create_child_account(
                &owner,
                &meta(),
                CreateChildAccount {
                    name: "Child".into(),
                    email: "child@hunt.test".into(),
                    owner_login: None,
                    owner_email: None,
                    parent_id: None,
                },
            )
            .expect("a child account");
        world.child = child.account.id;
        world.users.push(UserRec {
            account: world.child,
            id: child.owner.id,
            login: "admin".into(),
            password: child.owner_password.expose().to_owned(),
            access_key: Some((
                child.access_key.id,
                child.access_key.token.expose().to_owned(),
            )),
        });
        world.keys.push(KeyRec {
            account: world.child,
            id: child.service_key.key_id,
        });
        for (account, owner_index, list) in [
            (world.root, 0, &start.root_users),
            (world.child, 1, &start.child_users),
        ] {
            let owner = world.principal_of_user(owner_index).expect("an owner");
            for roles in list {
                let login = world.fresh_login();
                let user = world
                    .app
                    .create_subuser(
                        &owner,
                        &meta(),
                        account,
                        CreateSubuser {
                            login: login.clone(),
                            password: Some(Secret::new(PASSWORD)),
                            email: None,
                            phone_number: None,
                            description: None,
                            status: None,
                            roles: role_set(roles),
                        },
                    )
                    .expect("an initial user");
                world.users.push(UserRec {
                    account,
                    id: user.id,
                    login,
                    password: PASSWORD.into(),
                    access_key: None,
                });
            }
        }
        world.start_keys(start);
        world.start_groups(start);
        world
    }

    /// A service key each initial user makes for itself, with those of the start's roles it
    /// holds.
    fn start_keys(&mut self, start: &Start) {
        for (index, roles) in (2..self.users.len()).zip(&start.keys) {
            let Some(me) = self.principal_of_user(index) else {
                continue;
            };
            let held: Vec<RoleId> = role_set(roles)
                .into_iter()
                .filter(|r| me.subject.roles.contains(r))
                .collect();
            let key = self
                .app
                .create_service_key(
                    &me,
                    &meta(),
                    me.account_id,
                    tessera_app::CreateServiceKey {
                        name: Some(format!("own{index}")),
                        description: None,
                        roles: held,
                        validity: tessera_domain::keys::KeyValidity::default(),
                    },
                )
                .expect("users make their own keys");
            self.keys.push(KeyRec {
                account: key.key.account_id,
                id: key.key.id,
            });
        }
    }

    /// The root account's whole-account resource group, and the start's user groups.
    fn start_groups(&mut self, start: &Start) {
        let owner = self.principal_of_user(0).expect("the root owner");
        let everything = self
            .app
            .create_resource_group(
                &owner,
                &meta(),
                self.root,
                tessera_app::ResourceGroupInput {
                    name: "everything".into(),
                    meta: None,
                    scope: vec![(
                        tessera_domain::policy::Scope::account_key(self.root),
                        vec!["*".into()],
                    )],
                },
            )
            .expect("a resource group");
        self.resource_groups.push((self.root, everything.id));
        let root_users: Vec<UserId> = self
            .users
            .iter()
            .filter(|u| u.account == self.root)
            .map(|u| u.id)
            .collect();
        for (n, (policies, members)) in start.groups.iter().enumerate() {
            let group = self
                .app
                .create_user_group(
                    &owner,
                    &meta(),
                    self.root,
                    format!("start{n}"),
                    self.policies(policies),
                )
                .expect("a user group");
            self.user_groups.push((self.root, group.id));
            let members: Vec<_> = members
                .iter()
                .map(|m| {
                    (
                        root_users[usize::from(*m) % root_users.len()],
                        tessera_domain::groups::MemberStatus::Accepted,
                    )
                })
                .collect();
            if !members.is_empty() {
                self.app
                    .set_members(&owner, &meta(), self.root, group.id, members, false)
                    .expect("members");
            }
        }
    }

    /// A login never used before.
    pub fn fresh_login(&mut self) -> String {
        self.counter += 1;
        format!("user{:04}", self.counter)
    }

    /// The address conditions storage holds now.
    pub fn addresses(&self) -> Addresses {
        let shown = |nets: &[tessera_domain::authorized_ips::Network]| {
            nets.iter().map(ToString::to_string).collect::<Vec<_>>()
        };
        let mut out = Addresses::default();
        for account in [self.root, self.child] {
            let list = self
                .store
                .list_authorized_ips(account)
                .expect("authorized IPs")
                .into_iter()
                .map(|e| (e.network.to_string(), e.allowed))
                .collect();
            out.accounts.insert(account, list);
        }
        for (i, k) in self.keys.iter().enumerate() {
            if let Ok(key) = self.store.get_service_key(k.account, k.id) {
                out.service_keys.insert(i, shown(&key.allowed_ips));
            }
        }
        for (i, u) in self.users.iter().enumerate() {
            let key = u
                .access_key
                .as_ref()
                .and_then(|(id, _)| self.store.get_access_key(u.account, u.id, id).ok());
            if let Some(key) = key {
                out.access_keys.insert(i, shown(&key.allowed_ips));
            }
        }
        out
    }

    /// The live sessions storage holds, per user (by index): what the session steps pick from
    /// and what invariant 8 compares.
    pub fn sessions(&self) -> BTreeMap<usize, BTreeSet<SessionId>> {
        let now = chrono::Utc::now();
        let mut out = BTreeMap::new();
        for (i, u) in self.users.iter().enumerate() {
            let page = self
                .store
                .list_sessions(
                    u.account,
                    u.id,
                    now,
                    SessionPage {
                        limit: 1000,
                        offset: 0,
                    },
                )
                .expect("sessions");
            let ids: BTreeSet<SessionId> = page.items.into_iter().map(|s| s.id).collect();
            if !ids.is_empty() {
                out.insert(i, ids);
            }
        }
        out
    }

    /// The other account than `account`.
    pub fn other(&self, account: AccountId) -> AccountId {
        if account == self.root {
            self.child
        } else {
            self.root
        }
    }

    /// The ancestors of `account` in the hunt's tree.
    pub fn ancestors(&self, account: AccountId) -> Vec<AccountId> {
        if account == self.child {
            vec![self.root]
        } else {
            Vec::new()
        }
    }

    /// Now, by the app's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        tessera_domain::ports::Clock::now(self.clock.as_ref())
    }

    /// The index of the user `principal` acts as, if any.
    pub fn index_of(&self, principal: &Principal) -> Option<usize> {
        let user = principal.user_id?;
        self.users
            .iter()
            .position(|u| u.account == principal.account_id && u.id == user)
    }

    /// Authenticates `caller` as a client would: a fresh session (password sign-in, with a
    /// code of its authenticator when one is due, enrolling first where the account requires
    /// it), the user's access key, or a JWT signed for a service key. `None` when it cannot (a
    /// deleted or inactive user, no access key, a deleted key, an inactive account).
    pub fn authenticate(&mut self, caller: &Caller) -> Option<Arc<Principal>> {
        self.last_session = None;
        match caller.cred {
            Cred::Session => {
                let index = usize::from(caller.user) % self.users.len();
                let user = &self.users[index];
                let signed_in = self
                    .app
                    .login(
                        &meta(),
                        LoginCommand {
                            account_id: user.account,
                            login: user.login.clone(),
                            password: Secret::new(user.password.clone()),
                        },
                    )
                    .ok()?;
                let session = match signed_in {
                    tessera_app::SignIn::Session(s) => s,
                    tessera_app::SignIn::MfaRequired(c) => {
                        let auth = self.authenticators.get_mut(&index).unwrap_or_else(|| {
                            panic!("a code is due from user {index}, who never enrolled")
                        });
                        let code = Secret::new(auth.code(&self.clock));
                        self.stats.codes += 1;
                        self.app
                            .complete_sign_in(&meta(), &c.challenge, &code)
                            .unwrap_or_else(|e| panic!("user {index}'s right code: {e:?}"))
                            .session
                    }
                    tessera_app::SignIn::MfaEnrolmentRequired(c) => {
                        let shown = self
                            .app
                            .enrol_at_sign_in(&meta(), &c.challenge)
                            .unwrap_or_else(|e| panic!("user {index} enrols: {e:?}"));
                        let mut auth = Authenticator::scan(shown.secret.expose());
                        let code = Secret::new(auth.code(&self.clock));
                        let done = self
                            .app
                            .complete_sign_in(&meta(), &c.challenge, &code)
                            .unwrap_or_else(|e| panic!("user {index} confirms: {e:?}"));
                        self.authenticators.insert(index, auth);
                        self.stats.enrolled += 1;
                        done.session
                    }
                };
                self.last_session = Some(session.token.clone());
                self.app
                    .authenticate(&Presented::Bearer(session.token), &meta())
                    .ok()
            }
            Cred::AccessKey => {
                let user = &self.users[usize::from(caller.user) % self.users.len()];
                let (_, token) = user.access_key.as_ref()?;
                self.app
                    .authenticate(&Presented::Bearer(Secret::new(token.clone())), &meta())
                    .ok()
            }
            Cred::Token(n) => {
                let user = &self.users[usize::from(caller.user) % self.users.len()];
                let (id, token) = user.access_key.as_ref()?;
                let secret = token.strip_prefix(&format!("tsr_{id}_"))?;
                let scope = (n % 3 != 0).then(|| {
                    let capability = Capability::ALL[usize::from(n / 3) % Capability::ALL.len()];
                    let level = if n % 2 == 0 { "read" } else { "write" };
                    format!("{}.{level}", capability.slug())
                });
                let grant = tessera_app::MachineGrant::ClientCredentials {
                    key_id: id.to_string(),
                    secret: Secret::new(secret),
                };
                let issued = self
                    .app
                    .machine_token(&grant, scope.as_deref(), None, "https://hunt.test", &meta())
                    .ok()?;
                let principal = self
                    .app
                    .authenticate(&Presented::Bearer(issued.token), &meta())
                    .ok()?;
                self.stats.tokens += 1;
                Some(principal)
            }
            Cred::ServiceKey(n) => {
                let key = self.keys[usize::from(n) % self.keys.len()];
                let t = self.now().timestamp();
                let token = jwt(
                    &json!({
                        "key_id": key.id.to_string(),
                        "account_id": key.account.0,
                        "private_key": key_pair().private_pem.expose(),
                    }),
                    t - 5,
                    t + 600,
                );
                self.app
                    .authenticate(&Presented::Bearer(Secret::new(token)), &meta())
                    .ok()
            }
        }
    }

    /// A session-like principal of user `index`, built from storage (for the listings the
    /// invariants check without signing in); `None` when the user is gone or inactive.
    pub fn principal_of_user(&self, index: usize) -> Option<Principal> {
        let rec = &self.users[index];
        let user = self.store.get_user(rec.account, rec.id).ok()?;
        if user.status != UserStatus::Active || !self.account_active(rec.account) {
            return None;
        }
        let rules = self
            .store
            .policy_rules_for_user(rec.account, rec.id)
            .expect("policy rules");
        Some(Principal::user(rec.account, rec.id, user.roles, &rules))
    }

    /// A principal of `account`'s owner that sees everything there (for the hunt's own reads,
    /// never as a caller of a step).
    pub fn owner_of(&self, account: AccountId) -> Principal {
        let index = if account == self.root { 0 } else { 1 };
        let rec = &self.users[index];
        Principal::user(rec.account, rec.id, vec![role_ids::OWNER], &[])
    }

    /// Whether `account` and its ancestors are active.
    pub fn account_active(&self, account: AccountId) -> bool {
        let Ok(a) = self.store.get_account(account) else {
            return false;
        };
        a.active && a.parent_id.is_none_or(|p| self.account_active(p))
    }

    /// The oracle's view of a principal: its account, its subject for the engine, whether it
    /// can authenticate at all, and (for a user) whether its own status is active. `None` when
    /// it does not exist.
    pub fn subject_of(&self, who: Who) -> Option<View> {
        match who {
            Who::User(i) => {
                let rec = &self.users[i];
                let user = self.store.get_user(rec.account, rec.id).ok()?;
                let rules = self
                    .store
                    .policy_rules_for_user(rec.account, rec.id)
                    .expect("policy rules");
                let user_active = user.status == UserStatus::Active;
                Some(View {
                    account: rec.account,
                    active: user_active && self.account_active(rec.account),
                    user_active,
                    valid: true,
                    subject: Subject {
                        account: rec.account,
                        roles: user.roles,
                        policies: PolicyIndex::compile(rec.account, &rules),
                        key_roles: None,
                        scope: None,
                    },
                    owner: None,
                })
            }
            Who::Key(i) => {
                let rec = self.keys[i];
                let key = self.store.get_service_key(rec.account, rec.id).ok()?;
                let valid = key.validity.state_at(self.now()) == KeyState::Valid;
                let view = match key.owner {
                    Some(owner) => {
                        let index = self
                            .users
                            .iter()
                            .position(|u| u.account == rec.account && u.id == owner)?;
                        let mut view = self.subject_of(Who::User(index))?;
                        view.subject.key_roles = Some(key.roles);
                        view.owner = Some(index);
                        view
                    }
                    None => View {
                        account: rec.account,
                        active: self.account_active(rec.account),
                        user_active: true,
                        valid: true,
                        subject: Subject {
                            account: rec.account,
                            roles: vec![role_ids::OWNER],
                            policies: PolicyIndex::default(),
                            key_roles: Some(key.roles),
                            scope: None,
                        },
                        owner: None,
                    },
                };
                // A key outside its validity authenticates nothing.
                Some(View {
                    active: view.active && valid,
                    valid,
                    ..view
                })
            }
        }
    }
}

/// What the oracle knows of one principal.
#[derive(Debug, Clone)]
pub struct View {
    pub account: AccountId,
    pub active: bool,
    pub user_active: bool,
    /// For a service key: whether it is within its validity now (always for a user).
    pub valid: bool,
    pub subject: Subject,
    /// For a user's service key: that user (its index).
    pub owner: Option<usize>,
}

/// Roles from generated numbers (the catalog's ids are 1–19).
pub fn role_set(numbers: &[u8]) -> Vec<RoleId> {
    let mut roles: Vec<RoleId> = numbers
        .iter()
        .map(|n| RoleId(i64::from(n % 19) + 1))
        .collect();
    roles.sort_unstable();
    roles.dedup();
    roles
}
