//! Use-case tests of the authorization code flow over mocked ports: the authorization request
//! against its client, what consent can grant, the code's bindings, and every refusal of the
//! code and refresh exchanges (the ones before any token is signed; the e2e tests sign).

use std::sync::Arc;

use chrono::TimeDelta;
use parking_lot::Mutex;
use tessera_domain::Secret;
use tessera_domain::audit::{AuditRecord, RequestMeta};
use tessera_domain::ids::{Hex32, OAuthClientId, UserId};
use tessera_domain::oauth::authorize::{AuthorizeError, AuthorizeErrorCode, PageError};
use tessera_domain::oauth::code::CODE_TTL;
use tessera_domain::oauth::{
    AuthorizationCode, AuthorizeParams, ClientInput, ClientSettings, CodeChallenge, CodeRedemption,
    Grant, GrantId, OAuthClient, RefreshToken, ScopeSet, TokenEndpointAuthMethod, Visibility,
};
use tessera_domain::roles::ids;

use super::*;
use crate::auth::secret_digest;
use crate::oauth::OAuthError;
use crate::testing::{ACME, Mocks, now, principal, stored_session};

const CLIENT: OAuthClientId = OAuthClientId(Hex32([0xc1; 16]));
const SECRET: &str = "the-client-secret";
const REDIRECT: &str = "https://app.example/cb";
const VERIFIER: &str = "a-verifier-of-forty-three-characters-or-more-0123";
const GRANT: &str = "67676767676767676767676767676767";

fn meta() -> RequestMeta {
    RequestMeta::default()
}

fn client(auth: &str) -> OAuthClient {
    let settings = ClientSettings::checked(ClientInput {
        client_name: "Example".into(),
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        response_types: vec!["code".into(), "id_token".into()],
        redirect_uris: vec![REDIRECT.into(), "https://app.example/other".into()],
        scopes: vec![
            "openid".into(),
            "offline_access".into(),
            "user_management.write".into(),
        ],
        token_endpoint_auth_method: auth.into(),
        ..ClientInput::default()
    })
    .unwrap();
    let confidential = settings.token_endpoint_auth_method.is_confidential();
    OAuthClient {
        id: CLIENT,
        account_id: ACME,
        settings,
        visibility: Visibility::Private,
        secret_digest: confidential.then(|| secret_digest(&Secret::new(SECRET))),
        previous_secret_digest: None,
        created_at: now(),
        updated_at: now(),
        promoted_at: None,
    }
}

fn with_client(m: &mut Mocks, auth: &'static str) {
    m.oauth_clients
        .expect_find_oauth_client()
        .returning(move |id| Ok((id == CLIENT).then(|| client(auth))));
}

fn params(scope: &str) -> AuthorizeParams {
    AuthorizeParams {
        client_id: Some(CLIENT.to_string()),
        redirect_uri: Some(REDIRECT.into()),
        response_type: Some("code".into()),
        scope: Some(scope.into()),
        state: Some("s".into()),
        code_challenge: Some(CodeChallenge::of_verifier(VERIFIER).as_str().to_owned()),
        code_challenge_method: Some("S256".into()),
        nonce: Some("n".into()),
    }
}

#[test]
fn an_unknown_client_is_a_page_error_and_a_known_one_gets_its_rules() {
    let mut m = Mocks::new();
    with_client(&mut m, "none");
    let app = m.app();
    let unknown = AuthorizeParams {
        client_id: Some("ffffffffffffffffffffffffffffffff".into()),
        ..params("openid")
    };
    assert_eq!(
        app.check_authorization(&unknown).unwrap(),
        Err(AuthorizeError::Page(PageError::UnknownClient))
    );
    let malformed = AuthorizeParams {
        client_id: Some("not-an-id".into()),
        ..params("openid")
    };
    assert_eq!(
        app.check_authorization(&malformed).unwrap(),
        Err(AuthorizeError::Page(PageError::UnknownClient))
    );
    // A public client without PKCE: refused to its redirect URI.
    let no_pkce = AuthorizeParams {
        code_challenge: None,
        code_challenge_method: None,
        ..params("openid")
    };
    match app.check_authorization(&no_pkce).unwrap() {
        Err(AuthorizeError::Redirect(r)) => {
            assert_eq!(r.code, AuthorizeErrorCode::InvalidRequest);
        }
        other => panic!("{other:?}"),
    }
    // A scope beyond the client's.
    match app.check_authorization(&params("openid email")).unwrap() {
        Err(AuthorizeError::Redirect(r)) => assert_eq!(r.code, AuthorizeErrorCode::InvalidScope),
        other => panic!("{other:?}"),
    }
    let ok = app
        .check_authorization(&params("openid user_management.write"))
        .unwrap()
        .unwrap();
    assert_eq!(ok.client_name, "Example");
    assert_eq!(ok.request.client_id, CLIENT.to_string());
}

