//! SSO sign-in use cases, over mocked ports: every refusal creates nothing and is audited.

use std::sync::{Arc, Mutex};

use tessera_domain::ids::{Hex32, SsoConnectorId, UserId};
use tessera_domain::ports::{IdpError, RepoError, SealError};
use tessera_domain::roles::ids;
use tessera_domain::sso::{
    IdpConfig, IdpIdentity, IdpSettings, ReturnTo, SsoConnector, SsoLogin, VerificationStatus,
};
use tessera_domain::user::UserStatus;

use super::*;
use crate::auth::digest;
use crate::error::SsoFailure;
use crate::testing::{ACME, Mocks, now, user};

pub(super) const CONNECTOR: SsoConnectorId = SsoConnectorId(Hex32([7; 16]));

pub(super) fn meta() -> RequestMeta {
    RequestMeta {
        client_ip: Some("192.0.2.1".into()),
        request_id: Some("r".into()),
    }
}

pub(super) fn idp(jit: Option<tessera_domain::roles::RoleId>) -> IdpConfig {
    IdpConfig {
        settings: IdpSettings {
            issuer: "https://idp.example.com".into(),
            client_id: "tessera".into(),
            scopes: vec!["openid".into(), "email".into()],
            email_claim: "email".into(),
            jit_role: jit,
        },
        sealed_client_secret: b"sealed:client-secret".to_vec(),
    }
}

pub(super) fn connector(enabled: bool, idp: Option<IdpConfig>) -> SsoConnector {
    SsoConnector {
        id: CONNECTOR,
        account_id: ACME,
        email_domain: "corp.example".into(),
        enabled,
        use_fedramp_language: false,
        verification_code: SsoConnector::code_for(CONNECTOR),
        verification_status: VerificationStatus::Verified,
        created_on: now(),
        updated_on: now(),
        idp,
    }
}

/// Sealing that is visibly not the identity: `sealed:` + the bytes.
pub(super) fn sealing(m: &mut Mocks) {
    m.sealer
        .expect_seal()
        .returning(|_, plain| [b"sealed:".as_slice(), plain].concat());
    m.sealer.expect_open().returning(|_, sealed| {
        sealed
            .strip_prefix(b"sealed:")
            .map(<[u8]>::to_vec)
            .ok_or(SealError::Corrupt)
    });
}

/// Counts `n` for `secret()` calls: state, nonce, verifier halves, binding.
pub(super) fn secrets(m: &mut Mocks) {
    let n = Arc::new(Mutex::new(0));
    m.ids.expect_secret().returning(move || {
        let mut n = n.lock().unwrap();
        *n += 1;
        Secret::new(format!("secret{n:0>36}"))
    });
}

/// Audited refusals, by reason.
pub(super) fn refusals(m: &mut Mocks) -> Arc<Mutex<Vec<AuditRecord>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    m.audit.expect_append_audit().returning(move |r| {
        s.lock().unwrap().push(r.clone());
        Ok(())
    });
    seen
}

fn begin_cmd(email: &str) -> BeginSso {
    BeginSso {
        target: SsoTarget::Email(email.into()),
        callback_base: "https://iam.example.com/v1/sso/callback".into(),
        return_to: ReturnTo::Api,
    }
}

#[test]
fn no_enabled_verified_connector_with_an_idp_means_not_configured_and_nothing_stored() {
    for (found, target) in [
        (None, begin_cmd("a@corp.example")),
        (
            Some(connector(false, Some(idp(None)))),
            begin_cmd("a@corp.example"),
        ),
        (Some(connector(true, None)), begin_cmd("a@corp.example")),
        (
            Some(connector(true, Some(idp(None)))),
            begin_cmd("not-an-email"),
        ),
        (
            Some(connector(true, Some(idp(None)))),
            BeginSso {
                target: SsoTarget::Domain {
                    account: tessera_domain::ids::AccountId(99),
                    domain: "corp.example".into(),
                },
                ..begin_cmd("")
            },
        ),
    ] {
        let mut m = Mocks::new();
        m.sso
            .expect_find_verified_sso()
            .returning(move |_| Ok(found.clone()));
        m.sso.expect_begin_sso_login().times(0);
        m.oidc.expect_authorization_url().times(0);
        let audited = refusals(&mut m);
        let err = m.app().begin_sso(&meta(), target).unwrap_err();
        assert_eq!(err, AppError::Sso(SsoFailure::NotConfigured));
        let audited = audited.lock().unwrap();
        assert_eq!(audited.len(), 1);
        assert_eq!(audited[0].action, "sso.login");
    }
}

