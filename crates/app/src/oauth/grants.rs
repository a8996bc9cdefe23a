//! Grants: a user's consent to an OAuth client. The authorization-code flow creates them;
//! every token issued from one names it, and is refused at use once it is revoked.

use tessera_domain::Entity;
use tessera_domain::audit::{Actor, ActorKind, AuditRecord, Outcome, RequestMeta};
use tessera_domain::ids::{AccountId, UserId};
use tessera_domain::oauth::{Grant, GrantId, ScopeSet};
use tessera_domain::ports::RepoError;

use crate::App;
use crate::error::{AppError, AppResult};

impl App {
    /// Records that `user` of `account` granted `client_id` the `scopes` (audited as
    /// `oauth.grant.create`). The caller (the consent step) has decided that the user holds
    /// them and that the client may ask for them.
    ///
    /// # Errors
    /// Storage errors.
    pub fn create_grant(
        &self,
        account: AccountId,
        user: UserId,
        client_id: &str,
        scopes: ScopeSet,
        meta: &RequestMeta,
    ) -> AppResult<Grant> {
        let now = self.ports.clock.now();
        let grant = Grant {
            id: GrantId(self.ports.ids.hex32()),
            account_id: account,
            user_id: user,
            client_id: client_id.to_owned(),
            scopes,
            created_at: now,
            revoked_at: None,
        };
        let audit = AuditRecord {
            account_id: Some(account),
            actor: Actor {
                kind: ActorKind::User,
                id: user.to_string(),
            },
            action: "oauth.grant.create".into(),
            target: Some(format!("oauth_grant:{}", grant.id)),
            outcome: Outcome::Success,
            client_ip: meta.client_ip.clone(),
            request_id: meta.request_id.clone(),
            at: now,
            details: serde_json::json!({ "client_id": client_id, "scope": scopes.to_string() }),
        };
        self.ports.oauth_tokens.create_grant(&grant, &audit)?;
        Ok(grant)
    }

    /// Grant `id` of `account`.
    ///
    /// # Errors
    /// `NotFound(Object)` when `account` has no such grant.
    pub fn grant(&self, account: AccountId, id: GrantId) -> AppResult<Grant> {
        self.ports
            .oauth_tokens
            .get_grant(account, id)
            .map_err(AppError::from_repo(Entity::Object))
    }

    /// Revokes grant `id` of `account` (audited as `oauth.grant.revoke` by `actor`): every
    /// token issued from it is refused from now on, on every instance. Answers whether it was
    /// live (revoking twice changes nothing). The caller has decided that `actor` may.
    ///
    /// # Errors
    /// `NotFound(Object)` when `account` has no such grant; storage errors.
    pub fn revoke_grant(
        &self,
        account: AccountId,
        id: GrantId,
        actor: Actor,
        meta: &RequestMeta,
    ) -> AppResult<bool> {
        let now = self.ports.clock.now();
        let audit = event(
            account,
            actor,
            "oauth.grant.revoke",
            format!("oauth_grant:{id}"),
            meta,
            now,
        );
        let revoked = self
            .ports
            .oauth_tokens
            .revoke_grant(account, id, now, &audit)
            .map_err(AppError::from_repo(Entity::Object));
        self.invalidating(revoked)
    }

    /// Revokes every grant to OAuth client `client_id` of `client_account` (audited as `oauth.client_grants.revoke`
    /// by `actor`): what deleting a client does, so that every token issued to it is refused
    /// from now on, on every instance. Answers how many grants were live. The caller has
    /// decided that `actor` may delete the client.
    ///
    /// # Errors
    /// Storage errors.
    pub fn revoke_client_grants(
        &self,
        client_account: AccountId,
        client_id: &str,
        actor: Actor,
        meta: &RequestMeta,
    ) -> AppResult<u64> {
        let now = self.ports.clock.now();
        let audit = event(
            client_account,
            actor,
            "oauth.client_grants.revoke",
            format!("oauth_client:{client_id}"),
            meta,
            now,
        );
        let revoked = self
            .ports
            .oauth_tokens
            .revoke_client_grants(client_id, now, &audit)
            .map_err(AppError::from);
        self.invalidating(revoked)
    }

    /// Whether a token naming grant `id`, `user` and `client_id` may still be used: the grant
    /// exists in `account`, is not revoked, and is `user`'s grant to `client_id`.
    pub(crate) fn grant_usable(
        &self,
        account: AccountId,
        id: GrantId,
        user: UserId,
        client_id: &str,
    ) -> AppResult<bool> {
        match self.ports.oauth_tokens.get_grant(account, id) {
            Ok(grant) => Ok(grant.revoked_at.is_none()
                && grant.user_id == user
                && grant.client_id == client_id),
            Err(RepoError::NotFound) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// A grant event of `actor` in `account`, about `target`.
fn event(
    account: AccountId,
    actor: Actor,
    action: &str,
    target: String,
    meta: &RequestMeta,
    at: chrono::DateTime<chrono::Utc>,
) -> AuditRecord {
    AuditRecord {
        account_id: Some(account),
        actor,
        action: action.to_owned(),
        target: Some(target),
        outcome: Outcome::Success,
        client_ip: meta.client_ip.clone(),
        request_id: meta.request_id.clone(),
        at,
        details: serde_json::json!({}),
    }
}
