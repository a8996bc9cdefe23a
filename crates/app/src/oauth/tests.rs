//! Use-case tests of OAuth tokens: keys, minting, verification at use, grants, the machine
//! grants, introspection and revocation, over mocked ports.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};

use chrono::TimeDelta;
use parking_lot::Mutex;
use tessera_domain::Secret;
use tessera_domain::audit::{AuditRecord, RequestMeta};
use tessera_domain::ids::{Hex32, UserId};
use tessera_domain::keys::{AccessKey, KeyStatus, KeyValidity};
use tessera_domain::oauth::{Grant, GrantId, ScopeSet, SigningKey, TokenSubject, key_retention};
use tessera_domain::permissions::{Capability, Permission};
use tessera_domain::policy::{Reason, Request, decide};
use tessera_domain::ports::{AccessKeyAuth, KeyPairGenerator, RepoError};
use tessera_domain::roles::ids;

use super::*;
use crate::error::{AppError, AuthFailure};
use crate::infra::AwsLcKeyPairs;
use crate::testing::{ACME, Mocks, now, user};
use crate::{App, Credential, Presented};

const KEY_ID: &str = "AKABCDEFGHIJ01234567";
const ISSUER: &str = "https://iam.example";

#[derive(Default)]
struct Stored {
    keys: Vec<SigningKey>,
    revoked: HashSet<String>,
    grants: Vec<Grant>,
    audit: Vec<AuditRecord>,
    key_status: Option<KeyStatus>,
    key_expires: Option<chrono::DateTime<chrono::Utc>>,
    reads: usize,
}

type Shared = Arc<Mutex<Stored>>;

fn meta() -> RequestMeta {
    RequestMeta {
        client_ip: Some("192.0.2.1".into()),
        request_id: Some("r".into()),
    }
}