#[test]
fn consent_grants_only_what_the_user_holds_plus_identity_scopes() {
    let mut m = Mocks::new();
    with_client(&mut m, "none");
    let app = m.app();
    let request = app
        .check_authorization(&params("openid offline_access user_management.write"))
        .unwrap()
        .unwrap()
        .request;
    // A Developer does not manage users.
    let developer = principal(2, &[ids::DEVELOPER]);
    let consent = app.consent(&developer, &request).unwrap();
    assert_eq!(
        consent.granted,
        ScopeSet::parse("openid offline_access").unwrap()
    );
    let write = consent
        .scopes
        .iter()
        .find(|l| l.scope.to_string() == "user_management.write")
        .unwrap();
    assert!(!write.grantable);
    let admin = principal(3, &[ids::ADMINISTRATOR]);
    assert_eq!(
        app.consent(&admin, &request).unwrap().granted,
        request.scopes
    );
    // Only a person's session consents: not an access key.
    let key = crate::testing::access_key_principal(3, &[ids::ADMINISTRATOR]);
    assert!(matches!(
        app.consent(&key, &request),
        Err(AppError::Forbidden(_))
    ));
}

#[test]
fn an_approval_records_the_grant_and_a_code_bound_to_the_request_never_audited() {
    let mut m = Mocks::new();
    with_client(&mut m, "none");
    m.ids.expect_hex32().returning(|| Hex32([0x67; 16]));
    m.ids
        .expect_secret()
        .returning(|| Secret::new("R".repeat(40)));
    let signed_in = now() - TimeDelta::minutes(3);
    m.sessions.expect_find_session().returning(move |_| {
        Ok(Some(stored_session(
            1,
            2,
            signed_in,
            now() + TimeDelta::hours(1),
        )))
    });
    let grants: Arc<Mutex<Vec<Grant>>> = Arc::default();
    let g = grants.clone();
    m.oauth_tokens
        .expect_create_grant()
        .returning(move |grant, _| {
            g.lock().push(grant.clone());
            Ok(())
        });
    let codes: Arc<Mutex<Vec<AuthorizationCode>>> = Arc::default();
    let c = codes.clone();
    m.oauth_flow.expect_store_code().returning(move |code| {
        c.lock().push(code.clone());
        Ok(())
    });
    let audit: Arc<Mutex<Vec<AuditRecord>>> = Arc::default();
    let a = audit.clone();
    m.audit.expect_append_audit().returning(move |r| {
        a.lock().push(r.clone());
        Ok(())
    });
    let app = m.app();
    let request = app
        .check_authorization(&params("openid user_management.write"))
        .unwrap()
        .unwrap()
        .request;
    let developer = principal(2, &[ids::DEVELOPER]);
    let code = app
        .approve_authorization(&developer, &Secret::new("tss_x"), &request, &meta())
        .unwrap();
    assert_eq!(code.expose(), format!("tsc_{}", "R".repeat(40)));
    let granted = ScopeSet::parse("openid").unwrap();
    assert_eq!(grants.lock()[0].scopes, granted);
    assert_eq!(grants.lock()[0].user_id, UserId(2));
    let stored = codes.lock()[0].clone();
    assert_eq!(stored.digest, secret_digest(&code));
    assert_eq!(stored.client_id, CLIENT.to_string());
    assert_eq!(stored.grant_id, GRANT);
    assert_eq!(stored.redirect_uri, REDIRECT);
    assert!(stored.redirect_uri_given);
    assert_eq!(stored.code_challenge, request.code_challenge);
    assert_eq!(stored.nonce.as_deref(), Some("n"));
    assert_eq!(stored.scopes, granted);
    assert_eq!(stored.auth_time, signed_in);
    assert_eq!(stored.expires_at - stored.created_at, CODE_TTL);
    assert!(CODE_TTL >= TimeDelta::seconds(60) && CODE_TTL <= TimeDelta::minutes(10));
    let text = format!("{:?}", audit.lock());
    assert!(text.contains("oauth.code.issue"));
    assert!(!text.contains(&"R".repeat(40)), "no code in the audit");
}

