use proptest::prelude::*;

use super::*;
use crate::ids::Hex32;
use crate::policy::resource::ResourceType;
use crate::roles::{ROLES, ids};

const ACME: AccountId = AccountId(1);
const OTHER: AccountId = AccountId(2);

fn pid(n: u8) -> PolicyId {
    PolicyId(Hex32([n; 16]))
}

fn gid(n: u8) -> UserGroupId {
    UserGroupId(Hex32([n; 16]))
}

fn user(n: u32) -> ResourceKey {
    ResourceKey::new(ResourceType::User, n)
}

fn everything(account: AccountId) -> Scope {
    Scope {
        account,
        objects: ScopeObjects::Everything,
    }
}

fn only(account: AccountId, keys: &[ResourceKey]) -> Scope {
    Scope {
        account,
        objects: ScopeObjects::Only(keys.to_vec()),
    }
}

fn rule(n: u8, effect: Effect, permissions: &[Permission], scopes: Vec<Scope>) -> PolicyRule {
    PolicyRule {
        id: pid(n),
        user_group: gid(n.wrapping_add(100)),
        effect,
        permissions: permissions.to_vec(),
        scopes,
    }
}

fn subject(roles: &[RoleId], rules: &[PolicyRule]) -> Subject {
    Subject {
        account: ACME,
        roles: roles.to_vec(),
        policies: PolicyIndex::compile(ACME, rules),
        key_roles: None,
        scope: None,
    }
}

fn ask(s: &Subject, p: Permission, resource: Option<&ResourceKey>) -> Decision {
    decide(
        s,
        &Request {
            account: ACME,
            permission: p,
            resource,
            ancestors: &[],
        },
    )
}

const UM_READ: Permission = Permission::read(Capability::UserManagement);
const UM_WRITE: Permission = Permission::write(Capability::UserManagement);

#[test]
fn roles_grant_account_wide_and_name_themselves() {
    let s = subject(&[ids::ADMINISTRATOR], &[]);
    let d = ask(&s, UM_WRITE, Some(&user(9)));
    assert!(d.allowed);
    assert_eq!(
        d.reasons,
        vec![Reason::Role {
            role_id: ids::ADMINISTRATOR,
            name: "Administrator",
            permission: UM_WRITE
        }]
    );
    assert!(ask(&s, UM_READ, None).allowed, "write implies read");
}

#[test]
fn a_developer_is_refused_user_management() {
    let s = subject(&[ids::DEVELOPER], &[]);
    let d = ask(&s, UM_READ, None);
    assert!(!d.allowed);
    assert_eq!(
        d.reasons,
        vec![Reason::NotGranted {
            permission: UM_READ
        }]
    );
    assert!(ask(&s, Permission::write(Capability::ApiCredentials), None).allowed);
}

#[test]
fn owners_hold_every_capability() {
    let s = subject(&[ids::OWNER], &[]);
    for c in Capability::ALL {
        assert!(ask(&s, Permission::write(*c), None).allowed, "{c}");
    }
}

#[test]
fn object_policies_grant_only_inside_their_scope() {
    let s = subject(
        &[],
        &[rule(
            1,
            Effect::Allow,
            &[UM_READ],
            vec![only(ACME, &[user(42)])],
        )],
    );
    let d = ask(&s, UM_READ, Some(&user(42)));
    assert!(d.allowed);
    assert!(matches!(
        d.reasons[0],
        Reason::Policy {
            effect: Effect::Allow,
            ..
        }
    ));
    assert!(!ask(&s, UM_READ, Some(&user(43))).allowed);
    assert!(
        !ask(&s, UM_READ, None).allowed,
        "a list needs an account-wide grant"
    );
    assert!(
        !ask(&s, UM_WRITE, Some(&user(42))).allowed,
        "read does not imply write"
    );
}

