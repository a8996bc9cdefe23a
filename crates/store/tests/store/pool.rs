use std::time::Duration;

use tessera_store::testing::TestDatabase;
use tessera_store::{Database, PoolOptions, StoreError, backend_tests};

/// The pool reports its size and load, and counts the checkouts that waited and those that
/// timed out; a checkout that finds an idle connection is neither.
fn the_pool_counts_waits_and_timeouts(db: &TestDatabase) {
    let pool = Database::open(
        &db.url,
        &PoolOptions {
            max_size: 2,
            connect_timeout: Duration::from_secs(3),
        },
    )
    .unwrap();
    let a = pool.conn().unwrap();
    let b = pool.conn().unwrap();
    let held = pool.pool_stats();
    assert_eq!(
        (held.max_size, held.connections, held.idle, held.timeouts),
        (2, 2, 0, 0)
    );
    let Err(err) = pool.conn_within(Duration::from_millis(10)) else {
        panic!("a third connection from a pool of two");
    };
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let after = pool.pool_stats();
    assert_eq!(after.waits, held.waits + 1);
    assert_eq!(after.timeouts, 1);
    drop(a);
    assert_eq!(pool.pool_stats().idle, 1);
    let _c = pool.conn().unwrap();
    let last = pool.pool_stats();
    assert_eq!(
        (last.waits, last.timeouts, last.idle),
        (after.waits, 1, 0),
        "an idle connection is taken without waiting"
    );
    drop(b);
}

backend_tests!(the_pool_counts_waits_and_timeouts);