#[test]
fn a_session_that_is_gone_or_anothers_cannot_approve() {
    let mut m = Mocks::new();
    with_client(&mut m, "none");
    m.sessions.expect_find_session().returning(|_| {
        Ok(Some(stored_session(
            1,
            9,
            now(),
            now() + TimeDelta::hours(1),
        )))
    });
    let app = m.app();
    let request = app
        .check_authorization(&params("openid"))
        .unwrap()
        .unwrap()
        .request;
    let err = app
        .approve_authorization(&principal(2, &[]), &Secret::new("tss_x"), &request, &meta())
        .unwrap_err();
    assert!(matches!(err, AppError::Unauthenticated(_)), "{err:?}");
}

fn code(expires_in: i64, challenge: Option<&str>) -> AuthorizationCode {
    AuthorizationCode {
        digest: secret_digest(&Secret::new("tsc_code")),
        client_id: CLIENT.to_string(),
        grant_id: GRANT.into(),
        account_id: ACME,
        user_id: UserId(2),
        redirect_uri: REDIRECT.into(),
        redirect_uri_given: true,
        code_challenge: challenge.map(CodeChallenge::of_verifier),
        nonce: None,
        scopes: ScopeSet::parse("openid").unwrap(),
        auth_time: now(),
        created_at: now(),
        expires_at: now() + TimeDelta::seconds(expires_in),
    }
}

fn exchange(auth: TokenEndpointAuthMethod, verifier: Option<&str>, uri: &str) -> CodeExchange {
    CodeExchange {
        client: ClientCredentials {
            client_id: CLIENT.to_string(),
            secret: (auth != TokenEndpointAuthMethod::None).then(|| Secret::new(SECRET)),
            method: auth,
        },
        code: Secret::new("tsc_code"),
        redirect_uri: Some(uri.into()),
        code_verifier: verifier.map(str::to_owned),
        issuer: "https://iam.example".into(),
    }
}

fn invalid_grant(err: &AppError) -> bool {
    matches!(err, AppError::OAuth(OAuthError::InvalidGrant(_)))
}

fn live_grant(m: &mut Mocks) {
    m.oauth_tokens.expect_get_grant().returning(|account, id| {
        Ok(Grant {
            id,
            account_id: account,
            user_id: UserId(2),
            client_id: CLIENT.to_string(),
            scopes: ScopeSet::parse("openid").unwrap(),
            created_at: now(),
            revoked_at: None,
        })
    });
}

#[test]
fn a_replayed_code_revokes_its_grant_and_its_tokens() {
    let mut m = Mocks::new();
    with_client(&mut m, "client_secret_basic");
    live_grant(&mut m);
    m.oauth_flow
        .expect_redeem_code()
        .returning(|_, _| Ok(CodeRedemption::Replayed(code(60, None))));
    m.oauth_flow
        .expect_spend_grant()
        .withf(|grant, _| grant == GRANT)
        .times(1)
        .returning(|_, _| Ok(2));
    m.oauth_tokens
        .expect_revoke_grant()
        .withf(|account, id, _, _| *account == ACME && *id == GrantId::parse(GRANT).unwrap())
        .times(1)
        .returning(|_, _, _, _| Ok(true));
    m.audit.expect_append_audit().returning(|_| Ok(()));
    let app = m.app();
    let err = app
        .exchange_code(
            &exchange(TokenEndpointAuthMethod::ClientSecretBasic, None, REDIRECT),
            &meta(),
        )
        .unwrap_err();
    assert!(invalid_grant(&err), "{err:?}");
}

#[test]
fn an_expired_foreign_or_misdirected_code_or_a_wrong_verifier_is_refused_without_tokens() {
    let basic = TokenEndpointAuthMethod::ClientSecretBasic;
    let cases: Vec<(AuthorizationCode, CodeExchange, &str)> = vec![
        (code(-1, None), exchange(basic, None, REDIRECT), "expired"),
        (
            AuthorizationCode {
                client_id: "another".into(),
                ..code(60, None)
            },
            exchange(basic, None, REDIRECT),
            "another client's",
        ),
        (
            code(60, None),
            exchange(basic, None, "https://app.example/other"),
            "another redirect URI",
        ),
        (
            code(60, Some(VERIFIER)),
            exchange(basic, Some("x".repeat(43).as_str()), REDIRECT),
            "a wrong verifier",
        ),
        (
            code(60, Some(VERIFIER)),
            exchange(basic, None, REDIRECT),
            "no verifier for a challenge",
        ),
        (
            code(60, None),
            exchange(basic, Some(VERIFIER), REDIRECT),
            "a verifier without a challenge",
        ),
    ];
    for (stored, x, why) in cases {
        let mut m = Mocks::new();
        with_client(&mut m, "client_secret_basic");
        m.oauth_flow
            .expect_redeem_code()
            .returning(move |_, _| Ok(CodeRedemption::Redeemed(stored.clone())));
        // No grant is revoked, no token issued: no other port is called.
        let app = m.app();
        let err = app.exchange_code(&x, &meta()).unwrap_err();
        assert!(invalid_grant(&err), "{why}: {err:?}");
    }
}

