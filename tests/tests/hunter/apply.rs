//! Running a step: the action's use case, called as the authenticated caller, with the numbers
//! of the step resolved against what the world holds. The world's registry follows what
//! succeeded.

use tessera_app::{
    AddAuthorizedIp, AppError, CreateServiceKey, CreateSubuser, DeleteAuthorizedIps, IpTarget,
    PolicyInput, Principal, ResourceGroupInput, UpdateAccount, UpdateSubuser,
};
use tessera_domain::Secret;
use tessera_domain::authorized_ips::Network;
use tessera_domain::groups::MemberStatus;
use tessera_domain::ids::{AccountId, SessionId};
use tessera_domain::keys::{KeyStatus, KeyValidity, ValidityChange};
use tessera_domain::permissions::{Capability, Level, Permission, groups as catalog};
use tessera_domain::policy::{Effect, ResourceKey, ResourceType, Scope};
use tessera_domain::ports::{AccessKeyChanges, OAuthTokenRepo, RoleChange, ServiceKeyChanges};

use crate::mfa::Authenticator;
use crate::model::{Action, PolicySpec, RoleEdit, Window};
use crate::world::{KeyRec, UserRec, World, meta, role_set};

/// The permissions policies are drawn from: those the use cases themselves check, and a few
/// the roles grant unevenly.
pub const POOL: [(Capability, Level); 12] = [
    (Capability::UserManagement, Level::Read),
    (Capability::UserManagement, Level::Write),
    (Capability::ApiCredentials, Level::Read),
    (Capability::ApiCredentials, Level::Write),
    (Capability::RoleAccess, Level::Write),
    (Capability::AccountSettings, Level::Write),
    (Capability::AuditApi, Level::Read),
    (Capability::EnterpriseAccounts, Level::Read),
    (Capability::EnterpriseAccounts, Level::Write),
    (Capability::CallLogs, Level::Read),
    (Capability::Recordings, Level::Write),
    (Capability::TrProvisioning, Level::Write),
];

/// The networks the authorized-IP actions pick from; every hunt call comes from
/// `world::CLIENT_IP` (192.0.2.1), inside the first two and outside the others.
pub const NETWORKS: [&str; 5] = [
    "192.0.2.0/24",
    "192.0.2.1",
    "198.51.100.0/24",
    "2001:db8::/32",
    "0.0.0.0/0",
];

fn network(n: u8) -> Network {
    Network::parse("net", NETWORKS[usize::from(n) % NETWORKS.len()]).expect("a network")
}

/// A credential a step handed out, or a credential of someone else it changed: the invariants
/// check who may do that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handed {
    /// Nothing of the kind.
    Nothing,
    /// A new access key of user number `n` (its token went to the caller).
    AccessKeyOf(usize),
    /// The password of user number `n` was set; `with_old` when the old one was given.
    PasswordOf { user: usize, with_old: bool },
    /// A child account of this account was made (its owner's credentials went to the caller).
    ChildOf(AccountId),
    /// The sign-in lockout of user number `n` was cleared (its password may be guessed again).
    Unlocked(usize),
    /// An SSO connector of the account now signs its domain's users in through an IdP the
    /// caller chose, creating first-time users with this role (if any).
    IdpSet(AccountId, Option<tessera_domain::roles::RoleId>),
    /// The second factor of user number `n` was reset (its password alone signs in again).
    MfaReset(usize),
    /// An OAuth client of the account with these scopes was made, changed, or had its secret
    /// rotated (the caller vouches for it, or holds its new secret).
    OAuthClient(AccountId, tessera_domain::oauth::ScopeSet),
    /// A user consented to an OAuth client in this account: the grant (or the access token it
    /// gave) holds these scopes.
    OAuthGrant(AccountId, tessera_domain::oauth::ScopeSet),
}

