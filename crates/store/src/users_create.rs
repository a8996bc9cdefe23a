//! Creating users (with the account's limit, and for SSO sign-in only when no user has the
//! email yet) and finding them by email.

use diesel::prelude::*;
use tessera_domain::audit::AuditRecord;
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::ports::{NewUser, RepoError};
use tessera_domain::user::User;

use crate::audit;
use crate::db::{AnyConnection, Database, lock_account, write_tx};
use crate::error::StoreError;
use crate::schema::users;
use crate::time::to_db;
use crate::users::{NewUserRow, UserRow, audit_with_target, insert_user, load_user, user_count};

/// Creates `user`; with `email_unique`, not when the account has a user with its email
/// (`None`), checked under the account's lock in the inserting transaction.
pub(crate) fn create(
    db: &Database,
    user: &NewUser,
    limit: u32,
    audit: &AuditRecord,
    email_unique: bool,
) -> Result<Option<User>, RepoError> {
    let mut conn = db.conn()?;
    let at = to_db(user.created_at);
    write_tx(&mut conn, |c| {
        lock_account(c, user.account_id.0)?;
        let taken = match (email_unique, user.email.as_deref()) {
            (true, Some(email)) => !users_with_email(c, user.account_id, email)?.is_empty(),
            _ => false,
        };
        if taken {
            return Ok(None);
        }
        if user_count(c, user.account_id)? >= i64::from(limit) {
            return Err(StoreError::Rule(RepoError::LimitReached));
        }
        let id = insert_user(
            c,
            &NewUserRow {
                account_id: user.account_id.0,
                login: user.login.as_str(),
                email: user.email.as_deref(),
                phone_number: user.phone_number.as_deref(),
                description: user.description.as_deref(),
                status: user.status.as_str(),
                password_hash: user.password_hash.as_deref(),
                created_at: at,
                updated_at: at,
            },
            &user.roles,
        )?;
        audit::insert(c, &audit_with_target(audit, format!("user:{id}")))?;
        load_user(c, user.account_id, UserId(id)).map(Some)
    })
    .map_err(Into::into)
}

/// The account's users whose email is `email`, ASCII letters in either case and every other
/// character as it is; at most 10.
pub(crate) fn users_with_email(
    conn: &mut AnyConnection,
    account: AccountId,
    email: &str,
) -> Result<Vec<UserRow>, StoreError> {
    diesel::define_sql_function!(fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>);
    diesel::define_sql_function!(fn octet_length(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Integer>);
    // Postgres' `lower` folds beyond ASCII (the Kelvin sign and `İ` lower to `k` and `i`): an
    // address as long in bytes as the one sought, whose lower case is the one sought, differs
    // from it in ASCII case only (`lower` maps each character to one, and a non-ASCII one is
    // 2 to 4 bytes). Look-alikes are thus kept out of the 10, not only filtered from them.
    let len = i32::try_from(email.len()).unwrap_or(i32::MAX);
    let rows: Vec<UserRow> = users::table
        .filter(users::account_id.eq(account.0))
        .filter(lower(users::email).eq(email.to_ascii_lowercase()))
        .filter(octet_length(users::email).eq(len))
        .order(users::id)
        .limit(10)
        .select(UserRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|r| {
            r.email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
        })
        .collect())
}