/// Mocks of an account with user 2 (User Manager, active) holding access key `KEY_ID`, and OAuth
/// storage in memory; the clock moves by the returned offset (seconds).
fn world(m: &mut Mocks) -> (Shared, Arc<AtomicI64>) {
    let stored: Shared = Arc::default();
    stored.lock().key_status = Some(KeyStatus::Active);
    let offset = Arc::new(AtomicI64::new(0));
    let o = offset.clone();
    m.clock.checkpoint();
    m.clock
        .expect_now()
        .returning(move || now() + TimeDelta::seconds(o.load(Ordering::SeqCst)));
    let n = Arc::new(AtomicU8::new(0));
    m.ids
        .expect_hex32()
        .returning(move || Hex32([n.fetch_add(1, Ordering::SeqCst); 16]));
    m.key_pairs.expect_p256().returning(|| AwsLcKeyPairs.p256());
    m.sealer
        .expect_seal()
        .returning(|purpose, p| [purpose.as_bytes(), b"|", p].concat());
    m.sealer.expect_open().returning(|purpose, s| {
        s.strip_prefix([purpose.as_bytes(), b"|"].concat().as_slice())
            .map(<[u8]>::to_vec)
            .ok_or(tessera_domain::ports::SealError::Corrupt)
    });
    let s = stored.clone();
    m.oauth_tokens.expect_signing_keys().returning(move || {
        s.lock().reads += 1;
        let mut keys = s.lock().keys.clone();
        keys.reverse();
        Ok(keys)
    });
    let s = stored.clone();
    m.oauth_tokens
        .expect_create_first_signing_key()
        .returning(move |key| {
            let mut st = s.lock();
            if st.keys.iter().any(|k| k.retired_at.is_none()) {
                return Ok(false);
            }
            st.keys.push(key.clone());
            Ok(true)
        });
    let s = stored.clone();
    m.oauth_tokens
        .expect_rotate_signing_key()
        .returning(move |key, _| {
            let mut st = s.lock();
            for k in &mut st.keys {
                k.retired_at.get_or_insert(key.created_at);
            }
            st.keys.push(key.clone());
            Ok(())
        });
    let s = stored.clone();
    m.oauth_tokens
        .expect_is_token_revoked()
        .returning(move |jti| Ok(s.lock().revoked.contains(jti)));
    let s = stored.clone();
    m.oauth_tokens
        .expect_revoke_token()
        .returning(move |_, jti, _, audit| {
            let mut st = s.lock();
            st.audit.push(audit.clone());
            Ok(st.revoked.insert(jti.to_owned()))
        });
    let s = stored.clone();
    m.oauth_tokens.expect_create_grant().returning(move |g, _| {
        s.lock().grants.push(g.clone());
        Ok(())
    });
    let s = stored.clone();
    m.oauth_tokens.expect_get_grant().returning(move |a, id| {
        s.lock()
            .grants
            .iter()
            .find(|g| g.account_id == a && g.id == id)
            .cloned()
            .ok_or(RepoError::NotFound)
    });
    let s = stored.clone();
    m.oauth_tokens
        .expect_revoke_grant()
        .returning(move |a, id, at, _| {
            let mut st = s.lock();
            let g = st
                .grants
                .iter_mut()
                .find(|g| g.account_id == a && g.id == id)
                .ok_or(RepoError::NotFound)?;
            Ok(g.revoked_at.replace(at).is_none())
        });
    let s = stored.clone();
    m.oauth_tokens
        .expect_revoke_client_grants()
        .returning(move |client, at, _| {
            let mut n = 0;
            for g in &mut s.lock().grants {
                if g.client_id == client && g.revoked_at.is_none() {
                    g.revoked_at = Some(at);
                    n += 1;
                }
            }
            Ok(n)
        });
    let s = stored.clone();
    m.audit.expect_append_audit().returning(move |r| {
        s.lock().audit.push(r.clone());
        Ok(())
    });
    let s = stored.clone();
    m.access_keys.expect_find_access_key().returning(move |_| {
        let expires_at = s.lock().key_expires;
        Ok(s.lock().key_status.map(|status| AccessKeyAuth {
            key: AccessKey {
                id: KEY_ID.parse().unwrap(),
                account_id: ACME,
                user_id: UserId(2),
                name: None,
                status,
                created_at: now(),
                validity: KeyValidity {
                    expires_at,
                    ..KeyValidity::default()
                },
                last_used_at: None,
                allowed_ips: Vec::new(),
                last_used_from: None,
            },
            secret_digest: crate::auth::secret_digest(&Secret::new("s3cret")),
        }))
    });
    m.accounts
        .expect_get_account()
        .returning(|_| Ok(crate::testing::account(ACME)));
    m.users
        .expect_get_user()
        .returning(|_, id| Ok(user(id.0, "manager01", &[ids::USER_MANAGER])));
    m.authz
        .expect_policy_rules_for_user()
        .returning(|_, _| Ok(vec![]));
    m.settings.oauth_issuer = Some(ISSUER.into());
    (stored, offset)
}

fn read_users() -> ScopeSet {
    ScopeSet::parse("user_management.read").unwrap()
}

fn key_token(app: &App, scopes: ScopeSet, audience: Option<&str>) -> IssuedAccessToken {
    app.issue_access_token(
        &NewAccessToken {
            account: ACME,
            subject: TokenSubject::AccessKey(KEY_ID.parse().unwrap()),
            client_id: None,
            scopes,
            grant: None,
            issuer: ISSUER.into(),
            audience: audience.map(str::to_owned),
        },
        &meta(),
    )
    .unwrap()
}

/// A token of user 2 issued to `client` from `grant`.
fn user_token(app: &App, grant: GrantId, client: &str, scopes: ScopeSet) -> IssuedAccessToken {
    app.issue_access_token(
        &NewAccessToken {
            account: ACME,
            subject: TokenSubject::User(UserId(2)),
            client_id: Some(client.into()),
            scopes,
            grant: Some(grant),
            issuer: ISSUER.into(),
            audience: None,
        },
        &meta(),
    )
    .unwrap()
}

fn bearer(token: &Secret) -> Presented {
    Presented::Bearer(token.clone())
}

