//! Sign-in through a connector's identity provider: `begin` sends the browser to the IdP with a
//! single-use login transaction (state, nonce, PKCE verifier); `complete` consumes it, redeems
//! the code, checks who the IdP says the user is, and opens a session like password sign-in.

use chrono::TimeDelta;
use serde_json::json;
use tessera_domain::Secret;
use tessera_domain::audit::{Actor, AuditRecord, Outcome, RequestMeta};
use tessera_domain::ids::AccountId;
use tessera_domain::keys::SignInMethod;
use tessera_domain::ports::{AuthorizationRequest, IdpError, NewUser, RepoError};
use tessera_domain::sso::{
    DEFAULT_EMAIL_CLAIM, IdpConfig, IdpIdentity, LOGIN_TTL_MINUTES, ReturnTo, SsoConnector,
    SsoLogin, domain_of, parse_email_domain,
};
use tessera_domain::user::check_email;
use tessera_domain::user::{Login, User, UserStatus};

use crate::App;
use crate::auth::{Refusal, SessionToken, digest};
use crate::error::{AppError, AppResult, SsoFailure};

/// Who is signing in: an email address, or an account's domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsoTarget {
    /// The connector of the email's domain.
    Email(String),
    /// The connector of `domain` in `account`.
    Domain {
        /// The account.
        account: AccountId,
        /// The domain.
        domain: String,
    },
}

/// Starting a sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeginSso {
    /// Who.
    pub target: SsoTarget,
    /// Tessera's callback URL without the connector: the IdP is sent back to
    /// `<callback_base>/<connector id>`, each connector's own callback (so that a code one IdP
    /// issued can never reach another connector's sign-in: the mix-up attack).
    pub callback_base: String,
    /// Where the browser ends up.
    pub return_to: ReturnTo,
}

/// Where to send the browser, and the binding it must carry back.
#[derive(Debug)]
pub struct SsoRedirect {
    /// The IdP's authorization URL.
    pub url: String,
    /// The binding value: set it as the cookie `cookie_name` on the browser.
    pub binding: Secret,
    /// The cookie's name (one per sign-in, so that two tabs do not overwrite each other's).
    pub cookie_name: String,
}

/// The name of the binding cookie of the sign-in whose state is `state`.
#[must_use]
pub fn binding_cookie_name(state: &str) -> String {
    format!("tessera_sso_{}", &hex::encode(digest(state))[..16])
}

/// The callback's query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteSso {
    /// The connector whose callback was called (the path's).
    pub connector: tessera_domain::ids::SsoConnectorId,
    /// `state`.
    pub state: String,
    /// The binding cookie's value, when the browser sent it.
    pub binding: Option<Secret>,
    /// `code`, on success at the IdP.
    pub code: Option<String>,
    /// `error`, when the IdP refused (`access_denied`…).
    pub error: Option<String>,
    /// `iss` (RFC 9207), when the IdP sends it: must be the connector's issuer.
    pub iss: Option<String>,
}

/// A completed SSO sign-in.
#[derive(Debug)]
pub struct SsoSession {
    /// The session, as password sign-in opens it.
    pub session: SessionToken,
    /// Where the browser goes.
    pub return_to: ReturnTo,
}

/// The sealing purpose of a login transaction's PKCE verifier.
fn verifier_purpose(state_digest: &[u8]) -> String {
    format!("sso_login:{}", hex::encode(state_digest))
}

/// What the per-address limit counts: the address, or for IPv6 its /64 (one subscriber's
/// network: counting each of its 2^64 addresses apart would be no limit at all).
fn limit_key(address: &str) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map_or_else(|| address.to_owned(), |v4| v4.to_string()),
        _ => address.to_owned(),
    }
}

/// A login for a user created at sign-in: the email's local part made a valid login, with a
/// random suffix (`alice.smith` → `alice.smith-k3x9q`).
fn jit_login(email: &str, suffix: &str) -> Option<Login> {
    let local = email.rsplit_once('@').map_or(email, |(l, _)| l);
    let mut base: String = local
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(14)
        .collect();
    if !base.starts_with(|c: char| c.is_ascii_lowercase()) {
        base.insert(0, 'u');
        base.truncate(14);
    }
    Login::parse(&format!("{base}-{suffix}")).ok()
}

