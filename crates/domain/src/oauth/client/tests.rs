use super::*;
use crate::permissions::{Capability, Permission};
use proptest::prelude::*;

fn input() -> ClientInput {
    ClientInput {
        client_name: " Dashboard ".into(),
        grant_types: vec!["authorization_code".into()],
        response_types: vec!["code".into()],
        redirect_uris: vec!["https://app.example.com/callback".into()],
        scopes: vec!["user_management.read".into()],
        token_endpoint_auth_method: "client_secret_basic".into(),
        ..ClientInput::default()
    }
}

fn refused(change: impl FnOnce(&mut ClientInput)) -> String {
    let mut i = input();
    change(&mut i);
    ClientSettings::checked(i).unwrap_err().to_string()
}

#[test]
fn a_plain_client_is_checked_and_normalised() {
    let s = ClientSettings::checked(input()).unwrap();
    assert_eq!(s.client_name, "Dashboard");
    assert_eq!(s.grant_types, vec![GrantType::AuthorizationCode]);
    assert_eq!(s.response_types, vec![ResponseType::Code]);
    assert_eq!(
        s.scopes,
        vec![Scope::Permission(Permission::read(
            Capability::UserManagement
        ))]
    );
    assert_eq!(
        s.token_endpoint_auth_method,
        TokenEndpointAuthMethod::ClientSecretBasic
    );
    assert_eq!(ClientSettings::checked(s.to_input()).unwrap(), s);
}

#[test]
fn protocol_scopes_follow_the_grant_and_response_types() {
    let mut i = input();
    i.grant_types = vec!["refresh_token".into(), "authorization_code".into()];
    i.response_types = vec!["code".into(), "id_token".into()];
    let s = ClientSettings::checked(i).unwrap();
    let names: Vec<String> = s.scopes.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["openid", "offline_access", "user_management.read"]);
    assert_eq!(
        s.grant_types,
        vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
    );

    let mut i = input();
    i.scopes = vec![
        "openid".into(),
        "offline_access".into(),
        "email".into(),
        "user_management.read".into(),
    ];
    let s = ClientSettings::checked(i).unwrap();
    let names: Vec<String> = s.scopes.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        ["email", "user_management.read"],
        "without refresh_token and id_token the protocol scopes are removed"
    );
}

#[test]
fn each_rule_is_refused_by_field() {
    type Change = Box<dyn FnOnce(&mut ClientInput)>;
    let cases: Vec<(Change, &str)> = vec![
        (
            Box::new(|i| i.client_name = "  ".into()),
            "client_name: must be 1 to 100",
        ),
        (
            Box::new(|i| i.client_name = "x".repeat(101)),
            "client_name: must be 1 to 100",
        ),
        (
            Box::new(|i| i.client_name = "a\u{7}b".into()),
            "client_name: must not contain control",
        ),
        (
            Box::new(|i| i.grant_types = vec!["refresh_token".into()]),
            "grant_types: must include authorization_code",
        ),
        (
            Box::new(|i| i.grant_types = vec!["password".into()]),
            "grant_types: 'password' is not one of authorization_code, refresh_token",
        ),
        (
            Box::new(|i| i.response_types = vec!["id_token".into()]),
            "response_types: must include code",
        ),
        (
            Box::new(|i| i.response_types = vec!["code".into(), "token".into()]),
            "response_types: token (the implicit flow) is not supported",
        ),
        (
            Box::new(|i| i.token_endpoint_auth_method = "private_key_jwt".into()),
            "token_endpoint_auth_method: 'private_key_jwt' is not one of",
        ),
        (
            Box::new(|i| i.redirect_uris = vec![]),
            "redirect_uris: at least one",
        ),
        (
            Box::new(|i| i.redirect_uris = vec!["http://app.example.com/cb".into()]),
            "must be https (http only for a loopback host)",
        ),
        (
            Box::new(|i| i.redirect_uris = vec!["https://app.example.com/cb#x".into()]),
            "must not have a fragment",
        ),
        (
            Box::new(|i| i.redirect_uris = vec!["https://u:p@app.example.com/cb".into()]),
            "must not carry a user name",
        ),
        (
            Box::new(|i| i.redirect_uris = vec!["/relative".into()]),
            "is not an absolute URL",
        ),
        (
            Box::new(|i| i.redirect_uris = vec!["javascript:alert(1)".into()]),
            "redirect_uris:",
        ),
        (
            Box::new(|i| i.redirect_uris = vec!["com.example.app:/cb".into()]),
            "redirect_uris:",
        ),
        (
            Box::new(|i| i.redirect_uris = vec!["https://a.example/ b".into()]),
            "must not contain spaces",
        ),
        (
            Box::new(|i| {
                i.redirect_uris = (0..11).map(|n| format!("https://a{n}.example/")).collect()
            }),
            "redirect_uris: at most 10 entries",
        ),
        (
            Box::new(|i| i.redirect_uris = vec![format!("https://a.example/{}", "x".repeat(2000))]),
            "longer than 2000 bytes",
        ),
        (
            Box::new(|i| i.post_logout_redirect_uris = vec!["ftp://a.example/".into()]),
            "post_logout_redirect_uris:",
        ),
        (
            Box::new(|i| i.allowed_cors_origins = vec!["https://a.example/path".into()]),
            "allowed_cors_origins: 'https://a.example/path' must be an origin",
        ),
        (
            Box::new(|i| i.scopes = vec![]),
            "scopes: at least one scope",
        ),
        (
            Box::new(|i| i.scopes = vec!["user_management:read".into()]),
            "colon-delimited scopes are not accepted",
        ),
        (
            Box::new(|i| i.scopes = vec!["zones.read".into()]),
            "scopes: unknown scope 'zones.read'",
        ),
        (
            Box::new(|i| i.scopes = vec!["x".repeat(101)]),
            "is longer than 100 bytes",
        ),
        (
            Box::new(|i| i.scopes = vec!["email".into(); 201]),
            "scopes: at most 200 entries",
        ),
        (
            Box::new(|i| i.optional_scopes = vec!["email".into()]),
            "optional_scopes: email is not in scopes",
        ),
        (
            Box::new(|i| i.optional_scopes = vec!["offline".into()]),
            "optional_scopes: unknown scope 'offline'",
        ),
        (
            Box::new(|i| {
                i.response_types = vec!["code".into(), "id_token".into()];
                i.optional_scopes = vec!["openid".into()];
            }),
            "optional_scopes: openid cannot be optional",
        ),
        (
            Box::new(|i| i.logo_uri = Some("http://a.example/logo.png".into())),
            "logo_uri: 'http://a.example/logo.png' must be an https URL",
        ),
        (
            Box::new(|i| i.tos_uri = Some("nope".into())),
            "tos_uri: 'nope' is not an absolute URL",
        ),
    ];
    for (change, expected) in cases {
        let err = refused(change);
        assert!(
            err.contains(expected),
            "{err:?} should contain {expected:?}"
        );
    }
}

