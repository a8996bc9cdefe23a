//! Listing users with their roles costs the same few queries for 10 users as for 1,000 (no
//! N+1), on both backends. Queries are counted by diesel's instrumentation, per thread, so
//! tests running alongside do not disturb the count.

use std::cell::Cell;

use diesel::connection::{InstrumentationEvent, set_default_instrumentation};
use tessera_domain::ports::{ListQuery, UserRepo};
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
    // A count, the page, the roles of the page (and the pool's check of the connection).
    assert!(
        (3..=4).contains(&costs[1]),
        "{backend:?}: {} queries",
        costs[1]
    );
}

#[test]
fn sqlite_lists_users_with_roles_in_constant_queries() {
    listing_costs_the_same_for_10_and_1000_users(Backend::Sqlite);
}

#[test]
fn postgres_lists_users_with_roles_in_constant_queries() {
    listing_costs_the_same_for_10_and_1000_users(Backend::Postgres);
}