#[test]
fn account_wide_policies_grant_everywhere_in_the_account_and_write_implies_read() {
    let s = subject(
        &[],
        &[rule(1, Effect::Allow, &[UM_WRITE], vec![everything(ACME)])],
    );
    assert!(ask(&s, UM_WRITE, None).allowed);
    assert!(ask(&s, UM_READ, Some(&user(5))).allowed);
}

#[test]
fn a_deny_policy_beats_a_role_grant_and_is_named() {
    let s = subject(
        &[ids::OWNER],
        &[rule(7, Effect::Deny, &[UM_WRITE], vec![everything(ACME)])],
    );
    let d = ask(&s, UM_WRITE, Some(&user(3)));
    assert!(!d.allowed);
    assert_eq!(
        d.reasons,
        vec![Reason::Policy {
            policy: pid(7),
            user_group: gid(107),
            effect: Effect::Deny,
            permission: UM_WRITE
        }]
    );
    assert!(ask(&s, UM_READ, None).allowed, "denying write leaves read");
}

#[test]
fn denying_read_denies_write_too() {
    let s = subject(
        &[ids::OWNER],
        &[rule(
            1,
            Effect::Deny,
            &[UM_READ],
            vec![only(ACME, &[user(3)])],
        )],
    );
    assert!(!ask(&s, UM_WRITE, Some(&user(3))).allowed);
    assert!(!ask(&s, UM_READ, Some(&user(3))).allowed);
    assert!(
        ask(&s, UM_WRITE, Some(&user(4))).allowed,
        "other objects are untouched"
    );
}

#[test]
fn scopes_of_other_accounts_are_ignored() {
    let s = subject(
        &[],
        &[rule(1, Effect::Allow, &[UM_WRITE], vec![everything(OTHER)])],
    );
    assert!(!ask(&s, UM_WRITE, None).allowed);
}

#[test]
fn a_key_gets_the_intersection_of_its_roles_and_its_owners() {
    // A Developer's key carrying Admin cannot manage users: the owner cannot.
    let mut s = subject(&[ids::DEVELOPER], &[]);
    s.key_roles = Some(vec![ids::ADMIN]);
    assert!(!ask(&s, UM_READ, None).allowed);
    assert!(ask(&s, Permission::write(Capability::ApiCredentials), None).allowed);
    // An owner's key carrying Developer cannot either: the key cannot.
    let mut s = subject(&[ids::OWNER], &[]);
    s.key_roles = Some(vec![ids::DEVELOPER]);
    let d = ask(&s, UM_READ, None);
    assert_eq!(
        d.reasons,
        vec![Reason::KeyRolesMissing {
            permission: UM_READ
        }]
    );
    let d = ask(&s, Permission::write(Capability::Applications), None);
    assert!(d.allowed);
    assert_eq!(
        d.reasons.len(),
        2,
        "owner's grant and the key's: {:?}",
        d.reasons
    );
}

#[test]
fn a_key_without_roles_gets_nothing() {
    let mut s = subject(&[ids::OWNER], &[]);
    s.key_roles = Some(vec![]);
    for c in Capability::ALL {
        assert!(!ask(&s, Permission::read(*c), None).allowed);
    }
}

#[test]
fn another_account_is_invisible() {
    let s = subject(&[ids::OWNER], &[]);
    let d = decide(
        &s,
        &Request {
            account: OTHER,
            permission: UM_READ,
            resource: None,
            ancestors: &[],
        },
    );
    assert!(!d.allowed);
    assert!(d.is_invisible());
}

