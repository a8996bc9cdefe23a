//! OAuth clients: settings as one JSON document, secrets as SHA-256 digests.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tessera_domain::Field;
use tessera_domain::audit::AuditRecord;
use tessera_domain::ids::{AccountId, OAuthClientId};
use tessera_domain::oauth::{ClientSettings, OAuthClient, TokenEndpointAuthMethod, Visibility};
use tessera_domain::ports::{OAuthClientRepo, RepoError};

use crate::db::{AnyConnection, lock_account, write_tx};
use crate::error::{StoreError, found, unique_as};
use crate::schema::oauth_clients;
use crate::time::{from_db, to_db};
use crate::{Store, audit};

#[derive(Queryable, Selectable)]
#[diesel(table_name = oauth_clients)]
struct Row {
    id: String,
    account_id: i64,
    client_name: String,
    token_endpoint_auth_method: String,
    visibility: String,
    settings: String,
    secret_digest: Option<Vec<u8>>,
    previous_secret_digest: Option<Vec<u8>>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    promoted_at: Option<NaiveDateTime>,
}

impl Row {
    fn into_client(self) -> Result<OAuthClient, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("oauth client {}: {what}", self.id));
        let settings: ClientSettings =
            serde_json::from_str(&self.settings).map_err(|e| corrupt(&e.to_string()))?;
        let method = TokenEndpointAuthMethod::parse(&self.token_endpoint_auth_method)
            .map_err(|e| corrupt(&e.to_string()))?;
        if settings.client_name != self.client_name || settings.token_endpoint_auth_method != method
        {
            return Err(corrupt("columns disagree with settings"));
        }
        Ok(OAuthClient {
            id: OAuthClientId::parse(&self.id).map_err(|e| corrupt(&e.to_string()))?,
            account_id: AccountId(self.account_id),
            visibility: Visibility::parse(&self.visibility).map_err(|e| corrupt(&e.to_string()))?,
            settings,
            secret_digest: self.secret_digest,
            previous_secret_digest: self.previous_secret_digest,
            created_at: from_db(self.created_at),
            updated_at: from_db(self.updated_at),
            promoted_at: self.promoted_at.map(from_db),
        })
    }
}

fn settings_json(settings: &ClientSettings) -> Result<String, StoreError> {
    serde_json::to_string(settings)
        .map_err(|e| StoreError::Corrupt(format!("oauth client settings: {e}")))
}

fn load(
    conn: &mut AnyConnection,
    account: AccountId,
    id: OAuthClientId,
) -> Result<OAuthClient, StoreError> {
    oauth_clients::table
        .filter(oauth_clients::id.eq(id.to_string()))
        .filter(oauth_clients::account_id.eq(account.0))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::Rule(RepoError::NotFound))?
        .into_client()
}

fn with_target(audit: &AuditRecord, id: OAuthClientId) -> AuditRecord {
    let mut record = audit.clone();
    record
        .target
        .get_or_insert_with(|| format!("oauth_client:{id}"));
    record
}

/// The rows of client `id` in `account`.
fn of(
    account: AccountId,
    id: OAuthClientId,
) -> diesel::dsl::Filter<
    diesel::dsl::Filter<oauth_clients::table, diesel::dsl::Eq<oauth_clients::id, String>>,
    diesel::dsl::Eq<oauth_clients::account_id, i64>,
> {
    oauth_clients::table
        .filter(oauth_clients::id.eq(id.to_string()))
        .filter(oauth_clients::account_id.eq(account.0))
}

impl Store {
    /// Runs `update` on client `id` of `account` (it answers how many rows it changed: none is
    /// `NotFound`) with its audit record, in one transaction; answers the client as it is then.
    fn change(
        &self,
        account: AccountId,
        id: OAuthClientId,
        audit: &AuditRecord,
        update: impl FnOnce(&mut AnyConnection) -> Result<usize, diesel::result::Error>,
    ) -> Result<OAuthClient, RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |tx| {
            found(update(tx)?)?;
            audit::insert(tx, &with_target(audit, id))?;
            load(tx, account, id)
        })
        .map_err(Into::into)
    }
}