#[test]
fn loopback_http_redirects_are_allowed_and_duplicates_dropped() {
    let mut i = input();
    i.redirect_uris = vec![
        "http://127.0.0.1:8400/cb".into(),
        "http://[::1]/cb".into(),
        "http://localhost:9/cb".into(),
        "http://127.0.0.1:8400/cb".into(),
    ];
    i.allowed_cors_origins = vec!["https://app.example.com/".into()];
    i.optional_scopes = vec!["user_management.read".into()];
    let s = ClientSettings::checked(i).unwrap();
    assert_eq!(s.redirect_uris.len(), 3);
    assert_eq!(s.allowed_cors_origins, ["https://app.example.com"]);
    assert_eq!(s.optional_scopes.len(), 1);
    assert_eq!(s.logo_uri, None);
}

#[test]
fn scopes_left_empty_by_the_flows_are_refused() {
    let mut i = input();
    i.scopes = vec!["openid".into()];
    let err = ClientSettings::checked(i).unwrap_err();
    assert_eq!(
        err,
        DomainError::invalid("scopes", "at least one scope is required")
    );
}

#[test]
fn only_public_clients_hold_no_secret() {
    assert!(!TokenEndpointAuthMethod::None.is_confidential());
    assert!(TokenEndpointAuthMethod::ClientSecretPost.is_confidential());
    assert_eq!(Visibility::parse("public").unwrap(), Visibility::Public);
    assert!(Visibility::parse("hidden").is_err());
}

proptest! {
    /// Whatever is sent, checking never panics, and what passes is a fixed point whose
    /// redirect URIs all obey the rule and whose protocol scopes follow the flows.
    #[test]
    fn checked_settings_obey_every_rule(
        name in "\\PC{0,120}",
        uris in proptest::collection::vec(
            prop_oneof![
                Just("https://a.example/cb".to_owned()),
                Just("http://127.0.0.1:1/cb".to_owned()),
                Just("http://evil.example/cb".to_owned()),
                Just("https://a.example/cb#f".to_owned()),
                "\\PC{0,40}",
            ],
            0..12,
        ),
        scopes in proptest::collection::vec(
            prop_oneof![
                Just("openid".to_owned()),
                Just("offline_access".to_owned()),
                Just("usage.write".to_owned()),
                Just("usage:write".to_owned()),
                "[a-z_.]{0,20}",
            ],
            0..8,
        ),
        refresh in any::<bool>(),
        id_token in any::<bool>(),
    ) {
        let mut i = input();
        i.client_name = name;
        i.redirect_uris = uris;
        i.scopes = scopes;
        if refresh { i.grant_types.push("refresh_token".into()); }
        if id_token { i.response_types.push("id_token".into()); }
        if let Ok(s) = ClientSettings::checked(i) {
            prop_assert_eq!(ClientSettings::checked(s.to_input()).unwrap(), s.clone());
            for uri in &s.redirect_uris {
                let url = url::Url::parse(uri).unwrap();
                prop_assert!(url.fragment().is_none());
                prop_assert!(url.scheme() == "https"
                    || is_loopback(&url.host().unwrap()));
            }
            let set = s.scope_set();
            prop_assert_eq!(set.has(IdentityScope::OfflineAccess), refresh);
            prop_assert_eq!(set.has(IdentityScope::OpenId), id_token);
            prop_assert!(!s.client_name.is_empty());
        }
    }
}