#[test]
fn enterprise_access_reaches_child_accounts_through_roles() {
    let child = AccountId(10);
    let ancestors = [ACME];
    let ask_child = |s: &Subject, p| {
        decide(
            s,
            &Request {
                account: child,
                permission: p,
                resource: None,
                ancestors: &ancestors,
            },
        )
    };
    let owner = subject(&[ids::OWNER], &[]);
    let d = ask_child(&owner, UM_WRITE);
    assert!(d.allowed);
    assert_eq!(d.reasons[0], Reason::EnterpriseAccess { account: child });
    // Admin lacks Manage Enterprise Accounts: the child stays invisible.
    assert!(ask_child(&subject(&[ids::ADMIN], &[]), UM_READ).is_invisible());
    // A policy granting enterprise access does reach the child, but only role grants apply there.
    let ent = Permission::write(Capability::EnterpriseAccounts);
    let via_policy = subject(
        &[ids::SUPPORT],
        &[rule(
            1,
            Effect::Allow,
            &[ent, UM_WRITE],
            vec![everything(ACME)],
        )],
    );
    assert!(!ask_child(&via_policy, UM_WRITE).allowed);
    assert!(ask_child(&via_policy, Permission::read(Capability::Usage)).allowed);
    // Denying enterprise write at home stops changes in the children; denying read hides them.
    let no_write = subject(
        &[ids::OWNER],
        &[rule(2, Effect::Deny, &[ent], vec![everything(ACME)])],
    );
    assert!(ask_child(&no_write, UM_WRITE).is_invisible());
    assert!(ask_child(&no_write, UM_READ).allowed);
    let ent_read = Permission::read(Capability::EnterpriseAccounts);
    let hidden = subject(
        &[ids::OWNER],
        &[rule(3, Effect::Deny, &[ent_read], vec![everything(ACME)])],
    );
    assert!(ask_child(&hidden, UM_READ).is_invisible());
}

#[test]
fn a_parents_own_denies_follow_it_into_child_accounts() {
    let child = AccountId(10);
    let ancestors = [ACME];
    let ask_child = |s: &Subject, p, resource| {
        decide(
            s,
            &Request {
                account: child,
                permission: p,
                resource,
                ancestors: &ancestors,
            },
        )
    };
    let wide = subject(
        &[ids::OWNER],
        &[rule(1, Effect::Deny, &[UM_WRITE], vec![everything(ACME)])],
    );
    let d = ask_child(&wide, UM_WRITE, None);
    assert!(!d.allowed);
    assert!(
        matches!(
            d.reasons[0],
            Reason::Policy {
                effect: Effect::Deny,
                ..
            }
        ),
        "{d:?}"
    );
    assert!(
        ask_child(&wide, UM_READ, None).allowed,
        "only write is denied"
    );
    let on_object = subject(
        &[ids::OWNER],
        &[rule(
            2,
            Effect::Deny,
            &[UM_READ],
            vec![only(ACME, &[user(57)])],
        )],
    );
    let (denied, other) = (user(57), user(58));
    assert!(!ask_child(&on_object, UM_READ, Some(&denied)).allowed);
    assert!(ask_child(&on_object, UM_READ, Some(&other)).allowed);
    // A deny never reveals a child the principal cannot see.
    let admin = subject(
        &[ids::ADMIN],
        &[rule(3, Effect::Deny, &[UM_WRITE], vec![everything(ACME)])],
    );
    assert!(ask_child(&admin, UM_WRITE, None).is_invisible());
}

#[test]
fn denied_objects_are_those_a_deny_takes_the_permission_from() {
    let s = subject(
        &[ids::OWNER],
        &[
            rule(1, Effect::Deny, &[UM_READ], vec![only(ACME, &[user(1)])]),
            rule(2, Effect::Deny, &[UM_WRITE], vec![only(ACME, &[user(2)])]),
            rule(3, Effect::Allow, &[UM_READ], vec![only(ACME, &[user(3)])]),
            rule(
                4,
                Effect::Deny,
                &[UM_READ],
                vec![only(
                    ACME,
                    &[ResourceKey::new(ResourceType::ServiceKey, "k")],
                )],
            ),
        ],
    );
    let mut read: Vec<&str> = s
        .policies
        .denied_objects(ResourceType::User, UM_READ)
        .collect();
    read.sort_unstable();
    assert_eq!(read, vec!["1"], "denying write leaves the object readable");
    let mut write: Vec<&str> = s
        .policies
        .denied_objects(ResourceType::User, UM_WRITE)
        .collect();
    write.sort_unstable();
    assert_eq!(write, vec!["1", "2"], "denying read denies write too");
    assert_eq!(
        s.policies
            .denied_objects(ResourceType::ServiceKey, UM_READ)
            .collect::<Vec<_>>(),
        vec!["k"]
    );
}

