//! What the hunter generates: steps (a caller, an account, an action with small indices that
//! the world resolves against what exists), and the reference state machine that produces them.

use proptest::prelude::*;
use proptest_state_machine::ReferenceStateMachine;

/// How a caller authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cred {
    /// A fresh password session of the user.
    Session,
    /// The user's access key (when it has one).
    AccessKey,
    /// Service key number `n` (any account's).
    ServiceKey(u8),
    /// An OAuth access token of the user's access key (`client_credentials`): every scope the
    /// key holds when `n % 3 == 0`, else one scope (`n` picks the capability and level).
    Token(u8),
}

/// Who calls: user number `user` (any account's) through `cred`.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub user: u8,
    pub cred: Cred,
}

/// A change of roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleEdit {
    Add,
    Remove,
    Replace,
}

/// A policy: allow or deny some permissions of the pool on resource group number `rg`.
#[derive(Debug, Clone)]
pub struct PolicySpec {
    pub allow: bool,
    pub perms: Vec<u8>,
    pub rg: u8,
}

/// A key's validity as a step sets it (relative to the moment it runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Both ends open (`null`): the key works for ever.
    Open,
    /// Not before a day from now: the key stops working at once.
    Later,
    /// Expires `n % 60 + 1` days from now.
    Until(u8),
}

/// Every mutating operation of the use cases. Numbers pick existing objects (modulo how many
/// there are, across both accounts, deleted ones included: stale and foreign ids are inputs an
/// attacker sends too).
#[derive(Debug, Clone)]
pub enum Action {
    CreateUser {
        roles: Vec<u8>,
    },
    UpdateUser {
        target: u8,
        status: Option<bool>,
        password: Option<bool>,
        description: bool,
        roles: Option<Vec<u8>>,
    },
    ChangeRoles {
        target: u8,
        edit: RoleEdit,
        roles: Vec<u8>,
        force: bool,
    },
    DeleteUser {
        target: u8,
    },
    CreateAccessKey {
        target: u8,
        window: Option<Window>,
    },
    SetAccessKey {
        target: u8,
        active: bool,
    },
    DeleteAccessKey {
        target: u8,
    },
    /// Changes when a user's access key works.
    SetAccessKeyWindow {
        target: u8,
        window: Window,
    },
    CreateServiceKey {
        roles: Vec<u8>,
        window: Option<Window>,
    },
    /// Changes when a service key works (reviving one issues it anew).
    SetKeyWindow {
        key: u8,
        window: Window,
    },
    /// Sets (`Some`, `n % 60 + 1` days) or removes the account's longest key lifetime.
    SetKeyLifetime {
        days: Option<u8>,
    },
    ChangeKeyRoles {
        key: u8,
        edit: RoleEdit,
        roles: Vec<u8>,
    },
    RenameKey {
        key: u8,
    },
    DeleteKey {
        key: u8,
    },
    CreateResourceGroup {
        objects: Option<Vec<u8>>,
    },
    UpdateResourceGroup {
        rg: u8,
        objects: Option<Vec<u8>>,
    },
    CreateUserGroup {
        policies: Vec<PolicySpec>,
    },
    ReplaceUserGroup {
        ug: u8,
        policies: Vec<PolicySpec>,
    },
    DeleteUserGroup {
        ug: u8,
    },
    SetMembers {
        ug: u8,
        members: Vec<u8>,
        replace: bool,
    },
    RemoveMember {
        ug: u8,
        member: u8,
    },
    SetChildActive {
        active: bool,
    },
    /// A new account under the account acted in (not followed further by the hunt).
    CreateChildAccount,
    /// Clears a user's sign-in lockout.
    ClearLockout {
        target: u8,
    },
    /// Adds network number `net` (of `apply::NETWORKS`) to the account's authorized IPs.
    AddAuthorizedIp {
        net: u8,
        allowed: bool,
        force: bool,
    },
    /// Removes network number `net` (every entry when `None`) from the account's authorized
    /// IPs, allow or deny entries only when `allowed` says so.
    DeleteAuthorizedIps {
        net: Option<u8>,
        allowed: Option<bool>,
        force: bool,
    },
    /// Sets the `allowed_ips` of a user's access key (`access`) or of a service key.
    SetKeyAllowedIps {
        key: u8,
        access: bool,
        nets: Vec<u8>,
    },
    /// Creates an SSO connector whose identity provider creates first-time users with role
    /// number `role` (just in time), or with none.
    SetSsoIdp {
        role: Option<u8>,
    },
    /// Ends sessions of user `target` through the administrator's routes: all of them, or
    /// session number `which` among every session the hunt can see (mostly the target's own,
    /// sometimes another user's: ids an attacker sends).
    EndUserSessions {
        target: u8,
        all: bool,
        which: u8,
    },
    /// Ends the caller's own sessions: all of them, or session number `which` (picked like
    /// `EndUserSessions` picks, among the caller's user's sessions and everyone's).
    EndOwnSessions {
        all: bool,
        which: u8,
    },
    /// Revokes (RFC 7009) an OAuth access token the world mints for the access key of user
    /// `target` (mostly of the account acted in).
    RevokeToken {
        target: u8,
    },
    /// The caller enrols a second factor of its own (starts and confirms a TOTP enrolment).
    EnrolMfa,
    /// An administrator's reset of a user's second factor.
    ResetMfa {
        target: u8,
    },
    /// Sets whether the account requires a second factor of its password users.
    SetRequireMfa {
        on: bool,
    },
    /// Creates an OAuth client with these scopes (`email`, permissions of the pool, `openid`
    /// when `openid`), public (no secret) or confidential.
    CreateOAuthClient {
        scopes: Vec<u8>,
        openid: bool,
        public: bool,
    },
    /// Changes OAuth client number `client`: its scopes when given, else its redirect URIs.
    UpdateOAuthClient {
        client: u8,
        scopes: Option<Vec<u8>>,
    },
    /// Rotates the secret of OAuth client number `client`, or (`drop`) drops its previous one.
    RotateOAuthSecret {
        client: u8,
        drop: bool,
    },
    /// Deletes OAuth client number `client`.
    DeleteOAuthClient {
        client: u8,
    },
    /// The caller consents to OAuth client number `client` for all its scopes (and exchanges
    /// the code when the client is public).
    ConsentOAuth {
        client: u8,
    },
}