impl OAuthClientRepo for Store {
    fn create_oauth_client(
        &self,
        client: &OAuthClient,
        limit: u32,
        audit: &AuditRecord,
    ) -> Result<OAuthClient, RepoError> {
        let settings = settings_json(&client.settings)?;
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |tx| {
            lock_account(tx, client.account_id.0)?;
            let held: i64 = oauth_clients::table
                .filter(oauth_clients::account_id.eq(client.account_id.0))
                .count()
                .get_result(tx)?;
            if held >= i64::from(limit) {
                return Err(StoreError::Rule(RepoError::LimitReached));
            }
            diesel::insert_into(oauth_clients::table)
                .values((
                    oauth_clients::id.eq(client.id.to_string()),
                    oauth_clients::account_id.eq(client.account_id.0),
                    oauth_clients::client_name.eq(&client.settings.client_name),
                    oauth_clients::token_endpoint_auth_method
                        .eq(client.settings.token_endpoint_auth_method.as_str()),
                    oauth_clients::visibility.eq(client.visibility.as_str()),
                    oauth_clients::settings.eq(&settings),
                    oauth_clients::secret_digest.eq(client.secret_digest.as_deref()),
                    oauth_clients::previous_secret_digest
                        .eq(client.previous_secret_digest.as_deref()),
                    oauth_clients::created_at.eq(to_db(client.created_at)),
                    oauth_clients::updated_at.eq(to_db(client.updated_at)),
                    oauth_clients::promoted_at.eq(client.promoted_at.map(to_db)),
                ))
                .execute(tx)
                .map_err(unique_as(Field::Value))?;
            audit::insert(tx, &with_target(audit, client.id))?;
            load(tx, client.account_id, client.id)
        })
        .map_err(Into::into)
    }

    fn get_oauth_client(
        &self,
        account: AccountId,
        id: OAuthClientId,
    ) -> Result<OAuthClient, RepoError> {
        let mut conn = self.db.conn()?;
        load(&mut conn, account, id).map_err(Into::into)
    }

    fn find_oauth_client(&self, id: OAuthClientId) -> Result<Option<OAuthClient>, RepoError> {
        let mut conn = self.db.conn()?;
        let row: Option<Row> = oauth_clients::table
            .find(id.to_string())
            .select(Row::as_select())
            .first(&mut *conn)
            .optional()
            .map_err(StoreError::from)?;
        row.map(|r| r.into_client().map_err(Into::into)).transpose()
    }

    fn list_oauth_clients(&self, account: AccountId) -> Result<Vec<OAuthClient>, RepoError> {
        let mut conn = self.db.conn()?;
        let rows: Vec<Row> = oauth_clients::table
            .filter(oauth_clients::account_id.eq(account.0))
            .order((oauth_clients::created_at, oauth_clients::id))
            .select(Row::as_select())
            .load(&mut *conn)
            .map_err(StoreError::from)?;
        rows.into_iter()
            .map(|r| r.into_client().map_err(Into::into))
            .collect()
    }

    fn update_oauth_client(
        &self,
        account: AccountId,
        id: OAuthClientId,
        settings: &ClientSettings,
        updated_at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<OAuthClient, RepoError> {
        let json = settings_json(settings)?;
        self.change(account, id, audit, |tx| {
            diesel::update(of(account, id))
                .set((
                    oauth_clients::client_name.eq(&settings.client_name),
                    oauth_clients::token_endpoint_auth_method
                        .eq(settings.token_endpoint_auth_method.as_str()),
                    oauth_clients::settings.eq(&json),
                    oauth_clients::updated_at.eq(to_db(updated_at)),
                ))
                .execute(tx)
        })
    }

    fn rotate_oauth_client_secret(
        &self,
        account: AccountId,
        id: OAuthClientId,
        new_digest: &[u8],
        updated_at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<OAuthClient, RepoError> {
        // One statement: every assignment reads the row as it was, so the current digest moves
        // to `previous` and the new one takes its place atomically (a racing rotation waits for
        // the row, then moves this one's digest).
        self.change(account, id, audit, |tx| {
            diesel::update(of(account, id).filter(oauth_clients::secret_digest.is_not_null()))
                .set((
                    oauth_clients::previous_secret_digest.eq(oauth_clients::secret_digest),
                    oauth_clients::secret_digest.eq(Some(new_digest)),
                    oauth_clients::updated_at.eq(to_db(updated_at)),
                ))
                .execute(tx)
        })
    }

    fn delete_rotated_oauth_client_secret(
        &self,
        account: AccountId,
        id: OAuthClientId,
        updated_at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<OAuthClient, RepoError> {
        self.change(account, id, audit, |tx| {
            diesel::update(of(account, id))
                .set((
                    oauth_clients::previous_secret_digest.eq(None::<Vec<u8>>),
                    oauth_clients::updated_at.eq(to_db(updated_at)),
                ))
                .execute(tx)
        })
    }

    fn delete_oauth_client(
        &self,
        account: AccountId,
        id: OAuthClientId,
        audit: &AuditRecord,
    ) -> Result<(), RepoError> {
        let mut conn = self.db.conn()?;
        write_tx(&mut conn, |tx| {
            found(diesel::delete(of(account, id)).execute(tx)?)?;
            audit::insert(tx, &with_target(audit, id))?;
            Ok(())
        })
        .map_err(Into::into)
    }
}