/// What the registry learns from a step that succeeded.
enum Change {
    User(UserRec),
    Password(usize, String),
    AccessKey(usize, tessera_domain::ids::AccessKeyId, String),
    Key(KeyRec),
    ResourceGroup(AccountId, tessera_domain::ids::ResourceGroupId),
    UserGroup(AccountId, tessera_domain::ids::UserGroupId),
    /// User number `n` enrolled this authenticator.
    Enrolled(usize, Authenticator),
    /// User number `n`'s second factor was reset.
    MfaReset(usize),
    OAuthClient(AccountId, tessera_domain::ids::OAuthClientId),
}

/// What a step did.
pub struct Ran {
    pub result: Result<(), AppError>,
    pub handed: Handed,
}

fn pick<T>(list: &[T], n: u8) -> Option<(usize, &T)> {
    (!list.is_empty()).then(|| {
        let i = usize::from(n) % list.len();
        (i, &list[i])
    })
}

fn edit(edit: RoleEdit, roles: &[u8], force: bool) -> RoleChange {
    let roles = role_set(roles);
    match edit {
        RoleEdit::Add => RoleChange::Add(roles),
        RoleEdit::Remove => RoleChange::Remove {
            roles,
            from_keys: force,
        },
        RoleEdit::Replace => RoleChange::Replace(roles),
    }
}

/// The change a window makes, from now.
fn window_change(window: Window, now: chrono::DateTime<chrono::Utc>) -> ValidityChange {
    match window {
        Window::Open => ValidityChange {
            not_before: Some(None),
            expires_at: Some(None),
        },
        Window::Later => ValidityChange {
            not_before: Some(Some(now + chrono::TimeDelta::days(1))),
            expires_at: None,
        },
        Window::Until(n) => ValidityChange {
            not_before: None,
            expires_at: Some(Some(now + chrono::TimeDelta::days(i64::from(n % 60) + 1))),
        },
    }
}

/// The validity a new key asks for (none: the account's default).
fn window_validity(window: Option<Window>, now: chrono::DateTime<chrono::Utc>) -> KeyValidity {
    window.map_or_else(KeyValidity::default, |w| {
        window_change(w, now).apply(KeyValidity::default())
    })
}

fn permission(n: u8) -> Permission {
    let (capability, level) = POOL[usize::from(n) % POOL.len()];
    Permission::new(capability, level)
}

/// A client's settings whose scopes are `email`, permissions of the pool (and `openid`).
fn oauth_input(scopes: &[u8], openid: bool, public: bool) -> tessera_domain::oauth::ClientInput {
    let mut names: Vec<String> = scopes
        .iter()
        .map(|n| tessera_domain::oauth::Scope::Permission(permission(*n)).to_string())
        .chain(std::iter::once("email".to_owned()))
        .collect();
    let mut response_types = vec!["code".to_owned()];
    if openid {
        names.push("openid".into());
        response_types.push("id_token".into());
    }
    tessera_domain::oauth::ClientInput {
        client_name: "hunted".into(),
        grant_types: vec!["authorization_code".into()],
        response_types,
        redirect_uris: vec!["https://hunt.example/cb".into()],
        scopes: names,
        token_endpoint_auth_method: if public {
            "none"
        } else {
            "client_secret_basic"
        }
        .into(),
        ..Default::default()
    }
}

impl World {
    /// A session id for a step about user number `user`: mostly one of that user's live
    /// sessions, one in eight times anyone's (another user's, or of another account), and an
    /// id no session has when there is none to pick.
    pub fn pick_session(&self, user: usize, n: u8) -> SessionId {
        let sessions = self.sessions();
        let mine: Vec<SessionId> = sessions
            .get(&user)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        let everyone: Vec<SessionId> = sessions.values().flatten().copied().collect();
        let list = if n >= 224 || mine.is_empty() {
            everyone
        } else {
            mine
        };
        pick(&list, n).map_or(SessionId(tessera_domain::ids::Hex32([n; 16])), |(_, id)| {
            *id
        })
    }