#[test]
fn decisions_are_the_same_with_many_unrelated_policies() {
    let mut rules: Vec<PolicyRule> = (0..=250u8)
        .map(|n| {
            rule(
                n,
                Effect::Allow,
                &[Permission::read(Capability::Usage)],
                vec![only(ACME, &[user(1000 + u32::from(n))])],
            )
        })
        .collect();
    rules.push(rule(
        251,
        Effect::Deny,
        &[UM_WRITE],
        vec![only(ACME, &[user(7)])],
    ));
    let s = subject(&[ids::ADMINISTRATOR], &rules);
    assert_eq!(s.policies.len(), 252);
    assert!(!ask(&s, UM_WRITE, Some(&user(7))).allowed);
    assert!(ask(&s, UM_WRITE, Some(&user(8))).allowed);
    assert!(ask(&s, Permission::read(Capability::Usage), Some(&user(1010))).allowed);
}

// ---- properties ----

fn any_permission() -> impl Strategy<Value = Permission> {
    (0..Capability::ALL.len(), any::<bool>()).prop_map(|(c, w)| {
        Permission::new(
            Capability::ALL[c],
            if w { Level::Write } else { Level::Read },
        )
    })
}

fn any_resource() -> impl Strategy<Value = Option<ResourceKey>> {
    prop::option::of((1u32..6).prop_map(user))
}

fn any_scope() -> impl Strategy<Value = Scope> {
    prop_oneof![
        Just(everything(ACME)),
        prop::collection::vec((1u32..6).prop_map(user), 1..3).prop_map(|k| only(ACME, &k)),
        Just(everything(OTHER)),
    ]
}

fn any_rule() -> impl Strategy<Value = PolicyRule> {
    (
        any::<u8>(),
        any::<bool>(),
        prop::collection::vec(any_permission(), 1..4),
        prop::collection::vec(any_scope(), 1..3),
    )
        .prop_map(|(n, allow, perms, scopes)| {
            rule(
                n,
                if allow { Effect::Allow } else { Effect::Deny },
                &perms,
                scopes,
            )
        })
}

fn any_roles() -> impl Strategy<Value = Vec<RoleId>> {
    prop::collection::vec((0..ROLES.len()).prop_map(|i| ROLES[i].id), 0..4)
}

