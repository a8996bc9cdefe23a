//! The bundled SQLite is compiled with the options `.cargo/config.toml` passes through
//! `LIBSQLITE3_FLAGS`: without them every allocation takes a global mutex, which the load
//! benchmark showed as lock contention between the workers.

use diesel::RunQueryDsl;
use diesel::dsl::sql;
use diesel::sql_types::Integer;
use tessera_store::testing::TestDatabase;

fn compiled_with(db: &TestDatabase, option: &str) -> bool {
    let mut conn = db.db.conn().expect("a connection");
    diesel::select(sql::<Integer>(&format!(
        "sqlite_compileoption_used('{option}')"
    )))
    .get_result::<i32>(&mut *conn)
    .expect("compile options")
        == 1
}

#[test]
fn sqlite_is_built_multi_threaded_without_memory_statistics() {
    let db = TestDatabase::sqlite();
    assert!(compiled_with(&db, "THREADSAFE=2"), "multi-thread mode");
    assert!(
        compiled_with(&db, "DEFAULT_MEMSTATUS=0"),
        "no allocation statistics"
    );
    assert!(!compiled_with(&db, "THREADSAFE=1"), "the check can fail");
}