/// One step: a caller does something, in its own account or (`elsewhere`) in the other one.
#[derive(Debug, Clone)]
pub struct Step {
    pub caller: Caller,
    pub elsewhere: bool,
    pub action: Action,
}

/// The initial world: roles of four users of the root account and two of its child, and a
/// few user groups of the root account (policies on its whole-account resource group, and
/// members), all made by the owners.
#[derive(Debug, Clone)]
pub struct Start {
    pub root_users: Vec<Vec<u8>>,
    pub child_users: Vec<Vec<u8>>,
    pub groups: Vec<(Vec<PolicySpec>, Vec<u8>)>,
    /// Roles of a service key each initial user makes for itself (the roles it does not hold
    /// are dropped).
    pub keys: Vec<Vec<u8>>,
}

/// Role numbers, as `world::role_set` reads them (`n % 19 + 1` is the role id), weighted
/// towards the roles that manage others: Owner, Admin, Administrator, User Manager and its
/// children, the Turnkey Administrator, and a few that manage nobody.
fn role() -> impl Strategy<Value = u8> {
    prop_oneof![
        1 => Just(0u8),  // Owner
        2 => Just(1),    // Admin
        3 => Just(16),   // Administrator
        2 => Just(10),   // User Manager
        1 => Just(11),   // User Read
        2 => Just(12),   // User Update
        2 => Just(17),   // Turnkey Applications Administrator
        2 => Just(2),    // Developer
        2 => Just(3),    // Support
        2 => any::<u8>(),
    ]
}

fn roles() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(role(), 0..3)
}

fn idx() -> impl Strategy<Value = u8> {
    any::<u8>()
}

fn edit() -> impl Strategy<Value = RoleEdit> {
    prop_oneof![
        Just(RoleEdit::Add),
        Just(RoleEdit::Remove),
        Just(RoleEdit::Replace)
    ]
}

fn objects() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop::option::weighted(0.7, prop::collection::vec(idx(), 1..3))
}

fn policies() -> impl Strategy<Value = Vec<PolicySpec>> {
    prop::collection::vec(
        (any::<bool>(), prop::collection::vec(idx(), 1..3), idx())
            .prop_map(|(allow, perms, rg)| PolicySpec { allow, perms, rg }),
        1..3,
    )
}

