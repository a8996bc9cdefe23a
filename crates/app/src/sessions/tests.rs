//! Listing and ending sessions, on mocked ports: one's own by self-service (never through a
//! service key), another user's with User Management write and the right to manage it, and
//! nothing of another user or account.

use chrono::TimeDelta;
use tessera_domain::audit::{ActorKind, RequestMeta};
use tessera_domain::ids::{Hex32, PolicyId, UserGroupId};
use tessera_domain::keys::SignInMethod;
use tessera_domain::permissions::Permission;
use tessera_domain::policy::{Effect, PolicyRule, Reason, ResourceKey, Scope, ScopeObjects};
use tessera_domain::ports::RepoError;
use tessera_domain::roles::{RoleId, ids};

use super::*;
use crate::testing::{
    ACME, Mocks, access_key_principal, key_principal, now, principal, principal_with, user,
};

const MINE: SessionId = SessionId(Hex32([0x11; 16]));
const OTHER: SessionId = SessionId(Hex32([0x22; 16]));

fn meta() -> RequestMeta {
    RequestMeta {
        client_ip: Some("10.0.0.1".into()),
        request_id: Some("req-9".into()),
    }
}

/// User `id` of ACME with `roles`, signed in through session `session`.
fn signed_in(id: i64, roles: &[RoleId], session: SessionId) -> Principal {
    Principal {
        credential: Credential::Session(session),
        ..principal(id, roles)
    }
}

fn session(id: SessionId, user: i64) -> Session {
    Session {
        id,
        account_id: ACME,
        user_id: UserId(user),
        created_at: now(),
        expires_at: now() + TimeDelta::hours(1),
        created_from: Some("192.0.2.4".into()),
        method: SignInMethod::Password,
        last_used_at: None,
        last_used_from: None,
    }
}

fn deny_sessions_of(user: i64, permission: Permission) -> PolicyRule {
    PolicyRule {
        id: PolicyId(Hex32([1; 16])),
        user_group: UserGroupId(Hex32([2; 16])),
        effect: Effect::Deny,
        permissions: vec![permission],
        scopes: vec![Scope {
            account: ACME,
            objects: ScopeObjects::Only(vec![ResourceKey::new(ResourceType::User, user)]),
        }],
    }
}

/// `users.get_user` answers user 2 (a Developer) and user 9 (an Owner) of ACME, nobody else.
fn with_users(m: &mut Mocks) {
    m.users
        .expect_get_user()
        .returning(|account, id| match (account, id.0) {
            (ACME, 2) => Ok(user(2, "dev02", &[ids::DEVELOPER])),
            (ACME, 9) => Ok(user(9, "boss09", &[ids::OWNER])),
            _ => Err(RepoError::NotFound),
        });
}

#[test]
fn a_user_lists_its_own_sessions_and_sees_which_is_current() {
    let mut m = Mocks::new();
    m.users.expect_get_user().times(0);
    m.sessions
        .expect_list_sessions()
        .withf(|a, u, at, p| {
            *a == ACME && *u == UserId(2) && *at == now() && p.limit == 20 && p.offset == 40
        })
        .times(1)
        .returning(|_, _, _, _| {
            Ok(Page {
                items: vec![session(OTHER, 2), session(MINE, 2)],
                total: 42,
            })
        });
    let page = m
        .app()
        .list_own_sessions(&signed_in(2, &[ids::DEVELOPER], MINE), 20, 40)
        .unwrap();
    assert_eq!(page.total, 42);
    assert_eq!(
        page.items
            .iter()
            .map(|s| (s.session.id, s.current))
            .collect::<Vec<_>>(),
        vec![(OTHER, false), (MINE, true)]
    );
}

