//! Listing users with their roles costs the same few queries for 10 users as for 1,000 (no
//! N+1), on both backends. Queries are counted by diesel's instrumentation, per thread, so
//! tests running alongside do not disturb the count.

use std::cell::Cell;

use diesel::connection::{InstrumentationEvent, set_default_instrumentation};
use tessera_domain::ports::{AuthzRepo, ListQuery, UserRepo};
use tessera_domain::roles::ids;
use tessera_store::Backend;
use tessera_store::testing::TestDatabase;

use crate::fixtures::{account, audit_in, new_user};

thread_local! {
    static QUERIES: Cell<usize> = const { Cell::new(0) };
}

fn count(event: InstrumentationEvent<'_>) {
    if let InstrumentationEvent::StartQuery { .. } = event {
        QUERIES.with(|q| q.set(q.get() + 1));
    }
}

/// Queries run by this thread during `f`.
fn queries_of<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = QUERIES.with(Cell::get);
    let out = f();
    (QUERIES.with(Cell::get) - before, out)
}

fn listing_costs_the_same_for_10_and_1000_users(backend: Backend) {
    // Before the database: its pool's connections pick the instrumentation up when they open.
    set_default_instrumentation(|| Some(Box::new(count))).expect("instrumentation");
    let Some(db) = TestDatabase::of(backend) else {
        return;
    };
    let store = db.store();
    let acme = account(&store, "acme").account.id;
    let all = ListQuery {
        limit: 1000,
        ..ListQuery::default()
    };
    let mut costs = Vec::new();
    for target in [10, 1000] {
        let have = store.count_users(acme).unwrap();
        for n in have..target {
            store
                .create_user(
                    &new_user(
                        acme,
                        &format!("user{n:05}"),
                        &[ids::DEVELOPER, ids::SUPPORT],
                    ),
                    10_000,
                    &audit_in(acme, "user.create"),
                )
                .unwrap();
        }
        let (cost, page) = queries_of(|| store.list_users(acme, &all).unwrap());
        assert_eq!(page.items.len(), usize::try_from(target).unwrap());
        assert_eq!(page.total, target);
        let last = page.items.last().unwrap();
        assert_eq!(
            last.roles,
            vec![ids::DEVELOPER, ids::SUPPORT],
            "roles come along"
        );
        costs.push(cost);
    }
    assert_eq!(
        costs[0], costs[1],
        "{backend:?}: {costs:?} queries for 10 and 1000 users"
    );
    // A count, the page, the roles of the page (no check of a connection used just now).
    assert_eq!(costs[1], 3, "{backend:?}");
}

#[test]
fn sqlite_lists_users_with_roles_in_constant_queries() {
    listing_costs_the_same_for_10_and_1000_users(Backend::Sqlite);
}

#[test]
fn postgres_lists_users_with_roles_in_constant_queries() {
    listing_costs_the_same_for_10_and_1000_users(Backend::Postgres);
}

/// The reads behind every authenticated request, counted: getting a user (with its roles), a
/// first page of users, and the policies of a user (what `authorize` reads besides the user).
/// A connection used within the last second is not pinged on checkout; an older one is.
fn hot_reads_cost(backend: Backend) {
    set_default_instrumentation(|| Some(Box::new(count))).expect("instrumentation");
    let Some(db) = TestDatabase::of(backend) else {
        return;
    };
    let store = db.store();
    let acme = account(&store, "acme");
    let (account_id, owner) = (acme.account.id, acme.owner.id);
    for n in 0..20 {
        store
            .create_user(
                &new_user(account_id, &format!("user{n:02}"), &[ids::DEVELOPER]),
                10_000,
                &audit_in(account_id, "user.create"),
            )
            .unwrap();
    }
    let first_page = ListQuery {
        limit: 10,
        ..ListQuery::default()
    };
    // Warm: the pool's connections have all been used just now.
    store.get_user(account_id, owner).unwrap();
    let (get, user) = queries_of(|| store.get_user(account_id, owner).unwrap());
    assert_eq!(user.roles, vec![ids::OWNER, ids::ADMINISTRATOR]);
    let (list, page) = queries_of(|| store.list_users(account_id, &first_page).unwrap());
    assert_eq!(page.items.len(), 10);
    let (policies, _) = queries_of(|| store.policy_rules_for_user(account_id, owner).unwrap());
    assert_eq!(
        (get, list, policies),
        (1, 3, 1),
        "{backend:?}: get user, first page, policies (of a user in no group)"
    );
    let missing = queries_of(|| store.get_user(account_id, tessera_domain::ids::UserId(999_999)));
    assert_eq!(missing.0, 1);
    assert!(missing.1.is_err());
    if backend == Backend::Postgres {
        // Idle for more than a second: the checkout asks the server first.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let (stale, _) = queries_of(|| store.get_user(account_id, owner).unwrap());
        assert_eq!(stale, 2, "a ping, then the read");
    }
}

#[test]
fn sqlite_hot_reads_cost_a_fixed_number_of_queries() {
    hot_reads_cost(Backend::Sqlite);
}

#[test]
fn postgres_hot_reads_cost_a_fixed_number_of_queries() {
    hot_reads_cost(Backend::Postgres);
}
