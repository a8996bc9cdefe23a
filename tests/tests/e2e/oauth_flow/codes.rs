//! Codes: issued once, exchanged once, bound to their redirect URI and PKCE verifier.

use super::*;

/// The whole flow on both backends: a code for tokens once; the ID token's claims; the access
/// token reads as the user within its scope; the code again is refused and revokes the grant,
/// and the access token it gave fails from then on.
async fn the_code_flow_issues_tokens_once_and_a_replayed_code_revokes_the_grant(
    backend: DbBackend,
) {
    let Some(w) = World::new(backend, "client_secret_basic", &["Administrator"]).await else {
        return;
    };
    let code = w
        .code("openid email offline_access user_management.read")
        .await;
    assert!(code.starts_with("tsc_"), "{code}");
    let (status, tokens) = w.exchange(&code, VERIFIER).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(
        tokens["scope"],
        "openid email offline_access user_management.read"
    );
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    assert!(
        tokens["refresh_token"]
            .as_str()
            .is_some_and(|r| r.starts_with("tsf_"))
    );
    let id_token = tokens["id_token"].as_str().expect("an ID token");
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(id_token.split('.').nth(1).expect("payload"))
            .expect("base64"),
    )
    .expect("json");
    assert_eq!(claims["aud"], w.client_id);
    assert_eq!(claims["azp"], w.client_id);
    assert_eq!(claims["iss"], w.app.base);
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["email"], "alice01@example.com");
    assert!(claims["auth_time"].as_i64().is_some(), "{claims}");
    assert!(
        claims.get("preferred_username").is_none(),
        "no profile scope"
    );

    assert_eq!(w.userinfo(&access).await, 200);
    let (status, _) = w
        .app
        .call("GET", "/v1/accounts/1/users", Some(&access), None)
        .await;
    assert_eq!(status, 200, "user_management.read reads users");
    let (status, _) = w
        .app
        .call(
            "POST",
            "/v1/accounts/1/users",
            Some(&access),
            Some(json!({"login": "bobby01", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 403, "no write scope: no write");

    // The code again: refused, and the grant with it.
    let (status, again) = w.exchange(&code, VERIFIER).await;
    assert_eq!(
        (status, error_of(&again)),
        (400, "invalid_grant"),
        "{again}"
    );
    assert_eq!(w.userinfo(&access).await, 401, "the grant is revoked");
    let (status, refreshed) = w.refresh(tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!((status, error_of(&refreshed)), (400, "invalid_grant"));
    let replays = w.app.audit_events(&w.owner, "oauth.code.replay").await;
    assert_eq!(replays.len(), 1);
    let audit = serde_json::to_string(&w.app.audit_events(&w.owner, "").await).unwrap();
    assert!(
        !audit.contains(&code) && !audit.contains(&access),
        "no token in the audit"
    );
}

#[tokio::test]
async fn the_code_flow_issues_tokens_once_and_a_replayed_code_revokes_the_grant_sqlite() {
    the_code_flow_issues_tokens_once_and_a_replayed_code_revokes_the_grant(DbBackend::Sqlite).await;
}

#[tokio::test]
async fn the_code_flow_issues_tokens_once_and_a_replayed_code_revokes_the_grant_postgres() {
    the_code_flow_issues_tokens_once_and_a_replayed_code_revokes_the_grant(DbBackend::Postgres)
        .await;
}

/// Eight clients racing with one code: exactly one gets tokens.
#[tokio::test]
async fn of_eight_concurrent_redemptions_of_a_code_one_gets_tokens() {
    let Some(w) = World::new(DbBackend::Sqlite, "client_secret_basic", &["Administrator"]).await
    else {
        return;
    };
    let w = Arc::new(w);
    let code = w.code("openid user_management.read").await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let w = w.clone();
            let code = code.clone();
            tokio::spawn(async move { w.exchange(&code, VERIFIER).await.0 })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap() == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 1);
}

/// A redirect URI the client did not register is shown on Tessera's page, never redirected
/// to; at the token endpoint, another registered URI than the request's is refused.
#[tokio::test]
async fn a_wrong_redirect_uri_is_shown_never_redirected_to_and_must_match_at_the_token_endpoint() {
    let Some(w) = World::new(DbBackend::Sqlite, "client_secret_basic", &["Administrator"]).await
    else {
        return;
    };
    for bad in [
        "https://evil.example/callback",
        "https://app.example/callback/",
        "https://app.example/callback?x=1",
    ] {
        let (status, location, page) = w
            .authorize(&w.authorize_query("openid", &[("redirect_uri", bad)]))
            .await;
        assert_eq!((status, location), (400, None), "{bad}");
        assert!(page.contains("not registered"), "{page}");
    }
    let (status, location, _) = w
        .authorize(&w.authorize_query(
            "openid",
            &[("client_id", "0123456789abcdef0123456789abcdef")],
        ))
        .await;
    assert_eq!((status, location), (400, None), "an unknown client");
    // Other errors go back to the client, with its state and the issuer.
    let (status, location, _) = w
        .authorize(&w.authorize_query("openid", &[("response_type", "token")]))
        .await;
    assert_eq!(status, 302);
    let params = params_of(&location.unwrap());
    assert_eq!(params["error"], "unsupported_response_type");
    assert_eq!(params["state"], "st-1");
    assert_eq!(params["iss"], w.app.base);

    let code = w.code("openid").await;
    let (status, body) = w
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://app.example/other"),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!((status, error_of(&body)), (400, "invalid_grant"), "{body}");
}

/// PKCE: a public client must send a challenge; `plain` is refused; the verifier must match;
/// a confidential client's code with a challenge needs its verifier too.
#[tokio::test]
async fn pkce_is_required_for_a_public_client_plain_is_refused_and_the_verifier_must_match() {
    let Some(w) = World::new(DbBackend::Sqlite, "none", &["Administrator"]).await else {
        return;
    };
    assert_eq!(w.client_secret, None);
    for (extra, why) in [
        (
            vec![("code_challenge", ""), ("code_challenge_method", "")],
            "missing",
        ),
        (vec![("code_challenge_method", "plain")], "plain"),
        (vec![("code_challenge_method", "")], "no method means plain"),
    ] {
        let (status, location, _) = w.authorize(&w.authorize_query("openid", &extra)).await;
        assert_eq!(status, 302, "{why}");
        assert_eq!(
            params_of(&location.unwrap())["error"],
            "invalid_request",
            "{why}"
        );
    }
    let code = w.code("openid").await;
    let (status, body) = w.exchange(&code, &format!("{VERIFIER}x")).await;
    assert_eq!((status, error_of(&body)), (400, "invalid_grant"), "{body}");
    // The code was spent by the failed attempt: the right verifier is too late (and revokes).
    let (status, body) = w.exchange(&code, VERIFIER).await;
    assert_eq!((status, error_of(&body)), (400, "invalid_grant"), "{body}");
    let code = w.code("openid").await;
    let (status, body) = w
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    assert_eq!(
        (status, error_of(&body)),
        (400, "invalid_grant"),
        "no verifier: {body}"
    );
    let code = w.code("openid").await;
    let (status, body) = w.exchange(&code, VERIFIER).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.get("refresh_token").is_none(),
        "no offline_access asked"
    );
}

/// An expired code is refused.
#[tokio::test]
async fn an_expired_code_is_refused() {
    let Some(w) = World::new(DbBackend::Sqlite, "client_secret_basic", &["Administrator"]).await
    else {
        return;
    };
    let code = w.code("openid").await;
    expire_codes(&w.app);
    let (status, body) = w.exchange(&code, VERIFIER).await;
    assert_eq!((status, error_of(&body)), (400, "invalid_grant"), "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{body}"
    );
}

/// Moves every code's expiry to the past, in the database.
fn expire_codes(app: &TestApp) {
    use diesel::RunQueryDsl;
    let mut conn = app.db().db.conn().expect("a connection");
    let sql = "UPDATE oauth_codes SET expires_at = created_at";
    let n = match &mut *conn {
        tessera_store::db::AnyConnection::Postgresql(c) => diesel::sql_query(sql).execute(c),
        tessera_store::db::AnyConnection::Sqlite(c) => diesel::sql_query(sql).execute(c),
    }
    .expect("update");
    assert!(n > 0);
}