    pub fn policies(&self, specs: &[PolicySpec]) -> Vec<PolicyInput> {
        specs
            .iter()
            .map(|s| PolicyInput {
                id: None,
                access: if s.allow { Effect::Allow } else { Effect::Deny },
                permission_groups: s
                    .perms
                    .iter()
                    .map(|n| {
                        catalog::catalog()
                            .iter()
                            .find(|g| g.permission == permission(*n))
                            .expect("every permission has a group")
                            .id
                    })
                    .collect(),
                resource_groups: pick(&self.resource_groups, s.rg)
                    .map(|(_, (_, id))| *id)
                    .into_iter()
                    .collect(),
            })
            .collect()
    }

    fn scope(&self, account: AccountId, objects: Option<&[u8]>) -> ResourceGroupInput {
        let keys = match objects {
            None => vec!["*".to_owned()],
            Some(list) => list
                .iter()
                .map(|n| {
                    let u = &self.users[usize::from(*n) % self.users.len()];
                    ResourceKey::new(ResourceType::User, u.id).to_string()
                })
                .collect(),
        };
        self.counter_name("rg", account, keys)
    }

    fn counter_name(
        &self,
        prefix: &str,
        account: AccountId,
        keys: Vec<String>,
    ) -> ResourceGroupInput {
        ResourceGroupInput {
            name: format!("{prefix}{}", self.counter),
            meta: None,
            scope: vec![(Scope::account_key(account), keys)],
        }
    }