#[test]
fn a_client_must_authenticate_by_its_own_method() {
    let cases = [
        (
            "client_secret_basic",
            TokenEndpointAuthMethod::ClientSecretPost,
        ),
        (
            "client_secret_post",
            TokenEndpointAuthMethod::ClientSecretBasic,
        ),
        ("client_secret_basic", TokenEndpointAuthMethod::None),
    ];
    for (registered, used) in cases {
        let mut m = Mocks::new();
        with_client(&mut m, registered);
        let app = m.app();
        let err = app
            .exchange_code(&exchange(used, None, REDIRECT), &meta())
            .unwrap_err();
        assert!(
            matches!(err, AppError::OAuth(OAuthError::InvalidClient)),
            "{registered} by {used:?}: {err:?}"
        );
    }
    // A wrong secret.
    let mut m = Mocks::new();
    with_client(&mut m, "client_secret_basic");
    let app = m.app();
    let mut x = exchange(TokenEndpointAuthMethod::ClientSecretBasic, None, REDIRECT);
    x.client.secret = Some(Secret::new("wrong"));
    assert!(matches!(
        app.exchange_code(&x, &meta()).unwrap_err(),
        AppError::OAuth(OAuthError::InvalidClient)
    ));
}

fn refresh_token(used: bool) -> RefreshToken {
    RefreshToken {
        digest: secret_digest(&Secret::new("tsf_old")),
        grant_id: GRANT.into(),
        client_id: CLIENT.to_string(),
        account_id: ACME,
        user_id: UserId(2),
        scopes: ScopeSet::parse("openid offline_access").unwrap(),
        auth_time: now(),
        created_at: now(),
        expires_at: now() + TimeDelta::days(1),
        used_at: used.then(now),
    }
}

fn refresh(scope: Option<&str>) -> RefreshExchange {
    RefreshExchange {
        client: ClientCredentials {
            client_id: CLIENT.to_string(),
            secret: Some(Secret::new(SECRET)),
            method: TokenEndpointAuthMethod::ClientSecretBasic,
        },
        refresh_token: Secret::new("tsf_old"),
        scope: scope.map(str::to_owned),
        issuer: "https://iam.example".into(),
    }
}

#[test]
fn a_spent_refresh_token_revokes_its_live_grant_once() {
    let mut m = Mocks::new();
    with_client(&mut m, "client_secret_basic");
    live_grant(&mut m);
    m.oauth_flow
        .expect_find_refresh()
        .returning(|_| Ok(Some(refresh_token(true))));
    m.oauth_flow
        .expect_spend_grant()
        .times(1)
        .returning(|_, _| Ok(1));
    m.oauth_tokens
        .expect_revoke_grant()
        .times(1)
        .returning(|_, _, _, _| Ok(true));
    let audit: Arc<Mutex<Vec<AuditRecord>>> = Arc::default();
    let a = audit.clone();
    m.audit.expect_append_audit().returning(move |r| {
        a.lock().push(r.clone());
        Ok(())
    });
    let app = m.app();
    let err = app.refresh_tokens(&refresh(None), &meta()).unwrap_err();
    assert!(invalid_grant(&err), "{err:?}");
    let text = format!("{:?}", audit.lock());
    assert!(text.contains("oauth.refresh.reuse") && !text.contains("tsf_old"));
}

#[test]
fn a_refresh_may_narrow_the_scope_never_widen_it() {
    let mut m = Mocks::new();
    with_client(&mut m, "client_secret_basic");
    m.oauth_flow
        .expect_find_refresh()
        .returning(|_| Ok(Some(refresh_token(false))));
    // Refused before anything is spent: no rotation expected.
    let app = m.app();
    for wider in ["openid user_management.read", "nonsense"] {
        let err = app
            .refresh_tokens(&refresh(Some(wider)), &meta())
            .unwrap_err();
        assert!(
            matches!(err, AppError::OAuth(OAuthError::InvalidScope(_))),
            "{wider}: {err:?}"
        );
    }
}