fn window() -> impl Strategy<Value = Window> {
    prop_oneof![
        Just(Window::Open),
        Just(Window::Later),
        any::<u8>().prop_map(Window::Until),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        2 => roles().prop_map(|roles| Action::CreateUser { roles }),
        2 => (
            idx(),
            prop::option::weighted(0.3, any::<bool>()),
            prop::option::weighted(0.3, any::<bool>()),
            any::<bool>(),
            prop::option::weighted(0.3, roles()),
        )
            .prop_map(|(target, status, password, description, roles)| {
                Action::UpdateUser { target, status, password, description, roles }
            }),
        2 => (idx(), edit(), roles(), any::<bool>())
            .prop_map(|(target, edit, roles, force)| Action::ChangeRoles { target, edit, roles, force }),
        1 => idx().prop_map(|target| Action::DeleteUser { target }),
        2 => (idx(), prop::option::weighted(0.3, window()))
            .prop_map(|(target, window)| Action::CreateAccessKey { target, window }),
        1 => (idx(), any::<bool>()).prop_map(|(target, active)| Action::SetAccessKey { target, active }),
        1 => idx().prop_map(|target| Action::DeleteAccessKey { target }),
        1 => (idx(), window()).prop_map(|(target, window)| Action::SetAccessKeyWindow { target, window }),
        2 => (roles(), prop::option::weighted(0.3, window()))
            .prop_map(|(roles, window)| Action::CreateServiceKey { roles, window }),
        2 => (idx(), window()).prop_map(|(key, window)| Action::SetKeyWindow { key, window }),
        1 => prop::option::of(any::<u8>()).prop_map(|days| Action::SetKeyLifetime { days }),
        2 => (idx(), edit(), roles()).prop_map(|(key, edit, roles)| Action::ChangeKeyRoles { key, edit, roles }),
        1 => idx().prop_map(|key| Action::RenameKey { key }),
        1 => idx().prop_map(|key| Action::DeleteKey { key }),
        2 => objects().prop_map(|objects| Action::CreateResourceGroup { objects }),
        1 => (idx(), objects()).prop_map(|(rg, objects)| Action::UpdateResourceGroup { rg, objects }),
        3 => policies().prop_map(|policies| Action::CreateUserGroup { policies }),
        2 => (idx(), policies()).prop_map(|(ug, policies)| Action::ReplaceUserGroup { ug, policies }),
        1 => idx().prop_map(|ug| Action::DeleteUserGroup { ug }),
        3 => (idx(), prop::collection::vec(idx(), 1..3), any::<bool>())
            .prop_map(|(ug, members, replace)| Action::SetMembers { ug, members, replace }),
        2 => (idx(), idx()).prop_map(|(ug, member)| Action::RemoveMember { ug, member }),
        1 => any::<bool>().prop_map(|active| Action::SetChildActive { active }),
        1 => Just(Action::CreateChildAccount),
        1 => idx().prop_map(|target| Action::ClearLockout { target }),
        2 => (idx(), any::<bool>(), prop::bool::weighted(0.2))
            .prop_map(|(net, allowed, force)| Action::AddAuthorizedIp { net, allowed, force }),
        1 => (prop::option::weighted(0.8, idx()), prop::option::of(any::<bool>()), prop::bool::weighted(0.2))
            .prop_map(|(net, allowed, force)| Action::DeleteAuthorizedIps { net, allowed, force }),
        1 => (idx(), any::<bool>(), prop::collection::vec(idx(), 0..3))
            .prop_map(|(key, access, nets)| Action::SetKeyAllowedIps { key, access, nets }),
        1 => prop::option::weighted(0.8, role()).prop_map(|role| Action::SetSsoIdp { role }),
        2 => (idx(), prop::bool::weighted(0.3), idx())
            .prop_map(|(target, all, which)| Action::EndUserSessions { target, all, which }),
        2 => (prop::bool::weighted(0.3), idx())
            .prop_map(|(all, which)| Action::EndOwnSessions { all, which }),
        2 => idx().prop_map(|target| Action::RevokeToken { target }),
        2 => Just(Action::EnrolMfa),
        2 => idx().prop_map(|target| Action::ResetMfa { target }),
        1 => any::<bool>().prop_map(|on| Action::SetRequireMfa { on }),
        3 => (prop::collection::vec(idx(), 0..3), any::<bool>(), prop::bool::weighted(0.3))
            .prop_map(|(scopes, openid, public)| Action::CreateOAuthClient { scopes, openid, public }),
        2 => (idx(), prop::option::weighted(0.6, prop::collection::vec(idx(), 0..3)))
            .prop_map(|(client, scopes)| Action::UpdateOAuthClient { client, scopes }),
        1 => (idx(), prop::bool::weighted(0.3))
            .prop_map(|(client, drop)| Action::RotateOAuthSecret { client, drop }),
        1 => idx().prop_map(|client| Action::DeleteOAuthClient { client }),
        3 => idx().prop_map(|client| Action::ConsentOAuth { client }),
    ]
}

fn caller() -> impl Strategy<Value = Caller> {
    (
        idx(),
        prop_oneof![
            3 => Just(Cred::Session),
            2 => Just(Cred::AccessKey),
            2 => idx().prop_map(Cred::ServiceKey),
            2 => any::<u8>().prop_map(Cred::Token),
        ],
    )
        .prop_map(|(user, cred)| Caller { user, cred })
}

/// The reference machine: the steps do not depend on the state (the world resolves indices
/// against what exists), so the state is only the start.
pub struct Hunt;

impl ReferenceStateMachine for Hunt {
    type State = Start;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Start> {
        (
            prop::collection::vec(roles(), 4),
            prop::collection::vec(roles(), 2),
            prop::collection::vec((policies(), prop::collection::vec(idx(), 0..3)), 0..3),
            prop::collection::vec(roles(), 6),
        )
            .prop_map(|(root_users, child_users, groups, keys)| Start {
                root_users,
                child_users,
                groups,
                keys,
            })
            .boxed()
    }

    fn transitions(_: &Start) -> BoxedStrategy<Step> {
        (caller(), prop::bool::weighted(0.15), action())
            .prop_map(|(caller, elsewhere, action)| Step {
                caller,
                elsewhere,
                action,
            })
            .boxed()
    }

    fn apply(state: Start, _: &Step) -> Start {
        state
    }
}