impl App {
    /// Starts a sign-in through the identity provider of the connector for `cmd.target`: stores
    /// a login transaction and answers the IdP's authorization URL.
    ///
    /// # Errors
    /// `Sso(NotConfigured)` when no enabled, verified connector with an IdP serves the domain
    /// (the same answer whatever the reason); `Sso(TooManySignIns)` when this address (or the
    /// connector) has too many sign-ins in progress; `Sso(IdpUnavailable)`.
    pub fn begin_sso(&self, meta: &RequestMeta, cmd: BeginSso) -> AppResult<SsoRedirect> {
        let now = self.ports.clock.now();
        let (domain, account) = match &cmd.target {
            SsoTarget::Email(email) => (domain_of(email), None),
            SsoTarget::Domain { account, domain } => {
                (parse_email_domain(domain).ok(), Some(*account))
            }
        };
        let who = match &cmd.target {
            SsoTarget::Email(email) => email.trim().to_lowercase(),
            SsoTarget::Domain { domain, .. } => domain.trim().to_lowercase(),
        };
        let connector = match domain {
            Some(d) => self.ports.sso.find_verified_sso(&d)?,
            None => None,
        };
        let (connector, idp) = match connector {
            Some(c) if c.enabled && account.is_none_or(|a| a == c.account_id) => {
                match c.idp.clone() {
                    Some(idp) => (c, idp),
                    None => {
                        return Err(self.sso_refused(
                            meta,
                            Some(&c),
                            &who,
                            SsoFailure::NotConfigured,
                        ));
                    }
                }
            }
            _ => return Err(self.sso_refused(meta, None, &who, SsoFailure::NotConfigured)),
        };
        let redirect_uri = format!(
            "{}/{}",
            cmd.callback_base.trim_end_matches('/'),
            connector.id
        );
        let state = self.ports.ids.secret();
        let nonce = self.ports.ids.secret();
        let verifier = Secret::new(format!(
            "{}{}",
            self.ports.ids.secret().expose(),
            self.ports.ids.secret().expose()
        ));
        let binding = self.ports.ids.secret();
        let state_digest = digest(state.expose()).to_vec();
        let login = SsoLogin {
            binding_digest: digest(binding.expose()).to_vec(),
            sealed_verifier: self.ports.sealer.seal(
                &verifier_purpose(&state_digest),
                verifier.expose().as_bytes(),
            ),
            state_digest,
            connector_id: connector.id,
            account_id: connector.account_id,
            nonce: nonce.expose().to_owned(),
            redirect_uri: redirect_uri.clone(),
            return_to: cmd.return_to,
            client_ip: meta.client_ip.as_deref().map(limit_key),
            created_at: now,
            expires_at: now + TimeDelta::minutes(LOGIN_TTL_MINUTES),
        };
        let url = self
            .ports
            .oidc
            .authorization_url(
                &idp.settings,
                AuthorizationRequest {
                    redirect_uri: &redirect_uri,
                    state: state.expose(),
                    nonce: nonce.expose(),
                    pkce_verifier: verifier.expose(),
                },
            )
            .map_err(|e| self.idp_failed(meta, &connector, &who, &e))?;
        match self.ports.sso.begin_sso_login(
            &login,
            self.settings.sso_logins_per_address,
            self.settings.sso_logins_per_connector,
        ) {
            Ok(()) => Ok(SsoRedirect {
                url,
                cookie_name: binding_cookie_name(state.expose()),
                binding,
            }),
            Err(RepoError::LimitReached) => {
                Err(self.sso_refused(meta, Some(&connector), &who, SsoFailure::TooManySignIns))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Completes a sign-in at the callback: consumes the login transaction of `cmd.state`
    /// (once, whatever happens next), redeems the code, verifies the ID token, requires its
    /// email in the connector's domain (and verified, when the IdP says), finds the active user
    /// with that email in the connector's account (or creates one, when the connector allows),
    /// and opens a session. Every refusal is audited as `sso.login` and creates nothing.
    ///
    /// # Errors
    /// `Sso(..)` naming the failure.
    pub fn complete_sso(&self, meta: &RequestMeta, cmd: CompleteSso) -> AppResult<SsoSession> {
        let now = self.ports.clock.now();
        let state_digest = digest(&cmd.state).to_vec();
        // Without the browser's binding cookie nothing is taken: someone who learnt the state
        // (a leaked URL) can neither use nor spend the sign-in.
        let Some(binding) = cmd.binding.as_ref() else {
            return Err(self.sso_refused(meta, None, "", SsoFailure::WrongBrowser));
        };
        let binding_digest = digest(binding.expose());
        let Some(login) = self
            .ports
            .sso
            .take_sso_login(&state_digest, &binding_digest, now)?
        else {
            return Err(self.sso_refused(meta, None, "", SsoFailure::InvalidState));
        };
        if login.connector_id != cmd.connector {
            // A code of another connector's IdP, carried to this sign-in (mix-up): never
            // redeemed here.
            return Err(self.sso_refused(meta, None, "", SsoFailure::InvalidState));
        }
        let connector = match self.ports.sso.get_sso(login.account_id, login.connector_id) {
            Ok(c) if c.enforced() && c.idp.is_some() => c,
            Ok(_) | Err(RepoError::NotFound) => {
                return Err(self.sso_refused(meta, None, "", SsoFailure::NotConfigured));
            }
            Err(e) => return Err(e.into()),
        };
        let who = connector.email_domain.clone();
        if let Some(error) = cmd.error {
            let error: String = error.chars().take(64).collect();
            return Err(self.sso_refused(
                meta,
                Some(&connector),
                &who,
                SsoFailure::IdpDenied(error),
            ));
        }
        let Some(code) = cmd.code.filter(|c| !c.is_empty() && c.len() <= 4096) else {
            return Err(self.sso_refused(meta, Some(&connector), &who, SsoFailure::InvalidState));
        };
        let idp = connector
            .idp
            .clone()
            .ok_or_else(|| AppError::Internal("a connector without an IdP".into()))?;
        if cmd
            .iss
            .as_ref()
            .is_some_and(|iss| *iss != idp.settings.issuer)
        {
            return Err(self.sso_refused(
                meta,
                Some(&connector),
                &who,
                SsoFailure::InvalidIdToken("the callback comes from another issuer".into()),
            ));
        }
        let (secret, verifier) = self.open_sso_secrets(&connector, &idp, &login)?;
        let identity = self
            .ports
            .oidc
            .redeem(
                &idp.settings,
                &secret,
                AuthorizationRequest {
                    redirect_uri: &login.redirect_uri,
                    state: &cmd.state,
                    nonce: &login.nonce,
                    pkce_verifier: verifier.expose(),
                },
                &code,
            )
            .map_err(|e| self.idp_failed(meta, &connector, &who, &e))?;
        let user =
            self.sso_user(meta, &connector, &idp, &identity)
                .map_err(|failure| match failure {
                    Ok(f) => self.sso_refused(meta, Some(&connector), &who, f),
                    Err(e) => e,
                })?;
        let session = self.open_session(meta, &user, SignInMethod::Sso)?;
        self.write_sso_audit(AuditRecord {
            account_id: Some(connector.account_id),
            actor: Actor {
                kind: tessera_domain::audit::ActorKind::User,
                id: user.id.to_string(),
            },
            action: "sso.login".into(),
            target: Some(format!("user:{}", user.id)),
            outcome: Outcome::Success,
            client_ip: meta.client_ip.clone(),
            request_id: meta.request_id.clone(),
            at: now,
            details: json!({
                "sso_connector": connector.id.to_string(),
                "issuer": identity.issuer,
                "subject": identity.subject,
            }),
        });
        Ok(SsoSession {
            session,
            return_to: login.return_to,
        })
    }

    /// The client secret and the PKCE verifier, opened.
    fn open_sso_secrets(
        &self,
        connector: &SsoConnector,
        idp: &IdpConfig,
        login: &SsoLogin,
    ) -> AppResult<(Secret, Secret)> {
        let open = |purpose: String, sealed: &[u8]| {
            self.ports
                .sealer
                .open(&purpose, sealed)
                .map_err(|e| AppError::Internal(format!("{purpose}: {e}")))
                .and_then(|bytes| {
                    String::from_utf8(bytes)
                        .map(Secret::new)
                        .map_err(|_| AppError::Internal(format!("{purpose}: not UTF-8")))
                })
        };
        Ok((
            open(
                SsoConnector::secret_purpose(connector.id),
                &idp.sealed_client_secret,
            )?,
            open(
                verifier_purpose(&login.state_digest),
                &login.sealed_verifier,
            )?,
        ))
    }

    /// The user the identity stands for: `Ok(Err(failure))` is a refusal to audit.
    fn sso_user(
        &self,
        meta: &RequestMeta,
        connector: &SsoConnector,
        idp: &IdpConfig,
        identity: &IdpIdentity,
    ) -> Result<User, Result<SsoFailure, AppError>> {
        // An address as Tessera stores them, ASCII only: Unicode case folding (the Kelvin sign
        // folds to `k`) must not make another identity match a user.
        let Some(email) = identity
            .email
            .as_deref()
            .filter(|e| e.is_ascii() && check_email(e).is_ok())
        else {
            return Err(Ok(SsoFailure::EmailMissing(
                idp.settings.email_claim.clone(),
            )));
        };
        if domain_of(email).as_deref() != Some(connector.email_domain.as_str()) {
            return Err(Ok(SsoFailure::EmailOutsideDomain(
                connector.email_domain.clone(),
            )));
        }
        // `email_verified` speaks of `email` only.
        if idp.settings.email_claim == DEFAULT_EMAIL_CLAIM && identity.email_verified == Some(false)
        {
            return Err(Ok(SsoFailure::EmailNotVerified));
        }
        // Nothing is created for an inactive account.
        if !self.account_active(connector.account_id).map_err(Err)? {
            return Err(Ok(SsoFailure::UserInactive));
        }
        let found = self.users_with_email(connector, email)?;
        let user = match (found, idp.settings.jit_role) {
            (Some(user), _) => user,
            (None, None) => return Err(Ok(SsoFailure::NoUser)),
            (None, Some(role)) => match self.create_jit_user(meta, connector, email, role) {
                Ok(Some(user)) => user,
                // Another first sign-in of the address (a second tab, a double click) created
                // the user meanwhile: that user, one user per address.
                Ok(None) => self
                    .users_with_email(connector, email)?
                    .ok_or(Ok(SsoFailure::NoUser))?,
                // The account is full: refused (and audited) like a sign-in with no user.
                Err(AppError::TooManyUsers(_)) => return Err(Ok(SsoFailure::NoUser)),
                Err(e) => return Err(Err(e)),
            },
        };
        Ok(user)
    }

    /// The one active user of the connector's account with `email`; `Ok(None)` when the
    /// account has no user with it; a refusal when it has only inactive ones, or several.
    fn users_with_email(
        &self,
        connector: &SsoConnector,
        email: &str,
    ) -> Result<Option<User>, Result<SsoFailure, AppError>> {
        let found = self
            .ports
            .users
            .find_users_by_email(connector.account_id, email)
            .map_err(|e| Err(e.into()))?;
        let mut active = found.iter().filter(|u| u.status == UserStatus::Active);
        match (active.next(), active.next(), found.is_empty()) {
            (Some(user), None, _) => Ok(Some(user.clone())),
            (None, _, true) => Ok(None),
            (None, _, false) => Err(Ok(SsoFailure::UserInactive)),
            (Some(_), Some(_), _) => Err(Ok(SsoFailure::AmbiguousEmail)),
        }
    }

    /// Creates the user of a first sign-in (just-in-time), with the connector's role and no
    /// password; audited as `user.create` by the system. `None` when the account has a user
    /// with the email by now (created by a concurrent sign-in): nothing is created.
    fn create_jit_user(
        &self,
        meta: &RequestMeta,
        connector: &SsoConnector,
        email: &str,
        role: tessera_domain::roles::RoleId,
    ) -> AppResult<Option<User>> {
        let limit = self.settings.max_users_per_account;
        let mut tries = 0;
        loop {
            tries += 1;
            let suffix: String = self
                .ports
                .ids
                .secret()
                .expose()
                .to_lowercase()
                .chars()
                .take(5)
                .collect();
            let login = jit_login(email, &suffix)
                .ok_or_else(|| AppError::Internal("no login can be made from the email".into()))?;
            let audit = AuditRecord {
                account_id: Some(connector.account_id),
                actor: Actor::system(),
                action: "user.create".into(),
                target: None,
                outcome: Outcome::Success,
                client_ip: meta.client_ip.clone(),
                request_id: meta.request_id.clone(),
                at: self.ports.clock.now(),
                details: json!({
                    "login": login.as_str(),
                    "roles": [role],
                    "just_in_time": connector.id.to_string(),
                }),
            };
            let created = self.ports.users.create_user_unless_email_taken(
                &NewUser {
                    account_id: connector.account_id,
                    login,
                    email: Some(email.to_owned()),
                    phone_number: None,
                    description: Some("created at SSO sign-in".into()),
                    status: UserStatus::Active,
                    password_hash: None,
                    roles: vec![role],
                    created_at: self.ports.clock.now(),
                },
                limit,
                &audit,
            );
            match created {
                Ok(user) => {
                    if user.is_some() {
                        self.after_change();
                    }
                    return Ok(user);
                }
                Err(RepoError::Conflict(_)) if tries < 3 => {}
                Err(RepoError::LimitReached) => return Err(AppError::TooManyUsers(limit)),
                Err(e) => return Err(AppError::from_repo(tessera_domain::Entity::User)(e)),
            }
        }
    }

    /// Audits a refused SSO sign-in (folded like other authentication failures) and answers
    /// the error.
    fn sso_refused(
        &self,
        meta: &RequestMeta,
        connector: Option<&SsoConnector>,
        who: &str,
        failure: SsoFailure,
    ) -> AppError {
        let refusal = Refusal {
            account: connector.map(|c| c.account_id),
            who: who.chars().take(254).collect(),
            credential: "sso",
            reason: failure.audited(),
        };
        self.audit_refusal("sso.login", &refusal, meta, self.ports.clock.now());
        AppError::Sso(failure)
    }

    fn idp_failed(
        &self,
        meta: &RequestMeta,
        connector: &SsoConnector,
        who: &str,
        error: &IdpError,
    ) -> AppError {
        tracing::info!(connector = %connector.id, error = %error, "SSO sign-in refused by the IdP step");
        let failure = match error {
            IdpError::Unavailable(m) => SsoFailure::IdpUnavailable(m.clone()),
            IdpError::Refused(m) => SsoFailure::CodeRefused(m.clone()),
            IdpError::InvalidIdToken(m) => SsoFailure::InvalidIdToken(m.clone()),
        };
        self.sso_refused(meta, Some(connector), who, failure)
    }

    fn write_sso_audit(&self, record: AuditRecord) {
        if let Err(e) = self.ports.audit.append_audit(&record) {
            tracing::warn!(error = %e, "could not record an SSO sign-in");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_counts_ipv6_by_64() {
        assert_eq!(limit_key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(limit_key("2001:db8:1:2::ffff"), "2001:db8:1:2::/64");
        assert_eq!(limit_key("::ffff:192.0.2.1"), "192.0.2.1");
        assert_eq!(limit_key("192.0.2.1"), "192.0.2.1");
    }

    #[test]
    fn jit_logins_are_valid_logins_from_the_local_part() {
        assert_eq!(
            jit_login("Alice.Smith@corp.example", "k3x9q")
                .unwrap()
                .as_str(),
            "alice.smith-k3x9q"
        );
        assert_eq!(
            jit_login("9lives@x.io", "abcde").unwrap().as_str(),
            "u9lives-abcde"
        );
        assert_eq!(
            jit_login("a+b@x.io", "abcde").unwrap().as_str(),
            "a-b-abcde"
        );
        let long = jit_login(&format!("{}@x.io", "x".repeat(60)), "abcde").unwrap();
        assert_eq!(long.as_str().len(), 20);
        assert_eq!(jit_login("é@x.io", "abcde").unwrap().as_str(), "u--abcde");
    }
}