    /// Runs `action` as `p` in `account`.
    pub fn run(&mut self, p: &Principal, account: AccountId, action: &Action) -> Ran {
        self.counter += 1;
        let now = self.now();
        let m = meta();
        let app = &self.app;
        let mut handed = Handed::Nothing;
        let mut change = None;
        // Most numbers pick a user of the account acted in; one in eight picks among every
        // user the hunt knows (another account's, or a deleted one): ids an attacker sends.
        let user_of = |n: u8| {
            let local: Vec<usize> = (0..self.users.len())
                .filter(|i| self.users[*i].account == account)
                .collect();
            let i = if n >= 224 || local.is_empty() {
                usize::from(n) % self.users.len()
            } else {
                local[usize::from(n) % local.len()]
            };
            (i, self.users[i].clone())
        };
        let result: Result<(), AppError> = match action {
            Action::CreateUser { roles } => {
                let login = format!("user{:04}", self.counter);
                let created = app.create_subuser(
                    p,
                    &m,
                    account,
                    CreateSubuser {
                        login: login.clone(),
                        password: Some(Secret::new(tessera_tests::PASSWORD)),
                        email: None,
                        phone_number: None,
                        description: None,
                        status: None,
                        roles: role_set(roles),
                    },
                );
                created.map(|u| {
                    change = Some(Change::User(UserRec {
                        account,
                        id: u.id,
                        login,
                        password: tessera_tests::PASSWORD.into(),
                        access_key: None,
                    }));
                })
            }
            Action::UpdateUser {
                target,
                status,
                password,
                description,
                roles,
            } => {
                let (i, t) = user_of(*target);
                let new_password = format!("N3w-Pass-{}!", self.counter);
                let cmd = UpdateSubuser {
                    description: description.then(|| Some(format!("d{}", self.counter))),
                    status: status.map(|active| {
                        if active {
                            tessera_domain::user::UserStatus::Active
                        } else {
                            tessera_domain::user::UserStatus::Inactive
                        }
                    }),
                    new_password: password.map(|_| Secret::new(new_password.clone())),
                    old_password: password
                        .filter(|with_old| *with_old)
                        .map(|_| Secret::new(t.password.clone())),
                    roles: roles.as_deref().map(role_set),
                    ..UpdateSubuser::default()
                };
                let result = app.update_subuser(p, &m, account, t.id, cmd).map(|_| ());
                if let (Ok(()), Some(with_old)) = (&result, password) {
                    change = Some(Change::Password(i, new_password));
                    handed = Handed::PasswordOf {
                        user: i,
                        with_old: *with_old,
                    };
                }
                result
            }
            Action::ChangeRoles {
                target,
                edit: e,
                roles,
                force,
            } => {
                let (_, t) = user_of(*target);
                app.change_subuser_roles(p, &m, account, t.id, edit(*e, roles, *force))
                    .map(|_| ())
            }
            Action::DeleteUser { target } => {
                let (_, t) = user_of(*target);
                app.delete_subuser(p, &m, account, t.id)
            }
            Action::CreateAccessKey { target, window } => {
                let (i, t) = user_of(*target);
                let made = app.create_access_key(
                    p,
                    &m,
                    account,
                    t.id,
                    None,
                    window_validity(*window, now),
                );
                made.map(|k| {
                    handed = Handed::AccessKeyOf(i);
                    change = Some(Change::AccessKey(i, k.key.id, k.token.expose().to_owned()));
                })
            }
            Action::SetAccessKey { target, active } => {
                let (_, t) = user_of(*target);
                match &t.access_key {
                    Some((id, _)) => app
                        .update_access_key(
                            p,
                            &m,
                            account,
                            t.id,
                            id,
                            AccessKeyChanges {
                                status: Some(if *active {
                                    KeyStatus::Active
                                } else {
                                    KeyStatus::Inactive
                                }),
                                ..AccessKeyChanges::default()
                            },
                        )
                        .map(|_| ()),
                    None => Ok(()),
                }
            }
            Action::DeleteAccessKey { target } => {
                let (_, t) = user_of(*target);
                match &t.access_key {
                    Some((id, _)) => app.delete_access_key(p, &m, account, t.id, id),
                    None => Ok(()),
                }
            }
            Action::SetAccessKeyWindow { target, window } => {
                let (_, t) = user_of(*target);
                match &t.access_key {
                    Some((id, _)) => app
                        .update_access_key(
                            p,
                            &m,
                            account,
                            t.id,
                            id,
                            AccessKeyChanges {
                                validity: window_change(*window, now),
                                ..AccessKeyChanges::default()
                            },
                        )
                        .map(|_| ()),
                    None => Ok(()),
                }
            }
            Action::CreateServiceKey { roles, window } => {
                let made = app.create_service_key(
                    p,
                    &m,
                    account,
                    CreateServiceKey {
                        name: Some(format!("k{}", self.counter)),
                        description: None,
                        roles: role_set(roles),
                        validity: window_validity(*window, now),
                    },
                );
                made.map(|k| {
                    change = Some(Change::Key(KeyRec {
                        account: k.key.account_id,
                        id: k.key.id,
                    }));
                })
            }
            Action::ChangeKeyRoles {
                key,
                edit: e,
                roles,
            } => match pick(&self.keys, *key) {
                Some((_, k)) => app
                    .change_service_key_roles(p, &m, account, k.id, edit(*e, roles, false))
                    .map(|_| ()),
                None => Ok(()),
            },
            Action::RenameKey { key } => match pick(&self.keys, *key) {
                Some((_, k)) => app
                    .update_service_key(
                        p,
                        &m,
                        account,
                        k.id,
                        ServiceKeyChanges {
                            name: Some(format!("renamed{}", self.counter)),
                            ..ServiceKeyChanges::default()
                        },
                    )
                    .map(|_| ()),
                None => Ok(()),
            },
            Action::SetKeyWindow { key, window } => match pick(&self.keys, *key) {
                Some((_, k)) => app
                    .update_service_key(
                        p,
                        &m,
                        account,
                        k.id,
                        ServiceKeyChanges {
                            validity: window_change(*window, now),
                            ..ServiceKeyChanges::default()
                        },
                    )
                    .map(|_| ()),
                None => Ok(()),
            },
            Action::SetKeyLifetime { days } => app
                .update_account(
                    p,
                    &m,
                    account,
                    UpdateAccount {
                        max_key_lifetime_days: Some(days.map(|d| u32::from(d % 60) + 1)),
                        ..UpdateAccount::default()
                    },
                )
                .map(|_| ()),
            Action::DeleteKey { key } => match pick(&self.keys, *key) {
                Some((_, k)) => app.delete_service_key(p, &m, account, k.id),
                None => Ok(()),
            },
            Action::CreateResourceGroup { objects } => {
                let input = self.scope(account, objects.as_deref());
                app.create_resource_group(p, &m, account, input).map(|g| {
                    change = Some(Change::ResourceGroup(account, g.id));
                })
            }
            Action::UpdateResourceGroup { rg, objects } => match pick(&self.resource_groups, *rg) {
                Some((_, (_, id))) => {
                    let input = self.scope(account, objects.as_deref());
                    app.update_resource_group(p, &m, account, *id, input)
                        .map(|_| ())
                }
                None => Ok(()),
            },
            Action::CreateUserGroup { policies } => {
                let policies = self.policies(policies);
                app.create_user_group(p, &m, account, format!("ug{}", self.counter), policies)
                    .map(|g| {
                        change = Some(Change::UserGroup(account, g.id));
                    })
            }
            Action::ReplaceUserGroup { ug, policies } => match pick(&self.user_groups, *ug) {
                Some((_, (_, id))) => {
                    let policies = self.policies(policies);
                    app.replace_user_group(p, &m, account, *id, None, Some(policies))
                        .map(|_| ())
                }
                None => Ok(()),
            },
            Action::DeleteUserGroup { ug } => match pick(&self.user_groups, *ug) {
                Some((_, (_, id))) => app.delete_user_group(p, &m, account, *id),
                None => Ok(()),
            },
            Action::SetMembers {
                ug,
                members,
                replace,
            } => match pick(&self.user_groups, *ug) {
                Some((_, (_, id))) => {
                    let members = members
                        .iter()
                        .map(|n| (user_of(*n).1.id, MemberStatus::Accepted))
                        .collect();
                    app.set_members(p, &m, account, *id, members, *replace)
                        .map(|_| ())
                }
                None => Ok(()),
            },
            Action::RemoveMember { ug, member } => match pick(&self.user_groups, *ug) {
                Some((_, (group_account, id))) => {
                    // Mostly one of the group's members (read from storage), else anyone.
                    let members = self
                        .app
                        .list_members(&self.owner_of(*group_account), *group_account, *id)
                        .unwrap_or_default();
                    let user = match pick(&members, *member) {
                        Some((_, m)) if *member < 224 => m.user_id,
                        _ => user_of(*member).1.id,
                    };
                    app.remove_member(p, &m, account, *id, user).map(|_| ())
                }
                None => Ok(()),
            },
            Action::CreateChildAccount => app
                .create_child_account(
                    p,
                    &m,
                    tessera_app::CreateChildAccount {
                        name: format!("Sub {}", self.counter),
                        email: "sub@hunt.test".into(),
                        owner_login: None,
                        owner_email: None,
                        parent_id: Some(account),
                    },
                )
                .map(|_| {
                    handed = Handed::ChildOf(account);
                }),
            Action::SetSsoIdp { role } => {
                let jit_role = role.map(|r| role_set(&[r])[0]);
                app.create_sso(
                    p,
                    &m,
                    account,
                    tessera_app::CreateSso {
                        email_domain: format!("d{}.example", self.counter),
                        idp: Some(tessera_app::IdpUpdate {
                            input: tessera_domain::sso::IdpInput {
                                kind: "oidc".into(),
                                issuer: "https://idp.example.com".into(),
                                client_id: "tessera".into(),
                                jit_role,
                                ..Default::default()
                            },
                            client_secret: Some(Secret::new("client-secret")),
                        }),
                        ..Default::default()
                    },
                )
                .map(|_| {
                    handed = Handed::IdpSet(account, jit_role);
                })
            }
            Action::ClearLockout { target } => {
                let (i, t) = user_of(*target);
                app.clear_lockout(p, &m, account, t.id).map(|_| {
                    handed = Handed::Unlocked(i);
                })
            }
            Action::AddAuthorizedIp {
                net,
                allowed,
                force,
            } => app
                .add_authorized_ip(
                    p,
                    &m,
                    account,
                    AddAuthorizedIp {
                        network: network(*net),
                        allowed: *allowed,
                        description: Some(format!("hunt {}", self.counter)),
                        force: *force,
                    },
                )
                .map(|_| ()),
            Action::DeleteAuthorizedIps {
                net,
                allowed,
                force,
            } => app
                .delete_authorized_ips(
                    p,
                    &m,
                    account,
                    DeleteAuthorizedIps {
                        target: net.map_or(IpTarget::All, |n| IpTarget::Network(network(n))),
                        allowed: *allowed,
                        force: *force,
                    },
                )
                .map(|_| ()),
            Action::SetKeyAllowedIps { key, access, nets } => {
                let allowed_ips: Vec<Network> = {
                    let mut list: Vec<Network> = nets.iter().map(|n| network(*n)).collect();
                    list.sort_unstable();
                    list.dedup();
                    list
                };
                if *access {
                    let (_, t) = user_of(*key);
                    match &t.access_key {
                        Some((id, _)) => app
                            .update_access_key(
                                p,
                                &m,
                                account,
                                t.id,
                                id,
                                AccessKeyChanges {
                                    allowed_ips: Some(allowed_ips),
                                    ..AccessKeyChanges::default()
                                },
                            )
                            .map(|_| ()),
                        None => Ok(()),
                    }
                } else {
                    match pick(&self.keys, *key) {
                        Some((_, k)) => app
                            .update_service_key(
                                p,
                                &m,
                                account,
                                k.id,
                                ServiceKeyChanges {
                                    allowed_ips: Some(allowed_ips),
                                    ..ServiceKeyChanges::default()
                                },
                            )
                            .map(|_| ()),
                        None => Ok(()),
                    }
                }
            }
            Action::EndUserSessions { target, all, which } => {
                let (i, t) = user_of(*target);
                if *all {
                    app.end_user_sessions(p, &m, account, t.id).map(|_| ())
                } else {
                    let id = self.pick_session(i, *which);
                    app.end_user_session(p, &m, account, t.id, id).map(|_| ())
                }
            }
            Action::EndOwnSessions { all, which } => {
                if *all {
                    app.end_own_sessions(p, &m).map(|_| ())
                } else {
                    let own = self
                        .users
                        .iter()
                        .position(|u| Some(u.id) == p.user_id && u.account == p.account_id);
                    let id = own.map_or_else(
                        || self.pick_session(usize::from(*which), *which),
                        |i| self.pick_session(i, *which),
                    );
                    app.end_own_session(p, &m, id).map(|_| ())
                }
            }
            Action::RevokeToken { target } => {
                let (_, t) = user_of(*target);
                match self.mint_token(&t) {
                    Some((jti, token)) => {
                        let done = app.revoke_access_token(p, &token, &m);
                        let revoked = self.store.is_token_revoked(&jti).expect("read");
                        self.check_token_revocation(p, &t, revoked);
                        self.stats.revocations += usize::from(revoked);
                        done
                    }
                    None => Ok(()),
                }
            }
            Action::EnrolMfa => match app.begin_totp_enrolment(p, &m) {
                Ok(shown) => {
                    let mut auth = Authenticator::scan(shown.secret.expose());
                    let code = Secret::new(auth.code(&self.clock));
                    let me = self.index_of(p).expect("a session is some user's");
                    app.confirm_totp_enrolment(p, &m, &code).map(|_| {
                        change = Some(Change::Enrolled(me, auth));
                    })
                }
                Err(e) => Err(e),
            },
            Action::ResetMfa { target } => {
                // Mostly a user of the account with a second factor, else anyone.
                let enrolled: Vec<usize> = self
                    .authenticators
                    .keys()
                    .copied()
                    .filter(|i| self.users[*i].account == account)
                    .collect();
                let (i, t) = match pick(&enrolled, *target) {
                    Some((_, i)) if *target < 192 => (*i, self.users[*i].clone()),
                    _ => user_of(*target),
                };
                app.reset_mfa(p, &m, account, t.id).map(|()| {
                    handed = Handed::MfaReset(i);
                    change = Some(Change::MfaReset(i));
                })
            }
            Action::SetRequireMfa { on } => app
                .update_account(
                    p,
                    &m,
                    account,
                    UpdateAccount {
                        require_mfa: Some(*on),
                        ..UpdateAccount::default()
                    },
                )
                .map(|_| ()),
            Action::CreateOAuthClient {
                scopes,
                openid,
                public,
            } => app
                .create_oauth_client(p, &m, account, oauth_input(scopes, *openid, *public))
                .map(|made| {
                    handed = Handed::OAuthClient(account, made.client.settings.scope_set());
                    change = Some(Change::OAuthClient(account, made.client.id));
                }),
            Action::UpdateOAuthClient { client, scopes } => {
                let id = pick(&self.oauth_clients, *client).map_or(
                    tessera_domain::ids::OAuthClientId(tessera_domain::ids::Hex32([*client; 16])),
                    |(_, (_, id))| *id,
                );
                let update = match scopes {
                    Some(scopes) => tessera_app::OAuthClientUpdate {
                        scopes: Some(oauth_input(scopes, false, false).scopes),
                        ..Default::default()
                    },
                    None => tessera_app::OAuthClientUpdate {
                        redirect_uris: Some(vec![format!("https://c{}.example/cb", self.counter)]),
                        ..Default::default()
                    },
                };
                app.update_oauth_client(p, &m, account, id, update)
                    .map(|c| handed = Handed::OAuthClient(account, c.settings.scope_set()))
            }
            Action::RotateOAuthSecret { client, drop } => {
                let id = pick(&self.oauth_clients, *client).map_or(
                    tessera_domain::ids::OAuthClientId(tessera_domain::ids::Hex32([*client; 16])),
                    |(_, (_, id))| *id,
                );
                if *drop {
                    app.delete_rotated_oauth_client_secret(p, &m, account, id)
                        .map(|_| ())
                } else {
                    app.rotate_oauth_client_secret(p, &m, account, id).map(|_| {
                        let c = tessera_domain::ports::OAuthClientRepo::get_oauth_client(
                            &self.store,
                            account,
                            id,
                        )
                        .expect("the rotated client");
                        handed = Handed::OAuthClient(account, c.settings.scope_set());
                    })
                }
            }
            Action::ConsentOAuth { client } => {
                let id = pick(&self.oauth_clients, *client).map_or(
                    tessera_domain::ids::OAuthClientId(tessera_domain::ids::Hex32([*client; 16])),
                    |(_, (_, id))| *id,
                );
                crate::oauth_flow::consent_and_exchange(app, p, self.last_session.as_ref(), id, &m)
                    .map(|scopes| {
                        handed = Handed::OAuthGrant(p.account_id, scopes);
                        self.stats.oauth_grants += 1;
                    })
            }
            Action::DeleteOAuthClient { client } => {
                let id = pick(&self.oauth_clients, *client).map_or(
                    tessera_domain::ids::OAuthClientId(tessera_domain::ids::Hex32([*client; 16])),
                    |(_, (_, id))| *id,
                );
                app.delete_oauth_client(p, &m, account, id)
            }
            Action::SetChildActive { active } => app
                .update_account(
                    p,
                    &m,
                    self.child,
                    UpdateAccount {
                        active: Some(*active),
                        ..UpdateAccount::default()
                    },
                )
                .map(|_| ()),
        };
        if matches!(handed, Handed::OAuthClient(..)) {
            self.stats.oauth_clients += 1;
        }
        match change {
            Some(Change::User(rec)) => self.users.push(rec),
            Some(Change::Password(i, password)) => self.users[i].password = password,
            Some(Change::AccessKey(i, id, token)) => self.users[i].access_key = Some((id, token)),
            Some(Change::Key(rec)) => self.keys.push(rec),
            Some(Change::ResourceGroup(a, id)) => self.resource_groups.push((a, id)),
            Some(Change::UserGroup(a, id)) => self.user_groups.push((a, id)),
            Some(Change::Enrolled(i, auth)) => {
                self.authenticators.insert(i, auth);
            }
            Some(Change::MfaReset(i)) => {
                self.authenticators.remove(&i);
                self.stats.resets += 1;
            }
            Some(Change::OAuthClient(a, id)) => self.oauth_clients.push((a, id)),
            None => {}
        }
        Ran { result, handed }
    }
}