#[test]
fn page_sizes_are_clamped_so_a_list_stays_bounded() {
    let mut m = Mocks::new();
    m.sessions
        .expect_list_sessions()
        .withf(|_, _, _, p| p.limit == MAX_SESSIONS_PER_PAGE)
        .times(1)
        .returning(|_, _, _, _| Ok(Page::whole(Vec::new())));
    m.sessions
        .expect_list_sessions()
        .withf(|_, _, _, p| p.limit == 1)
        .times(1)
        .returning(|_, _, _, _| Ok(Page::whole(Vec::new())));
    let app = m.app();
    let me = signed_in(2, &[], MINE);
    app.list_own_sessions(&me, u32::MAX, 0).unwrap();
    app.list_own_sessions(&me, 0, 0).unwrap();
}

#[test]
fn an_access_key_acts_as_its_user_and_no_session_is_current() {
    let mut m = Mocks::new();
    m.sessions
        .expect_list_sessions()
        .withf(|_, u, _, _| *u == UserId(2))
        .returning(|_, _, _, _| Ok(Page::whole(vec![session(MINE, 2)])));
    m.sessions
        .expect_delete_user_sessions()
        .withf(|a, u, audit| {
            *a == ACME
                && *u == UserId(2)
                && audit.action == "session.delete_all"
                && audit.actor.kind == ActorKind::AccessKey
                && audit.target.as_deref() == Some("user:2")
        })
        .times(1)
        .returning(|_, _, _| Ok(3));
    let app = m.app();
    let key = access_key_principal(2, &[]);
    let page = app.list_own_sessions(&key, 20, 0).unwrap();
    assert!(!page.items[0].current);
    assert_eq!(
        app.end_own_sessions(&key, &meta()),
        Ok(EndedSessions {
            count: 3,
            current: false
        })
    );
}

#[test]
fn a_service_key_has_no_sessions_of_its_own_and_ends_none() {
    let mut m = Mocks::new();
    m.sessions.expect_list_sessions().times(0);
    m.sessions.expect_delete_session_by_id().times(0);
    m.sessions.expect_delete_user_sessions().times(0);
    let app = m.app();
    for key in [
        key_principal(Some(2), &[ids::OWNER], &[ids::OWNER]),
        key_principal(None, &[], &[ids::OWNER]),
    ] {
        let page = app.list_own_sessions(&key, 20, 0).unwrap();
        assert_eq!((page.items.len(), page.total), (0, 0));
        assert_eq!(
            app.end_own_session(&key, &meta(), MINE),
            Err(AppError::NotFound(Entity::Session))
        );
        assert_eq!(
            app.end_own_sessions(&key, &meta()),
            Err(AppError::NotFound(Entity::Session))
        );
    }
}

#[test]
fn ending_ones_own_session_names_only_that_users_session_and_is_audited() {
    let mut m = Mocks::new();
    m.sessions
        .expect_delete_session_by_id()
        .withf(|a, u, id, audit| {
            *a == ACME
                && *u == UserId(2)
                && *id == OTHER
                && audit.action == "session.delete"
                && audit.actor.kind == ActorKind::User
                && audit.actor.id == "2"
                && audit.target.as_deref() == Some("user:2")
                && audit.details["session_id"] == OTHER.to_string()
                && audit.client_ip.as_deref() == Some("10.0.0.1")
        })
        .times(1)
        .returning(|_, _, _, _| Ok(()));
    m.sessions
        .expect_delete_session_by_id()
        .withf(|_, _, id, _| *id == MINE)
        .times(1)
        .returning(|_, _, _, _| Ok(()));
    let app = m.app();
    let me = signed_in(2, &[ids::DEVELOPER], MINE);
    assert_eq!(
        app.end_own_session(&me, &meta(), OTHER),
        Ok(EndedSessions {
            count: 1,
            current: false
        })
    );
    assert_eq!(
        app.end_own_session(&me, &meta(), MINE),
        Ok(EndedSessions {
            count: 1,
            current: true
        })
    );
}

#[test]
fn another_users_session_is_not_found_through_ones_own_route() {
    let mut m = Mocks::new();
    // The store is asked for that id among user 2's sessions only: another user's is not
    // there, and nothing is deleted.
    m.sessions
        .expect_delete_session_by_id()
        .withf(|a, u, _, _| *a == ACME && *u == UserId(2))
        .times(1)
        .returning(|_, _, _, _| Err(RepoError::NotFound));
    assert_eq!(
        m.app()
            .end_own_session(&signed_in(2, &[], MINE), &meta(), OTHER),
        Err(AppError::NotFound(Entity::Session))
    );
}

