use super::*;

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn uris() -> Vec<String> {
    vec![
        "https://app.example/callback".to_owned(),
        "https://app.example/other".to_owned(),
    ]
}

fn rules(uris: &[String], public: bool) -> ClientRules<'_> {
    ClientRules {
        redirect_uris: uris,
        scopes: ScopeSet::parse("openid email offline_access user_management.read").unwrap(),
        public,
        allows_code: true,
    }
}

fn params() -> AuthorizeParams {
    AuthorizeParams {
        client_id: Some("c1".into()),
        redirect_uri: Some("https://app.example/callback".into()),
        response_type: Some("code".into()),
        scope: Some("openid user_management.read".into()),
        state: Some("xyz".into()),
        code_challenge: Some(CHALLENGE.into()),
        code_challenge_method: Some("S256".into()),
        nonce: Some("n-0S6_WzA2Mj".into()),
    }
}

fn redirect_code(e: AuthorizeError) -> (AuthorizeErrorCode, Option<String>) {
    match e {
        AuthorizeError::Redirect(r) => {
            assert_eq!(r.redirect_uri, "https://app.example/callback");
            (r.code, r.state)
        }
        AuthorizeError::Page(p) => panic!("a page error: {p:?}"),
    }
}

#[test]
fn a_good_request_is_taken_whole() {
    let uris = uris();
    let req = check_request(&params(), rules(&uris, true)).unwrap();
    assert_eq!(req.redirect_uri, "https://app.example/callback");
    assert!(req.redirect_uri_given);
    assert_eq!(req.state.as_deref(), Some("xyz"));
    assert_eq!(req.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
    assert_eq!(req.code_challenge.unwrap().as_str(), CHALLENGE);
    assert_eq!(req.scopes.to_string(), "openid user_management.read");
}

#[test]
fn a_redirect_uri_must_match_a_registered_one_exactly_and_is_never_redirected_to_otherwise() {
    let uris = uris();
    for bad in [
        "https://app.example/callback/",
        "https://app.example/callback?x=1",
        "https://APP.example/callback",
        "https://app.example/callbac",
        "https://app.example/callback#f",
        "https://evil.example/callback",
        "",
    ] {
        let p = AuthorizeParams {
            redirect_uri: Some(bad.into()),
            ..params()
        };
        assert_eq!(
            check_request(&p, rules(&uris, true)).unwrap_err(),
            AuthorizeError::Page(PageError::BadRedirectUri),
            "{bad}"
        );
    }
    // Missing while the client has two: which one cannot be told.
    let p = AuthorizeParams {
        redirect_uri: None,
        ..params()
    };
    assert_eq!(
        check_request(&p, rules(&uris, true)).unwrap_err(),
        AuthorizeError::Page(PageError::BadRedirectUri)
    );
    // Missing with one registered: that one, and the token request need not repeat it.
    let one = vec!["https://app.example/callback".to_owned()];
    let req = check_request(&p, rules(&one, true)).unwrap();
    assert_eq!(req.redirect_uri, "https://app.example/callback");
    assert!(!req.redirect_uri_given);
    // A bad redirect URI wins over every other error: nothing goes to an untrusted address.
    let worst = AuthorizeParams {
        redirect_uri: Some("https://evil.example/".into()),
        response_type: Some("token".into()),
        scope: Some("nope".into()),
        ..params()
    };
    assert_eq!(
        check_request(&worst, rules(&uris, true)).unwrap_err(),
        AuthorizeError::Page(PageError::BadRedirectUri)
    );
    let no_client = AuthorizeParams {
        client_id: None,
        ..params()
    };
    assert_eq!(
        check_request(&no_client, rules(&uris, true)).unwrap_err(),
        AuthorizeError::Page(PageError::UnknownClient)
    );
}

#[test]
fn other_errors_go_back_to_the_client_with_its_state() {
    let uris = uris();
    let cases: Vec<(AuthorizeParams, AuthorizeErrorCode)> = vec![
        (
            AuthorizeParams {
                response_type: Some("token".into()),
                ..params()
            },
            AuthorizeErrorCode::UnsupportedResponseType,
        ),
        (
            AuthorizeParams {
                response_type: None,
                ..params()
            },
            AuthorizeErrorCode::InvalidRequest,
        ),
        (
            AuthorizeParams {
                scope: Some("openid user_management.write".into()),
                ..params()
            },
            AuthorizeErrorCode::InvalidScope,
        ),
        (
            AuthorizeParams {
                scope: Some("openid nothing.read".into()),
                ..params()
            },
            AuthorizeErrorCode::InvalidScope,
        ),
        (
            AuthorizeParams {
                scope: None,
                ..params()
            },
            AuthorizeErrorCode::InvalidScope,
        ),
        (
            AuthorizeParams {
                scope: Some("  ".into()),
                ..params()
            },
            AuthorizeErrorCode::InvalidScope,
        ),
        (
            AuthorizeParams {
                code_challenge: None,
                code_challenge_method: None,
                ..params()
            },
            AuthorizeErrorCode::InvalidRequest,
        ),
        (
            AuthorizeParams {
                code_challenge_method: Some("plain".into()),
                ..params()
            },
            AuthorizeErrorCode::InvalidRequest,
        ),
        (
            AuthorizeParams {
                code_challenge_method: None,
                ..params()
            },
            AuthorizeErrorCode::InvalidRequest,
        ),
        (
            AuthorizeParams {
                code_challenge: Some("abc".into()),
                ..params()
            },
            AuthorizeErrorCode::InvalidRequest,
        ),
        (
            AuthorizeParams {
                nonce: Some("n".repeat(MAX_STATE_LEN + 1)),
                ..params()
            },
            AuthorizeErrorCode::InvalidRequest,
        ),
    ];
    for (p, want) in cases {
        let (code, state) = redirect_code(check_request(&p, rules(&uris, true)).unwrap_err());
        assert_eq!(code, want, "{p:?}");
        assert_eq!(state.as_deref(), Some("xyz"));
    }
    let mut no_code = rules(&uris, false);
    no_code.allows_code = false;
    let (code, _) = redirect_code(check_request(&params(), no_code).unwrap_err());
    assert_eq!(code, AuthorizeErrorCode::UnauthorizedClient);
    // A state too long to send back is refused without it.
    let long = AuthorizeParams {
        state: Some("s".repeat(MAX_STATE_LEN + 1)),
        ..params()
    };
    let (code, state) = redirect_code(check_request(&long, rules(&uris, true)).unwrap_err());
    assert_eq!((code, state), (AuthorizeErrorCode::InvalidRequest, None));
}

#[test]
fn a_confidential_client_may_go_without_pkce_but_never_with_plain() {
    let uris = uris();
    let p = AuthorizeParams {
        code_challenge: None,
        code_challenge_method: None,
        ..params()
    };
    let req = check_request(&p, rules(&uris, false)).unwrap();
    assert_eq!(req.code_challenge, None);
    let plain = AuthorizeParams {
        code_challenge_method: Some("plain".into()),
        ..params()
    };
    let (code, _) = redirect_code(check_request(&plain, rules(&uris, false)).unwrap_err());
    assert_eq!(code, AuthorizeErrorCode::InvalidRequest);
}