proptest! {
    #[test]
    fn deny_always_wins(
        roles in any_roles(),
        rules in prop::collection::vec(any_rule(), 0..8),
        p in any_permission(),
        resource in any_resource(),
        wide in any::<bool>(),
    ) {
        let mut rules = rules;
        let scope = match (&resource, wide) {
            (Some(r), false) => only(ACME, std::slice::from_ref(r)),
            _ => everything(ACME),
        };
        rules.push(rule(255, Effect::Deny, &[p], vec![scope]));
        let s = subject(&roles, &rules);
        prop_assert!(!ask(&s, p, resource.as_ref()).allowed);
    }

    #[test]
    fn adding_an_allow_never_removes_access(
        roles in any_roles(),
        rules in prop::collection::vec(any_rule(), 0..8),
        extra in any_rule(),
        p in any_permission(),
        resource in any_resource(),
    ) {
        let before = ask(&subject(&roles, &rules), p, resource.as_ref()).allowed;
        let mut more = rules.clone();
        more.push(PolicyRule { effect: Effect::Allow, ..extra });
        let after = ask(&subject(&roles, &more), p, resource.as_ref()).allowed;
        prop_assert!(!before || after);
    }

    #[test]
    fn a_key_never_exceeds_its_owner(
        roles in any_roles(),
        key_roles in any_roles(),
        rules in prop::collection::vec(any_rule(), 0..8),
        p in any_permission(),
        resource in any_resource(),
    ) {
        let owner = subject(&roles, &rules);
        let mut key = owner.clone();
        key.key_roles = Some(key_roles.clone());
        let key_allowed = ask(&key, p, resource.as_ref()).allowed;
        prop_assert!(!key_allowed || ask(&owner, p, resource.as_ref()).allowed);
        prop_assert!(!key_allowed || crate::roles::permissions_of(&key_roles).contains(p));
    }

    #[test]
    fn another_accounts_resources_are_never_allowed(
        roles in any_roles(),
        rules in prop::collection::vec(any_rule(), 0..8),
        p in any_permission(),
        resource in any_resource(),
    ) {
        let s = subject(&roles, &rules);
        let d = decide(&s, &Request { account: OTHER, permission: p, resource: resource.as_ref(), ancestors: &[] });
        prop_assert!(!d.allowed);
        prop_assert!(d.is_invisible());
    }
}

#[test]
fn a_tokens_scopes_cap_what_its_subject_holds() {
    let mut s = subject(&[ids::OWNER], &[]);
    let read = Permission::read(Capability::UserManagement);
    let write = Permission::write(Capability::UserManagement);
    s.scope = Some(PermSet::of(read));
    assert!(ask(&s, read, None).allowed);
    let d = ask(&s, write, None);
    assert!(!d.allowed);
    assert_eq!(d.reasons, vec![Reason::OutsideScope { permission: write }]);
    assert_eq!(
        d.reasons[0].to_string(),
        format!("the token's scopes do not include {write}")
    );
    // An empty ceiling allows nothing; no ceiling changes nothing.
    s.scope = Some(PermSet::EMPTY);
    assert!(!ask(&s, read, None).allowed);
    s.scope = None;
    assert!(ask(&s, write, None).allowed);
}

#[test]
fn a_scope_never_widens_a_subject() {
    // Scopes name what the subject may not hold: the subject's own refusal stands.
    let mut s = subject(&[], &[]);
    let read = Permission::read(Capability::UserManagement);
    s.scope = Some(PermSet::all());
    let d = ask(&s, read, None);
    assert!(!d.allowed);
    assert_eq!(d.reasons, vec![Reason::NotGranted { permission: read }]);
}

#[test]
fn another_account_stays_invisible_to_a_scoped_token() {
    let mut s = subject(&[ids::OWNER], &[]);
    s.scope = Some(PermSet::EMPTY);
    let d = decide(
        &s,
        &Request {
            account: OTHER,
            permission: Permission::read(Capability::UserManagement),
            resource: None,
            ancestors: &[],
        },
    );
    assert!(d.is_invisible(), "{d:?}");
}

proptest! {
    #[test]
    fn a_scoped_subject_is_allowed_only_within_its_scope_and_its_own_rights(
        roles in any_roles(),
        rules in prop::collection::vec(any_rule(), 0..8),
        scope in prop::collection::vec(any_permission(), 0..6),
        p in any_permission(),
        resource in any_resource(),
    ) {
        let unscoped = subject(&roles, &rules);
        let mut scoped = unscoped.clone();
        let ceiling = scope.iter().fold(PermSet::EMPTY, |s, q| s.union(PermSet::of(*q)));
        scoped.scope = Some(ceiling);
        let allowed = ask(&scoped, p, resource.as_ref()).allowed;
        prop_assert!(!allowed || ceiling.contains(p));
        prop_assert!(!allowed || ask(&unscoped, p, resource.as_ref()).allowed);
        prop_assert_eq!(
            allowed,
            ceiling.contains(p) && ask(&unscoped, p, resource.as_ref()).allowed
        );
    }
}
