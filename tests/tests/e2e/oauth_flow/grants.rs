//! Refresh tokens, revocation, what a user can grant, deleted clients, the consent POST and
//! the sign-in continuation.

use super::*;

/// Refresh: each use returns a new token and spends the old; the old one again revokes the
/// grant: the newest refresh token and access token fail too. A refresh may narrow the scope,
/// never widen it.
async fn refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_grant(backend: DbBackend) {
    let Some(w) = World::new(backend, "client_secret_basic", &["Administrator"]).await else {
        return;
    };
    let code = w.code("openid offline_access user_management.read").await;
    let (_, first) = w.exchange(&code, VERIFIER).await;
    let r1 = first["refresh_token"].as_str().expect("refresh").to_owned();

    let (status, wider) = w
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &r1),
            ("scope", "openid user_management.write"),
        ])
        .await;
    assert_eq!(
        (status, error_of(&wider)),
        (400, "invalid_scope"),
        "{wider}"
    );
    let (status, narrower) = w
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &r1),
            ("scope", "openid"),
        ])
        .await;
    assert_eq!(status, 200, "{narrower}");
    assert_eq!(narrower["scope"], "openid");
    let r2 = narrower["refresh_token"]
        .as_str()
        .expect("a new one")
        .to_owned();
    assert_ne!(r1, r2);
    let (status, second) = w.refresh(&r2).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(
        second["scope"], "openid offline_access user_management.read",
        "the grant's scope, not the narrowed one"
    );
    let r3 = second["refresh_token"].as_str().unwrap().to_owned();
    let a3 = second["access_token"].as_str().unwrap().to_owned();
    assert_eq!(w.userinfo(&a3).await, 200);

    // r1 again: a replay. The grant goes: r3 and a3 fail too.
    let (status, replay) = w.refresh(&r1).await;
    assert_eq!(
        (status, error_of(&replay)),
        (400, "invalid_grant"),
        "{replay}"
    );
    let (status, newest) = w.refresh(&r3).await;
    assert_eq!(
        (status, error_of(&newest)),
        (400, "invalid_grant"),
        "{newest}"
    );
    assert_eq!(w.userinfo(&a3).await, 401);
    assert_eq!(
        w.app
            .audit_events(&w.owner, "oauth.refresh.reuse")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_grant_sqlite() {
    refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_grant(DbBackend::Sqlite).await;
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_grant_postgres() {
    refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_grant(DbBackend::Postgres).await;
}

/// `POST /oauth/revoke` with a refresh token and the client's credentials revokes the grant:
/// the refresh token and the access token fail at once; another client's revocation, or one
/// without credentials, changes nothing.
#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_grant_for_its_client_only() {
    let Some(w) = World::new(DbBackend::Sqlite, "client_secret_basic", &["Administrator"]).await
    else {
        return;
    };
    let code = w.code("openid offline_access").await;
    let (_, tokens) = w.exchange(&code, VERIFIER).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let revoke = |basic: Option<(String, String)>| {
        let mut req = w
            .http
            .post(w.app.url("/oauth/revoke"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={refresh}"));
        if let Some((id, secret)) = basic {
            req = req.basic_auth(id, Some(secret));
        }
        req.send()
    };
    // Without credentials: refused, nothing revoked.
    let res = revoke(None).await.unwrap();
    assert_eq!(res.status().as_u16(), 401);
    // Another client (of the same account): 200, and nothing revoked.
    let (other, other_secret) =
        create_client(&w.app, &w.owner, client_body("client_secret_basic", SCOPES)).await;
    let res = revoke(Some((other, other_secret.unwrap()))).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        w.userinfo(&access).await,
        200,
        "another client revokes nothing"
    );
    // Its own client: the grant goes.
    let res = revoke(Some((
        w.client_id.clone(),
        w.client_secret.clone().unwrap(),
    )))
    .await
    .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(w.userinfo(&access).await, 401);
    let (status, body) = w.refresh(&refresh).await;
    assert_eq!((status, error_of(&body)), (400, "invalid_grant"), "{body}");
    assert_eq!(
        w.app
            .audit_events(&w.owner, "oauth.refresh.revoke")
            .await
            .len(),
        1
    );
}

/// A scope whose permission the user does not hold is shown as not granted, and the tokens do
/// not carry it.
#[tokio::test]
async fn a_scope_the_user_does_not_hold_is_not_granted() {
    let Some(w) = World::new(DbBackend::Sqlite, "client_secret_basic", &["Developer"]).await else {
        return;
    };
    let (status, _, page) = w
        .authorize(&w.authorize_query("openid user_management.write", &[]))
        .await;
    assert_eq!(status, 200, "{page}");
    let refused = &page[page.find("id=\"refused\"").expect("a not-granted list")..];
    assert!(
        refused.contains("<code>user_management.write</code>"),
        "{page}"
    );
    let code = w.code("openid user_management.write").await;
    let (status, tokens) = w.exchange(&code, VERIFIER).await;
    assert_eq!(status, 200, "{tokens}");
    let scope = tokens["scope"].as_str().unwrap();
    assert!(!scope.contains("user_management.write"), "{scope}");
}

/// A deleted client can neither redeem a code it was given nor refresh.
#[tokio::test]
async fn a_deleted_client_can_neither_redeem_nor_refresh() {
    let Some(w) = World::new(DbBackend::Sqlite, "client_secret_basic", &["Administrator"]).await
    else {
        return;
    };
    let code = w.code("openid offline_access").await;
    let (_, tokens) = w
        .exchange(&w.code("openid offline_access").await, VERIFIER)
        .await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = w
        .app
        .call(
            "DELETE",
            &format!("/v1/accounts/1/oauth_clients/{}", w.client_id),
            Some(&w.owner),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = w.exchange(&code, VERIFIER).await;
    assert_eq!((status, error_of(&body)), (401, "invalid_client"), "{body}");
    let (status, body) = w.refresh(&refresh).await;
    assert_eq!((status, error_of(&body)), (401, "invalid_client"), "{body}");
    let (status, location, _) = w.authorize(&w.authorize_query("openid", &[])).await;
    assert_eq!((status, location), (400, None), "an unknown client now");
}

/// The consent POST needs the session's CSRF token, Tessera's own origin, and the binding of
/// the very request shown; each refusal issues no code.
#[tokio::test]
async fn the_consent_post_needs_its_csrf_token_origin_and_request_binding() {
    let Some(w) = World::new(DbBackend::Sqlite, "client_secret_basic", &["Administrator"]).await
    else {
        return;
    };
    let (_, _, page) = w
        .authorize(&w.authorize_query("openid user_management.read", &[]))
        .await;
    let own = w.app.base.clone();
    let cases: Vec<(&str, Tamper, Option<&str>)> = vec![
        (
            "no CSRF token",
            Box::new(|f| f.retain(|(n, _)| n != "csrf_token")),
            Some(&own),
        ),
        (
            "another session's CSRF token",
            Box::new(|f| {
                for (n, v) in f.iter_mut() {
                    if n == "csrf_token" {
                        *v = "AAAA".into();
                    }
                }
            }),
            Some(&own),
        ),
        (
            "another origin",
            Box::new(|_| {}),
            Some("https://evil.example"),
        ),
        (
            "a wider scope than shown",
            Box::new(|f| {
                for (n, v) in f.iter_mut() {
                    if n == "scope" {
                        *v = "openid user_management.write".into();
                    }
                }
            }),
            Some(&own),
        ),
        (
            "another redirect URI than shown",
            Box::new(|f| f.push(("redirect_uri".into(), "https://app.example/other".into()))),
            Some(&own),
        ),
        (
            "another state than shown",
            Box::new(|f| {
                for (n, v) in f.iter_mut() {
                    if n == "state" {
                        *v = "forged".into();
                    }
                }
            }),
            Some(&own),
        ),
    ];
    for (why, tamper, origin) in cases {
        let (status, location, _) = w.decide(&page, "allow", tamper, origin).await;
        assert!(
            location.is_none() && status == 403,
            "{why}: {status} {location:?}"
        );
    }
    assert!(
        w.app
            .audit_events(&w.owner, "oauth.code.issue")
            .await
            .is_empty()
    );
    // Without the cookie: no decision either.
    let res = w
        .http
        .post(w.app.url("/oauth/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("decision=allow")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    // Deny: access_denied to the client.
    let (status, location, _) = w.decide(&page, "deny", |_| {}, Some(&own)).await;
    assert_eq!(status, 302);
    let params = params_of(&location.unwrap());
    assert_eq!(
        (params["error"].as_str(), params["state"].as_str()),
        ("access_denied", "st-1")
    );
    // The untampered form still works.
    let (status, location, _) = w.decide(&page, "allow", |_| {}, Some(&own)).await;
    assert_eq!(status, 302);
    assert!(params_of(&location.unwrap()).contains_key("code"));
}

/// Without a session the browser goes to sign in, and comes back only to the authorization
/// endpoint: `return_to` pointing anywhere else is ignored by the page and refused by SSO.
#[tokio::test]
async fn sign_in_returns_only_to_the_authorization_endpoint() {
    let Some(w) = World::new(DbBackend::Sqlite, "client_secret_basic", &["Administrator"]).await
    else {
        return;
    };
    let q = w.authorize_query("openid", &[]);
    let pairs: Vec<(&str, &str)> = q.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let res = w
        .http
        .get(w.app.url(&format!("/oauth/authorize{}", query(&pairs))))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 302);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("/signin?return_to=%2Foauth%2Fauthorize%3F"),
        "{location}"
    );
    let page = w.app.get_text(&location).await;
    assert!(
        page.contains("data-return-to=\"/oauth/authorize?"),
        "{page}"
    );

    for evil in [
        "https://evil.example/",
        "//evil.example/oauth/authorize",
        "/\\evil.example",
        "/oauth/authorizex",
        "javascript:alert(1)",
        "/oauth/authorize#frag",
    ] {
        let page = w
            .app
            .get_text(&format!("/signin?return_to={}", urlencode(evil)))
            .await;
        assert!(!page.contains("data-return-to"), "{evil}");
        assert!(page.contains("name=\"return_to\" value=\"page\""), "{evil}");
        let (status, _) = w
            .app
            .get_json(&format!(
                "/v1/sso/login?email=a@corp.example&return_to={}",
                urlencode(evil)
            ))
            .await;
        assert_eq!(status, 400, "{evil}");
    }
}