#[test]
fn a_deny_on_the_user_itself_refuses_self_service_too() {
    let mut m = Mocks::new();
    m.sessions.expect_list_sessions().times(0);
    m.sessions.expect_delete_user_sessions().times(0);
    let app = m.app();
    let read_denied = Principal {
        credential: Credential::Session(MINE),
        ..principal_with(
            2,
            &[ids::DEVELOPER],
            &[deny_sessions_of(
                2,
                Permission::read(Capability::UserManagement),
            )],
        )
    };
    assert!(matches!(
        app.list_own_sessions(&read_denied, 20, 0),
        Err(AppError::Forbidden(r)) if matches!(r[0], Reason::Policy { effect: Effect::Deny, .. })
    ));
    let write_denied = Principal {
        credential: Credential::Session(MINE),
        ..principal_with(2, &[ids::DEVELOPER], &[deny_sessions_of(2, WRITE)])
    };
    assert!(matches!(
        app.end_own_sessions(&write_denied, &meta()),
        Err(AppError::Forbidden(_))
    ));
}

#[test]
fn an_administrator_lists_and_ends_another_users_sessions() {
    let mut m = Mocks::new();
    with_users(&mut m);
    m.sessions
        .expect_list_sessions()
        .withf(|a, u, _, _| *a == ACME && *u == UserId(2))
        .times(1)
        .returning(|_, _, _, _| Ok(Page::whole(vec![session(OTHER, 2)])));
    m.sessions
        .expect_delete_session_by_id()
        .withf(|a, u, id, audit| {
            *a == ACME
                && *u == UserId(2)
                && *id == OTHER
                && audit.actor.id == "1"
                && audit.target.as_deref() == Some("user:2")
        })
        .times(1)
        .returning(|_, _, _, _| Ok(()));
    m.sessions
        .expect_delete_user_sessions()
        .withf(|a, u, audit| *a == ACME && *u == UserId(2) && audit.actor.id == "1")
        .times(1)
        .returning(|_, _, _| Ok(2));
    let app = m.app();
    let admin = signed_in(1, &[ids::ADMINISTRATOR], MINE);
    let page = app
        .list_user_sessions(&admin, ACME, UserId(2), 20, 0)
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert!(!page.items[0].current, "the administrator's own is MINE");
    assert_eq!(
        app.end_user_session(&admin, &meta(), ACME, UserId(2), OTHER),
        Ok(EndedSessions {
            count: 1,
            current: false
        })
    );
    assert_eq!(
        app.end_user_sessions(&admin, &meta(), ACME, UserId(2)),
        Ok(EndedSessions {
            count: 2,
            current: false
        })
    );
}

#[test]
fn without_user_management_write_another_users_sessions_are_refused() {
    let mut m = Mocks::new();
    with_users(&mut m);
    m.sessions.expect_list_sessions().times(0);
    m.sessions.expect_delete_session_by_id().times(0);
    m.sessions.expect_delete_user_sessions().times(0);
    let app = m.app();
    // User Read sees users but may not read where they sign in from, nor end anything.
    for caller in [
        signed_in(3, &[ids::DEVELOPER], MINE),
        signed_in(3, &[ids::USER_READ], MINE),
    ] {
        assert!(matches!(
            app.list_user_sessions(&caller, ACME, UserId(2), 20, 0),
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            app.end_user_session(&caller, &meta(), ACME, UserId(2), OTHER),
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            app.end_user_sessions(&caller, &meta(), ACME, UserId(2)),
            Err(AppError::Forbidden(_))
        ));
    }
}