#[test]
fn beginning_stores_only_digests_and_the_sealed_verifier() {
    let mut m = Mocks::new();
    sealing(&mut m);
    secrets(&mut m);
    m.sso
        .expect_find_verified_sso()
        .withf(|d| d == "corp.example")
        .returning(|_| Ok(Some(connector(true, Some(idp(None))))));
    m.oidc
        .expect_authorization_url()
        .withf(|_, r| {
            r.state == format!("secret{:0>36}", 1)
                && r.nonce == format!("secret{:0>36}", 2)
                && (43..=128).contains(&r.pkce_verifier.len())
        })
        .returning(|_, r| Ok(format!("https://idp.example.com/auth?state={}", r.state)));
    let stored: Arc<Mutex<Option<SsoLogin>>> = Arc::default();
    let s = stored.clone();
    m.sso
        .expect_begin_sso_login()
        .withf(|_, per_address, per_connector| (*per_address, *per_connector) == (20, 0))
        .returning(move |l, _, _| {
            *s.lock().unwrap() = Some(l.clone());
            Ok(())
        });
    let r = m
        .app()
        .begin_sso(&meta(), begin_cmd("Ann@Corp.Example"))
        .unwrap();
    let state = format!("secret{:0>36}", 1);
    assert!(r.url.ends_with(&state));
    assert_eq!(r.cookie_name, binding_cookie_name(&state));
    let login = stored.lock().unwrap().clone().unwrap();
    assert_eq!(login.state_digest, digest(&state).to_vec());
    assert_eq!(login.binding_digest, digest(r.binding.expose()).to_vec());
    assert!(login.sealed_verifier.starts_with(b"sealed:"));
    assert_eq!(login.client_ip.as_deref(), Some("192.0.2.1"));
    assert_eq!(login.expires_at, now() + chrono::TimeDelta::minutes(10));
}

#[test]
fn a_full_address_gets_too_many_sign_ins() {
    let mut m = Mocks::new();
    sealing(&mut m);
    secrets(&mut m);
    m.sso
        .expect_find_verified_sso()
        .returning(|_| Ok(Some(connector(true, Some(idp(None))))));
    m.oidc
        .expect_authorization_url()
        .returning(|_, _| Ok("https://idp.example.com/auth".into()));
    m.sso
        .expect_begin_sso_login()
        .returning(|_, _, _| Err(RepoError::LimitReached));
    refusals(&mut m);
    let err = m
        .app()
        .begin_sso(&meta(), begin_cmd("a@corp.example"))
        .unwrap_err();
    assert_eq!(err, AppError::Sso(SsoFailure::TooManySignIns));
}

const STATE: &str = "the-state";
const BINDING: &str = "the-binding";

pub(super) fn stored_login() -> SsoLogin {
    SsoLogin {
        state_digest: digest(STATE).to_vec(),
        connector_id: CONNECTOR,
        account_id: ACME,
        nonce: "n".into(),
        sealed_verifier: b"sealed:verifier".to_vec(),
        binding_digest: digest(BINDING).to_vec(),
        redirect_uri: format!("https://iam.example.com/v1/sso/callback/{CONNECTOR}"),
        return_to: ReturnTo::Page,
        client_ip: None,
        created_at: now(),
        expires_at: now() + chrono::TimeDelta::minutes(10),
    }
}

pub(super) fn complete_cmd() -> CompleteSso {
    CompleteSso {
        connector: CONNECTOR,
        state: STATE.into(),
        binding: Some(Secret::new(BINDING)),
        code: Some("code".into()),
        error: None,
        iss: None,
    }
}

pub(super) fn identity(email: Option<&str>, verified: Option<bool>) -> IdpIdentity {
    IdpIdentity {
        issuer: "https://idp.example.com".into(),
        subject: "sub-1".into(),
        email: email.map(str::to_owned),
        email_verified: verified,
    }
}