fn refused(app: &App, token: &Secret) -> AuthFailure {
    match app.authenticate(&bearer(token), &meta()) {
        Err(AppError::Unauthenticated(f)) => f,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_first_key_is_made_once_and_signs() {
    let mut m = Mocks::new();
    let (stored, _) = world(&mut m);
    let app = m.app();
    app.ensure_signing_key().unwrap();
    app.ensure_signing_key().unwrap();
    assert_eq!(stored.lock().keys.len(), 1, "one current key");
    let key = stored.lock().keys[0].clone();
    assert!(
        !key.sealed_private.windows(10).any(|w| w == b"PRIVATE KE"),
        "sealed, never PEM"
    );
    assert!(
        key.sealed_private
            .starts_with(SigningKey::seal_purpose(&key.kid).as_bytes())
    );
    let jwks = app.jwks().unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["kid"], key.kid.as_str());
    assert!(jwks["keys"][0].get("d").is_none(), "public half only");
}

#[test]
fn a_token_acts_for_its_subject_within_its_scopes() {
    let mut m = Mocks::new();
    let (stored, _) = world(&mut m);
    let app = m.app();
    app.ensure_signing_key().unwrap();
    let issued = key_token(&app, read_users(), None);
    assert_eq!(issued.expires_in, 600);
    let header = jsonwebtoken::decode_header(issued.token.expose()).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(
        header.kid.as_deref(),
        Some(stored.lock().keys[0].kid.as_str())
    );
    let p = app.authenticate(&bearer(&issued.token), &meta()).unwrap();
    let Credential::OAuthToken(t) = &p.credential else {
        panic!("{:?}", p.credential)
    };
    assert_eq!(t.jti, issued.jti);
    assert_eq!(p.user_id, Some(UserId(2)));
    assert_eq!(p.subject.scope, Some(read_users().permissions()));
    let ask = |permission| {
        decide(
            &p.subject,
            &Request {
                account: ACME,
                permission,
                resource: None,
                ancestors: &[],
            },
        )
    };
    assert!(ask(Permission::read(Capability::UserManagement)).allowed);
    let write = Permission::write(Capability::UserManagement);
    assert_eq!(
        ask(write).reasons,
        vec![Reason::OutsideScope { permission: write }],
        "a User Manager may write users; the token may not"
    );
    // Audited with its jti, never the token.
    let audit = stored.lock().audit.clone();
    let issue = audit
        .iter()
        .find(|r| r.action == "oauth.token.issue")
        .unwrap();
    assert_eq!(
        issue.target.as_deref(),
        Some(format!("oauth_token:{}", issued.jti).as_str())
    );
    assert!(!format!("{audit:?}").contains(issued.token.expose()));
}

#[test]
fn expired_revoked_foreign_and_orphaned_tokens_are_refused() {
    let mut m = Mocks::new();
    let (stored, clock) = world(&mut m);
    let app = m.app();
    app.ensure_signing_key().unwrap();
    let expiring = key_token(&app, read_users(), None);
    let revoked = key_token(&app, read_users(), None);
    let elsewhere = key_token(&app, read_users(), Some("https://numbers.example"));
    let orphan = key_token(&app, read_users(), None);
    stored.lock().revoked.insert(revoked.jti.clone());
    assert_eq!(refused(&app, &revoked.token), AuthFailure::Failed);
    assert_eq!(refused(&app, &elsewhere.token), AuthFailure::Failed);
    // Garbage and tokens of another shape.
    for junk in ["", "a.b.c", "eyJ0eXAiOiJhdCtqd3QifQ.e30.AA"] {
        assert!(
            app.authenticate(&bearer(&Secret::new(junk)), &meta())
                .is_err()
        );
    }
    // A token whose key was deactivated, or has expired.
    stored.lock().key_status = Some(KeyStatus::Inactive);
    assert_eq!(refused(&app, &orphan.token), AuthFailure::Failed);
    stored.lock().key_status = Some(KeyStatus::Active);
    stored.lock().key_expires = Some(now() - TimeDelta::seconds(1));
    assert_eq!(refused(&app, &orphan.token), AuthFailure::KeyExpired);
    stored.lock().key_expires = None;
    // Signed by us, but naming another issuer than the configured one.
    let foreign = app
        .issue_access_token(
            &NewAccessToken {
                account: ACME,
                subject: TokenSubject::AccessKey(KEY_ID.parse().unwrap()),
                client_id: None,
                scopes: read_users(),
                grant: None,
                issuer: "https://elsewhere.example".into(),
                audience: None,
            },
            &meta(),
        )
        .unwrap();
    assert_eq!(refused(&app, &foreign.token), AuthFailure::Failed);
    // Past `exp` and the skew.
    clock.store(600 + 61, Ordering::SeqCst);
    assert_eq!(refused(&app, &expiring.token), AuthFailure::TokenExpired);
    assert!(
        app.counts()
            .auth_failures
            .iter()
            .any(|(k, n)| { *k == crate::FailureKind::RevokedAccessToken && *n >= 1 })
    );
}

#[test]
fn a_rotated_key_verifies_its_tokens_until_they_expire_then_leaves_the_key_set() {
    let mut m = Mocks::new();
    let (stored, clock) = world(&mut m);
    let app = m.app();
    app.ensure_signing_key().unwrap();
    let before = key_token(&app, read_users(), None);
    let old = stored.lock().keys[0].kid.clone();
    let new = app.rotate_signing_key().unwrap();
    assert_ne!(old, new);
    let after = key_token(&app, read_users(), None);
    let kid = |t: &IssuedAccessToken| jsonwebtoken::decode_header(t.token.expose()).unwrap().kid;
    assert_eq!(kid(&before).as_deref(), Some(old.as_str()));
    assert_eq!(kid(&after).as_deref(), Some(new.as_str()));
    let kids = |app: &App| -> Vec<String> {
        app.jwks().unwrap()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(kids(&app), vec![new.clone(), old.clone()], "current first");
    assert!(app.authenticate(&bearer(&before.token), &meta()).is_ok());
    clock.store(key_retention().num_seconds(), Ordering::SeqCst);
    assert_eq!(kids(&app), vec![new], "gone once its tokens have expired");
}

#[test]
fn grant_tokens_die_with_their_grant() {
    let mut m = Mocks::new();
    let (stored, _) = world(&mut m);
    let app = m.app();
    app.ensure_signing_key().unwrap();
    let scopes = ScopeSet::parse("openid email user_management.read").unwrap();
    let grant = app
        .create_grant(ACME, UserId(2), "client-1", scopes, &meta())
        .unwrap();
    let mint = |client: &str| user_token(&app, grant.id, client, scopes);
    let good = mint("client-1");
    let p = app.authenticate(&bearer(&good.token), &meta()).unwrap();
    let info = app.userinfo(&p).unwrap();
    assert_eq!(info["sub"], "2");
    assert!(info.get("email").is_some());
    assert!(info.get("preferred_username").is_none(), "no profile scope");
    // The grant names another client: refused.
    assert_eq!(refused(&app, &mint("client-2").token), AuthFailure::Failed);
    let later = mint("client-1");
    assert!(
        app.revoke_grant(
            ACME,
            grant.id,
            crate::oauth::subject_actor(&TokenSubject::User(UserId(2))),
            &meta()
        )
        .unwrap()
    );
    assert!(
        !app.revoke_grant(
            ACME,
            grant.id,
            crate::oauth::subject_actor(&TokenSubject::User(UserId(2))),
            &meta()
        )
        .unwrap(),
        "twice changes nothing"
    );
    assert_eq!(refused(&app, &later.token), AuthFailure::Failed);
    assert!(stored.lock().grants[0].revoked_at.is_some());
    // Deleting a client revokes its grants: their tokens are refused.
    let other = app
        .create_grant(ACME, UserId(2), "client-9", scopes, &meta())
        .unwrap();
    let token = app
        .issue_access_token(
            &NewAccessToken {
                account: ACME,
                subject: TokenSubject::User(UserId(2)),
                client_id: Some("client-9".into()),
                scopes,
                grant: Some(other.id),
                issuer: ISSUER.into(),
                audience: None,
            },
            &meta(),
        )
        .unwrap();
    let actor = crate::oauth::subject_actor(&TokenSubject::User(UserId(1)));
    assert_eq!(
        app.revoke_client_grants(ACME, "client-9", actor, &meta())
            .unwrap(),
        1
    );
    assert_eq!(refused(&app, &token.token), AuthFailure::Failed);
}

#[test]
fn machine_tokens_refuse_scopes_the_key_does_not_hold() {
    let mut m = Mocks::new();
    world(&mut m);
    let app = m.app();
    app.ensure_signing_key().unwrap();
    let grant = MachineGrant::ClientCredentials {
        key_id: KEY_ID.into(),
        secret: Secret::new("s3cret"),
    };
    let t = app
        .machine_token(&grant, None, None, ISSUER, &meta())
        .unwrap();
    assert!(
        t.scopes
            .contains(tessera_domain::oauth::Scope::Permission(Permission::read(
                Capability::UserManagement
            )))
    );
    assert!(
        !t.scopes
            .contains(tessera_domain::oauth::Scope::Permission(Permission::write(
                Capability::EnterpriseAccounts
            ))),
        "a User Manager's key holds no Enterprise Accounts"
    );
    for (scope, code) in [
        ("enterprise_accounts.write", "invalid_scope"),
        ("openid", "invalid_scope"),
        ("bogus", "invalid_scope"),
    ] {
        match app.machine_token(&grant, Some(scope), None, ISSUER, &meta()) {
            Err(AppError::OAuth(e)) => assert_eq!(e.code(), code, "{scope}"),
            other => panic!("{scope}: {other:?}"),
        }
    }
    let wrong = MachineGrant::ClientCredentials {
        key_id: KEY_ID.into(),
        secret: Secret::new("wrong"),
    };
    assert!(matches!(
        app.machine_token(&wrong, None, None, ISSUER, &meta()),
        Err(AppError::OAuth(OAuthError::InvalidClient))
    ));
    assert!(matches!(
        app.machine_token(&grant, None, Some("not a uri"), ISSUER, &meta()),
        Err(AppError::OAuth(OAuthError::InvalidRequest(_)))
    ));
}

#[test]
fn introspection_and_revocation_stay_inside_the_callers_account() {
    let mut m = Mocks::new();
    let (stored, _) = world(&mut m);
    let app = m.app();
    app.ensure_signing_key().unwrap();
    let issued = key_token(&app, read_users(), Some("https://numbers.example"));
    let same = crate::testing::access_key_principal(2, &[ids::DEVELOPER]);
    let mut stranger = crate::testing::principal(9, &[ids::OWNER]);
    stranger.account_id = tessera_domain::ids::AccountId(77);
    stranger.subject.account = stranger.account_id;
    let info = app.introspect(&same, issued.token.expose()).unwrap();
    assert_eq!(info.unwrap().claims.aud, "https://numbers.example");
    assert!(
        app.introspect(&stranger, issued.token.expose())
            .unwrap()
            .is_none()
    );
    assert!(app.introspect(&same, "garbage").unwrap().is_none());
    // A stranger's revocation is ignored; the owner's is kept.
    app.revoke_access_token(&stranger, issued.token.expose(), &meta())
        .unwrap();
    assert!(stored.lock().revoked.is_empty());
    let owner = crate::testing::principal(1, &[ids::OWNER]);
    app.revoke_access_token(&owner, issued.token.expose(), &meta())
        .unwrap();
    assert!(stored.lock().revoked.contains(&issued.jti));
    assert!(
        app.introspect(&same, issued.token.expose())
            .unwrap()
            .is_none()
    );
}

#[test]
fn id_tokens_are_signed_only_with_a_short_lifetime() {
    let mut m = Mocks::new();
    world(&mut m);
    let app = m.app();
    app.ensure_signing_key().unwrap();
    let t = now().timestamp();
    let signed = app
        .sign_id_token(&serde_json::json!({"iss": ISSUER, "sub": "2", "iat": t, "exp": t + 300}))
        .unwrap();
    let header = jsonwebtoken::decode_header(&signed).unwrap();
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    for bad in [
        serde_json::json!({"iat": t, "exp": t + 601}),
        serde_json::json!({"iat": t}),
        serde_json::json!({"iat": t, "exp": t - 1}),
    ] {
        assert!(app.sign_id_token(&bad).is_err(), "{bad}");
    }
    // An ID token is no access token: it does not authenticate.
    assert!(
        app.authenticate(&Presented::Bearer(Secret::new(signed)), &meta())
            .is_err()
    );
}

#[test]
fn unknown_key_ids_make_an_instance_read_the_keys_at_most_once_a_second() {
    let mut m = Mocks::new();
    let (stored, clock) = world(&mut m);
    let app = m.app();
    app.ensure_signing_key().unwrap();
    let pair = AwsLcKeyPairs.p256().unwrap();
    let forged = |n: i64| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.typ = Some("at+jwt".into());
        header.kid = Some(format!("unknown-{n}"));
        let t = now().timestamp();
        Secret::new(
            jsonwebtoken::encode(
                &header,
                &serde_json::json!({"iss": ISSUER, "iat": t, "exp": t + 60, "n": n}),
                &jsonwebtoken::EncodingKey::from_ec_pem(pair.private_pem.expose().as_bytes())
                    .unwrap(),
            )
            .unwrap(),
        )
    };
    let reads = || stored.lock().reads;
    let before = reads();
    for n in 0..5 {
        assert_eq!(refused(&app, &forged(n)), AuthFailure::Failed);
    }
    assert_eq!(reads(), before, "read just now: no reading again");
    clock.store(2, Ordering::SeqCst);
    for n in 5..10 {
        assert_eq!(refused(&app, &forged(n)), AuthFailure::Failed);
    }
    assert_eq!(reads(), before + 1, "one read for the lot");
}

#[test]
fn one_client_never_reads_nor_revokes_the_tokens_a_user_granted_another() {
    let mut m = Mocks::new();
    let (stored, _) = world(&mut m);
    let app = m.app();
    app.ensure_signing_key().unwrap();
    let scopes = ScopeSet::parse("openid").unwrap();
    let mint = |client: &str| {
        let grant = app
            .create_grant(ACME, UserId(2), client, scopes, &meta())
            .unwrap();
        user_token(&app, grant.id, client, scopes)
    };
    let first = mint("client-1");
    let second = mint("client-2");
    let other_client = app.authenticate(&bearer(&second.token), &meta()).unwrap();
    // Its own token is its own.
    assert!(
        app.introspect(&other_client, second.token.expose())
            .unwrap()
            .is_some()
    );
    // Not the token the user granted another client: neither described nor revoked.
    assert!(
        app.introspect(&other_client, first.token.expose())
            .unwrap()
            .is_none(),
        "client-2 reads client-1's token"
    );
    app.revoke_access_token(&other_client, first.token.expose(), &meta())
        .unwrap();
    assert!(
        !stored.lock().revoked.contains(&first.jti),
        "client-2 revoked client-1's token"
    );
    // A service key never acts as its owner: without roles it sees none of the owner's tokens.
    let key = crate::testing::key_principal(Some(2), &[ids::USER_MANAGER], &[]);
    assert!(
        app.introspect(&key, first.token.expose())
            .unwrap()
            .is_none(),
        "a role-less service key reads its owner's tokens"
    );
    app.revoke_access_token(&key, first.token.expose(), &meta())
        .unwrap();
    assert!(!stored.lock().revoked.contains(&first.jti));
    // The user itself (its session) reads and revokes every token it granted.
    let user = crate::testing::principal(2, &[ids::USER_MANAGER]);
    assert!(
        app.introspect(&user, first.token.expose())
            .unwrap()
            .is_some()
    );
    app.revoke_access_token(&user, first.token.expose(), &meta())
        .unwrap();
    assert!(stored.lock().revoked.contains(&first.jti));
}