#[test]
fn an_administrator_may_not_touch_the_sessions_of_a_user_it_cannot_manage() {
    let mut m = Mocks::new();
    with_users(&mut m);
    m.sessions.expect_list_sessions().times(0);
    m.sessions.expect_delete_user_sessions().times(0);
    m.sessions.expect_delete_session_by_id().times(0);
    let app = m.app();
    let admin = signed_in(1, &[ids::ADMINISTRATOR], MINE);
    assert!(matches!(
        app.list_user_sessions(&admin, ACME, UserId(9), 20, 0),
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.end_user_sessions(&admin, &meta(), ACME, UserId(9)),
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.end_user_session(&admin, &meta(), ACME, UserId(9), OTHER),
        Err(AppError::Forbidden(_))
    ));
}

#[test]
fn a_user_or_account_the_administrator_cannot_see_is_not_found() {
    let mut m = Mocks::new();
    with_users(&mut m);
    m.accounts
        .expect_get_account()
        .returning(|_| Err(RepoError::NotFound));
    m.sessions.expect_list_sessions().times(0);
    m.sessions.expect_delete_user_sessions().times(0);
    m.sessions.expect_delete_session_by_id().times(0);
    let app = m.app();
    let owner = signed_in(1, &[ids::OWNER], MINE);
    // A user of another account, named under the administrator's own account.
    assert_eq!(
        app.list_user_sessions(&owner, ACME, UserId(77), 20, 0),
        Err(AppError::NotFound(Entity::User))
    );
    assert_eq!(
        app.end_user_sessions(&owner, &meta(), ACME, UserId(77)),
        Err(AppError::NotFound(Entity::User))
    );
    // Another account altogether.
    let elsewhere = AccountId(2);
    assert_eq!(
        app.list_user_sessions(&owner, elsewhere, UserId(2), 20, 0),
        Err(AppError::NotFound(Entity::Account))
    );
    assert_eq!(
        app.end_user_session(&owner, &meta(), elsewhere, UserId(2), OTHER),
        Err(AppError::NotFound(Entity::Account))
    );
}

#[test]
fn another_users_session_id_is_not_found_through_the_administrators_route() {
    let mut m = Mocks::new();
    with_users(&mut m);
    m.sessions
        .expect_delete_session_by_id()
        .withf(|_, u, id, _| *u == UserId(2) && *id == MINE)
        .times(1)
        .returning(|_, _, _, _| Err(RepoError::NotFound));
    assert_eq!(
        m.app().end_user_session(
            &signed_in(1, &[ids::OWNER], OTHER),
            &meta(),
            ACME,
            UserId(2),
            MINE
        ),
        Err(AppError::NotFound(Entity::Session))
    );
}

#[test]
fn a_service_key_needs_the_permission_and_the_right_to_manage_its_owners_sessions() {
    let mut m = Mocks::new();
    with_users(&mut m);
    m.sessions
        .expect_delete_user_sessions()
        .withf(|_, u, audit| *u == UserId(2) && audit.actor.kind == ActorKind::ServiceKey)
        .times(1)
        .returning(|_, _, _| Ok(1));
    let app = m.app();
    // Its owner's own sessions are not the key's: without User Management write it is refused.
    let weak = key_principal(Some(2), &[ids::DEVELOPER], &[ids::DEVELOPER]);
    assert!(matches!(
        app.end_user_sessions(&weak, &meta(), ACME, UserId(2)),
        Err(AppError::Forbidden(_))
    ));
    let strong = key_principal(None, &[], &[ids::ADMINISTRATOR]);
    assert_eq!(
        app.end_user_sessions(&strong, &meta(), ACME, UserId(2)),
        Ok(EndedSessions {
            count: 1,
            current: false
        })
    );
}

#[test]
fn ending_all_of_ones_sessions_ends_the_current_one_too() {
    let mut m = Mocks::new();
    m.sessions
        .expect_delete_user_sessions()
        .times(1)
        .returning(|_, _, _| Ok(4));
    assert_eq!(
        m.app().end_own_sessions(&signed_in(2, &[], MINE), &meta()),
        Ok(EndedSessions {
            count: 4,
            current: true
        })
    );
}