/// A callback's world: the stored login, the connector, what the IdP says, the users with the
/// email. No session may be opened unless `opens`.
pub(super) fn callback(
    connector: SsoConnector,
    redeemed: Option<Result<IdpIdentity, IdpError>>,
    users: Vec<tessera_domain::user::User>,
    opens: bool,
) -> Mocks {
    let mut m = Mocks::new();
    sealing(&mut m);
    secrets(&mut m);
    m.sso
        .expect_take_sso_login()
        .withf(|d, b, _| d == digest(STATE).as_slice() && b == digest(BINDING).as_slice())
        .returning(|_, _, _| Ok(Some(stored_login())));
    m.sso.expect_take_sso_login().returning(|_, _, _| Ok(None));
    m.sso
        .expect_get_sso()
        .returning(move |_, _| Ok(connector.clone()));
    match redeemed {
        Some(r) => {
            m.oidc
                .expect_redeem()
                .withf(|_, secret, req, code| {
                    secret.expose() == "client-secret"
                        && req.pkce_verifier == "verifier"
                        && req.nonce == "n"
                        && code == "code"
                })
                .times(1)
                .returning(move |_, _, _, _| r.clone());
        }
        None => {
            m.oidc.expect_redeem().times(0);
        }
    }
    m.users
        .expect_find_users_by_email()
        .returning(move |_, _| Ok(users.clone()));
    m.accounts
        .expect_get_account()
        .returning(|_| Ok(crate::testing::account(ACME)));
    if opens {
        m.ids.expect_hex32().returning(|| Hex32([3; 16]));
        m.sessions
            .expect_create_session()
            .withf(|s, _| s.method == tessera_domain::keys::SignInMethod::Sso)
            .times(1)
            .returning(|_, _| Ok(()));
    } else {
        m.sessions.expect_create_session().times(0);
        m.users.expect_create_user().times(0);
        m.users.expect_create_user_unless_email_taken().times(0);
    }
    m
}

fn ann() -> tessera_domain::user::User {
    let mut u = user(5, "ann01", &[ids::DEVELOPER]);
    u.email = Some("Ann@corp.example".into());
    u
}

fn refused(mut m: Mocks, cmd: CompleteSso) -> (AppError, Vec<AuditRecord>) {
    let audited = refusals(&mut m);
    let err = m.app().complete_sso(&meta(), cmd).unwrap_err();
    let records = audited.lock().unwrap().clone();
    (err, records)
}

#[test]
fn an_unknown_or_replayed_state_is_refused_before_the_idp_is_asked() {
    let mut m = Mocks::new();
    m.sso.expect_take_sso_login().returning(|_, _, _| Ok(None));
    m.oidc.expect_redeem().times(0);
    m.sessions.expect_create_session().times(0);
    let (err, audited) = refused(m, complete_cmd());
    assert_eq!(err, AppError::Sso(SsoFailure::InvalidState));
    assert_eq!(audited[0].action, "sso.login");
}

#[test]
fn a_callback_in_another_browser_is_refused_and_does_not_spend_the_sign_in() {
    // No binding cookie: nothing is even looked up, so the sign-in stays for its browser.
    let mut m = Mocks::new();
    m.sso.expect_take_sso_login().times(0);
    m.oidc.expect_redeem().times(0);
    let (err, _) = refused(
        m,
        CompleteSso {
            binding: None,
            ..complete_cmd()
        },
    );
    assert_eq!(err, AppError::Sso(SsoFailure::WrongBrowser));
    // Another browser's cookie: the store takes only the sign-in bound to it, i.e. none.
    let m = callback(connector(true, Some(idp(None))), None, vec![ann()], false);
    let (err, _) = refused(
        m,
        CompleteSso {
            binding: Some(Secret::new("someone-else")),
            ..complete_cmd()
        },
    );
    assert_eq!(err, AppError::Sso(SsoFailure::InvalidState));
}

#[test]
fn an_idp_error_a_foreign_issuer_or_a_disabled_connector_opens_nothing() {
    let m = callback(connector(true, Some(idp(None))), None, vec![ann()], false);
    let (err, _) = refused(
        m,
        CompleteSso {
            error: Some("access_denied".into()),
            code: None,
            ..complete_cmd()
        },
    );
    assert_eq!(
        err,
        AppError::Sso(SsoFailure::IdpDenied("access_denied".into()))
    );

    let m = callback(connector(true, Some(idp(None))), None, vec![ann()], false);
    let (err, _) = refused(
        m,
        CompleteSso {
            iss: Some("https://evil.example".into()),
            ..complete_cmd()
        },
    );
    assert!(
        matches!(err, AppError::Sso(SsoFailure::InvalidIdToken(_))),
        "{err:?}"
    );

    let m = callback(connector(false, Some(idp(None))), None, vec![ann()], false);
    let (err, _) = refused(m, complete_cmd());
    assert_eq!(err, AppError::Sso(SsoFailure::NotConfigured));
}

