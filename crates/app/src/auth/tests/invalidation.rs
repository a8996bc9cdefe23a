//! Invalidation by account: a change read from the versions (polled, pushed, or made here)
//! evicts the cached principals of the accounts it stamps, and only those.

use parking_lot::Mutex as PlMutex;
use tessera_domain::ports::{AuthzChange, MockAuthzRepo};

use super::*;

/// An authorization repository with `with_key`'s (empty) policies and no versions yet.
fn authz_with_policies() -> MockAuthzRepo {
    let mut authz = MockAuthzRepo::new();
    authz
        .expect_policy_rules_for_user()
        .returning(|_, _| Ok(vec![]));
    authz
}

/// Versions the test moves: `authz_changes` answers what is above the floor asked.
fn scripted_versions(m: &mut Mocks) -> StdArc<PlMutex<Vec<AuthzChange>>> {
    let table = StdArc::new(PlMutex::new(Vec::<AuthzChange>::new()));
    let mut authz = authz_with_policies();
    let t = table.clone();
    authz
        .expect_authz_version()
        .returning(move || Ok(t.lock().iter().map(|c| c.version).max().unwrap_or(0)));
    let t = table.clone();
    authz.expect_authz_changes().returning(move |after, limit| {
        let mut above: Vec<_> = t
            .lock()
            .iter()
            .filter(|c| c.version > after)
            .copied()
            .collect();
        above.sort_by_key(|c| c.version);
        above.truncate(limit);
        Ok(above)
    });
    m.authz = authz;
    table
}

/// Stamps `account` with the next version, as a store would.
fn stamp(table: &PlMutex<Vec<AuthzChange>>, account: AccountId) {
    let mut t = table.lock();
    let version = t.iter().map(|c| c.version).max().unwrap_or(0) + 1;
    t.retain(|c| c.account != account);
    t.push(AuthzChange { account, version });
}

fn token() -> String {
    format!("tsr_{KEY_ID}_s3cret")
}

#[test]
fn a_change_in_another_account_keeps_the_cached_principal() {
    let mut m = Mocks::new();
    let lookups = with_key(&mut m, KeyStatus::Active, UserStatus::Active);
    let versions = scripted_versions(&mut m);
    let app = m.app();
    app.authenticate(&bearer(&token()), &meta()).unwrap();
    stamp(&versions, AccountId(99));
    app.sync_authz().unwrap();
    app.authenticate(&bearer(&token()), &meta()).unwrap();
    assert_eq!(lookups.load(Ordering::SeqCst), 1, "still cached");
    stamp(&versions, ACME);
    app.sync_authz().unwrap();
    app.authenticate(&bearer(&token()), &meta()).unwrap();
    assert_eq!(lookups.load(Ordering::SeqCst), 2, "its own account changed");
    // Read again: the same version is not acted on twice.
    app.sync_authz().unwrap();
    app.authenticate(&bearer(&token()), &meta()).unwrap();
    assert_eq!(lookups.load(Ordering::SeqCst), 2);
}

#[test]
fn a_pushed_change_evicts_before_any_read() {
    let mut m = Mocks::new();
    let lookups = with_key(&mut m, KeyStatus::Active, UserStatus::Active);
    scripted_versions(&mut m);
    let app = m.app();
    app.authenticate(&bearer(&token()), &meta()).unwrap();
    // The notification names the account; the versions have not moved (yet) in storage.
    app.authz_changed(&[AccountId(99)]);
    app.authenticate(&bearer(&token()), &meta()).unwrap();
    assert_eq!(lookups.load(Ordering::SeqCst), 1);
    app.authz_changed(&[ACME]);
    app.authenticate(&bearer(&token()), &meta()).unwrap();
    assert_eq!(lookups.load(Ordering::SeqCst), 2);
    app.authz_unknown();
    app.authenticate(&bearer(&token()), &meta()).unwrap();
    assert_eq!(
        lookups.load(Ordering::SeqCst),
        3,
        "a lost listener drops all"
    );
}

#[test]
fn too_many_changes_at_once_drop_everything_and_start_over() {
    let mut m = Mocks::new();
    let lookups = with_key(&mut m, KeyStatus::Active, UserStatus::Active);
    let versions = scripted_versions(&mut m);
    let app = m.app();
    app.authenticate(&bearer(&token()), &meta()).unwrap();
    for a in 0..=crate::auth::versions::MAX_CHANGES {
        stamp(&versions, AccountId(1000 + a as i64));
    }
    app.sync_authz().unwrap();
    app.authenticate(&bearer(&token()), &meta()).unwrap();
    assert_eq!(lookups.load(Ordering::SeqCst), 2, "ACME's entry went too");
    app.sync_authz().unwrap();
    app.authenticate(&bearer(&token()), &meta()).unwrap();
    assert_eq!(
        lookups.load(Ordering::SeqCst),
        2,
        "started over at the latest"
    );
}

#[test]
fn a_change_made_here_evicts_at_once_and_a_failed_read_drops_all() {
    let mut m = Mocks::new();
    let lookups = with_key(&mut m, KeyStatus::Active, UserStatus::Active);
    let versions = scripted_versions(&mut m);
    let app = m.app();
    app.authenticate(&bearer(&token()), &meta()).unwrap();
    stamp(&versions, AccountId(99));
    app.after_change();
    app.authenticate(&bearer(&token()), &meta()).unwrap();
    assert_eq!(lookups.load(Ordering::SeqCst), 1);
    stamp(&versions, ACME);
    app.after_change();
    app.authenticate(&bearer(&token()), &meta()).unwrap();
    assert_eq!(lookups.load(Ordering::SeqCst), 2);
}

#[test]
fn when_the_versions_cannot_be_read_after_a_change_nothing_cached_survives() {
    let mut m = Mocks::new();
    let lookups = with_key(&mut m, KeyStatus::Active, UserStatus::Active);
    let failing = StdArc::new(AtomicUsize::new(0));
    let mut authz = authz_with_policies();
    authz.expect_authz_version().returning(|| Ok(1));
    let f = failing.clone();
    authz.expect_authz_changes().returning(move |_, _| {
        if f.load(Ordering::SeqCst) == 1 {
            Err(RepoError::Unavailable("down".into()))
        } else {
            Ok(Vec::new())
        }
    });
    m.authz = authz;
    let app = m.app();
    app.authenticate(&bearer(&token()), &meta()).unwrap();
    app.authenticate(&bearer(&token()), &meta()).unwrap();
    assert_eq!(lookups.load(Ordering::SeqCst), 1);
    failing.store(1, Ordering::SeqCst);
    app.after_change();
    failing.store(0, Ordering::SeqCst);
    app.authenticate(&bearer(&token()), &meta()).unwrap();
    assert_eq!(lookups.load(Ordering::SeqCst), 2);
}