#[test]
fn every_bad_identity_is_refused_with_its_reason() {
    let cases: Vec<(Result<IdpIdentity, IdpError>, Vec<_>, SsoFailure)> = vec![
        (
            Err(IdpError::InvalidIdToken("bad signature".into())),
            vec![ann()],
            SsoFailure::InvalidIdToken("bad signature".into()),
        ),
        (
            Err(IdpError::Refused("invalid_grant".into())),
            vec![ann()],
            SsoFailure::CodeRefused("invalid_grant".into()),
        ),
        (
            Err(IdpError::Unavailable("timed out".into())),
            vec![ann()],
            SsoFailure::IdpUnavailable("timed out".into()),
        ),
        (
            Ok(identity(None, None)),
            vec![ann()],
            SsoFailure::EmailMissing("email".into()),
        ),
        (
            Ok(identity(Some("ann@evil.example"), Some(true))),
            vec![ann()],
            SsoFailure::EmailOutsideDomain("corp.example".into()),
        ),
        (
            Ok(identity(Some("ann@sub.corp.example"), Some(true))),
            vec![ann()],
            SsoFailure::EmailOutsideDomain("corp.example".into()),
        ),
        (
            Ok(identity(Some("ann@corp.e\u{212a}ample"), Some(true))),
            vec![ann()],
            SsoFailure::EmailMissing("email".into()),
        ),
        (
            Ok(identity(Some("ann@@corp.example"), Some(true))),
            vec![ann()],
            SsoFailure::EmailMissing("email".into()),
        ),
        (
            Ok(identity(Some("ann@corp.example"), Some(false))),
            vec![ann()],
            SsoFailure::EmailNotVerified,
        ),
        (
            Ok(identity(Some("ann@corp.example"), Some(true))),
            vec![],
            SsoFailure::NoUser,
        ),
        (
            Ok(identity(Some("ann@corp.example"), Some(true))),
            vec![tessera_domain::user::User {
                status: UserStatus::Inactive,
                ..ann()
            }],
            SsoFailure::UserInactive,
        ),
        (
            Ok(identity(Some("ann@corp.example"), None)),
            vec![
                ann(),
                tessera_domain::user::User {
                    id: UserId(6),
                    ..ann()
                },
            ],
            SsoFailure::AmbiguousEmail,
        ),
    ];
    assert!(
        !AppError::Sso(SsoFailure::IdpUnavailable("10.0.0.7:443 refused".into()))
            .to_string()
            .contains("10.0.0.7"),
        "the caller is not told about the network"
    );
    for (redeemed, users, failure) in cases {
        let m = callback(
            connector(true, Some(idp(None))),
            Some(redeemed),
            users,
            false,
        );
        let (err, audited) = refused(m, complete_cmd());
        assert_eq!(err, AppError::Sso(failure.clone()));
        assert_eq!(audited.len(), 1, "{failure:?}");
        assert_eq!(audited[0].action, "sso.login");
        assert_eq!(audited[0].details["reason"], failure.audited());
    }
}

#[test]
fn the_users_email_opens_an_sso_session_audited_as_sso_login() {
    let mut m = callback(
        connector(true, Some(idp(None))),
        Some(Ok(identity(Some("ANN@corp.example"), Some(true)))),
        vec![ann()],
        true,
    );
    let audited = refusals(&mut m);
    let done = m.app().complete_sso(&meta(), complete_cmd()).unwrap();
    assert_eq!(done.session.user_id, UserId(5));
    assert_eq!(done.return_to, ReturnTo::Page);
    let audited = audited.lock().unwrap();
    let login = audited.iter().find(|r| r.action == "sso.login").unwrap();
    assert_eq!(login.outcome, Outcome::Success);
    assert_eq!(login.details["subject"], "sub-1");
}

#[test]
fn a_first_sign_in_creates_the_user_only_when_the_connector_says_with_its_role() {
    let mut m = callback(
        connector(true, Some(idp(Some(ids::DEVELOPER)))),
        Some(Ok(identity(Some("new.person@corp.example"), Some(true)))),
        vec![],
        true,
    );
    m.users
        .expect_create_user_unless_email_taken()
        .withf(|u, _, a| {
            u.roles == [ids::DEVELOPER]
                && u.password_hash.is_none()
                && u.email.as_deref() == Some("new.person@corp.example")
                && u.login.as_str().starts_with("new.person-")
                && a.actor.kind == tessera_domain::audit::ActorKind::System
        })
        .times(1)
        .returning(|u, _, _| {
            Ok(Some(tessera_domain::user::User {
                login: u.login.clone(),
                email: u.email.clone(),
                roles: u.roles.clone(),
                ..user(9, "placeholder", &[])
            }))
        });
    refusals(&mut m);
    let done = m.app().complete_sso(&meta(), complete_cmd()).unwrap();
    assert_eq!(done.session.user_id, UserId(9));
}
