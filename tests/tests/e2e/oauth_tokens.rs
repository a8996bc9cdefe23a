//! OAuth tokens end to end: the machine grants (`client_credentials` with an access key, the
//! JWT bearer grant with a service key), tokens verified offline with the JWKS by a JOSE
//! library nobody here wrote (`jsonwebtoken`), used against the API within their scopes,
//! introspected, revoked, refused in every bad shape, and signing-key rotation.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use tessera_tests::{TestApp, e2e, jwt, unix_now};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The bootstrap access key's id and secret.
fn access_key(app: &TestApp) -> (String, String) {
    let creds = app.initial_credentials();
    (
        creds["access_key"]["id"].as_str().expect("id").to_owned(),
        creds["access_key"]["secret"]
            .as_str()
            .expect("secret")
            .to_owned(),
    )
}

/// `POST /oauth/token` with `form`, as `basic` (id, secret) when given: status, headers'
/// `Cache-Control`, body.
async fn token_request(
    app: &TestApp,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, String, Value) {
    let mut req = app.client.post(app.url("/oauth/token")).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let res = req.send().await.expect("sent");
    let status = res.status().as_u16();
    let cache = res
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, cache, res.json().await.unwrap_or(Value::Null))
}

/// A `client_credentials` token of the bootstrap access key with `extra` form fields.
async fn machine_token(app: &TestApp, extra: &[(&str, &str)]) -> String {
    let (id, secret) = access_key(app);
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend_from_slice(extra);
    let (status, _, body) = token_request(app, Some((&id, &secret)), &form).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

async fn jwks(app: &TestApp) -> JwkSet {
    let res = app
        .client
        .get(app.url("/oauth/jwks"))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
    serde_json::from_str(&res.text().await.expect("text")).expect("an RFC 7517 JWK Set")
}

/// Verifies `token` with the published keys, as any relying party would: its claims.
async fn verify_offline(app: &TestApp, token: &str, audience: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).expect("a JWT header");
    assert_eq!(header.alg, Algorithm::ES256);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let set = jwks(app).await;
    let jwk = set
        .find(header.kid.as_deref().expect("kid"))
        .expect("the kid is published");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[app.base.as_str()]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "sub", "aud"]);
    jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_jwk(jwk).expect("a key"),
        &validation,
    )
    .expect("the token verifies")
    .claims
}

async fn users(app: &TestApp, token: &str) -> u16 {
    app.call("GET", "/v1/accounts/1/users", Some(token), None)
        .await
        .0
}

async fn a_client_credentials_token_verifies_offline_and_acts_within_its_scopes(app: TestApp) {
    let (id, secret) = access_key(&app);
    let (status, cache, body) = token_request(
        &app,
        Some((&id, &secret)),
        &[
            ("grant_type", "client_credentials"),
            ("scope", "user_management.read"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(cache, "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    assert_eq!(body["scope"], "user_management.read");
    let token = body["access_token"].as_str().expect("token");
    let claims = verify_offline(&app, token, &app.base).await;
    assert_eq!(claims["iss"], app.base.as_str());
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["sub_type"], "access_key");
    assert_eq!(claims["client_id"], id.as_str());
    assert_eq!(claims["account_id"], 1);
    assert_eq!(claims["scope"], "user_management.read");
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 600);
    assert!((claims["iat"].as_i64().unwrap() - unix_now()).abs() < 60);
    assert_eq!(claims["jti"].as_str().map(str::len), Some(32));
    // The token authenticates, within its scope: reading users yes, creating one no.
    assert_eq!(users(&app, token).await, 200);
    let (status, refused) = app
        .call(
            "POST",
            "/v1/accounts/1/users",
            Some(token),
            Some(json!({"login": "eve", "password": tessera_tests::PASSWORD})),
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("the token's scopes do not include"),
        "{refused}"
    );
    // The client secret in the form works as well as Basic; the default scope is everything
    // the key holds (the owner's key: every permission).
    let (status, _, body) = token_request(
        &app,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["scope"]
            .as_str()
            .unwrap()
            .contains("user_management.write"),
        "{body}"
    );
    let owner = app.owner().await;
    let issued = app.audit_events(&owner, "oauth.token.issue").await;
    assert_eq!(issued.len(), 2);
    let jti = claims["jti"].as_str().unwrap();
    assert!(
        issued
            .iter()
            .any(|e| e["target"] == format!("oauth_token:{jti}"))
    );
    assert!(
        !issued.iter().any(|e| e.to_string().contains(token)),
        "the audit log never holds a token"
    );
}

async fn a_service_key_gets_a_token_with_the_jwt_bearer_grant(app: TestApp) {
    let key = app.initial_credentials()["service_key"].clone();
    let now = unix_now();
    let assertion = jwt(&key, now, now + 60);
    let (status, cache, body) = token_request(
        &app,
        None,
        &[
            ("grant_type", JWT_BEARER),
            ("assertion", &assertion),
            ("scope", "user_management.read"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(cache, "no-store");
    let token = body["access_token"].as_str().unwrap();
    let claims = verify_offline(&app, token, &app.base).await;
    assert_eq!(claims["sub"], key["key_id"]);
    assert_eq!(claims["sub_type"], "service_key");
    assert_eq!(users(&app, token).await, 200);
    // A bad assertion is an invalid grant; an access token or an access key is no assertion.
    let expired = jwt(&key, now - 700, now - 100);
    for bad in [expired.as_str(), "not-a-jwt", token, &access_key(&app).1] {
        let (status, _, body) = token_request(
            &app,
            None,
            &[("grant_type", JWT_BEARER), ("assertion", bad)],
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"], "invalid_grant", "{body}");
    }
}

async fn discovery_documents_and_the_key_set_describe_the_issuer(app: TestApp) {
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let (status, doc) = app.get_json(path).await;
        assert_eq!(status, 200);
        assert_eq!(doc["issuer"], app.base.as_str());
        assert_eq!(doc["jwks_uri"], app.url("/oauth/jwks"));
        assert_eq!(doc["token_endpoint"], app.url("/oauth/token"));
        assert_eq!(doc["authorization_endpoint"], app.url("/oauth/authorize"));
        assert_eq!(doc["introspection_endpoint"], app.url("/oauth/introspect"));
        assert_eq!(doc["revocation_endpoint"], app.url("/oauth/revoke"));
        assert_eq!(doc["userinfo_endpoint"], app.url("/oauth/userinfo"));
        assert_eq!(
            doc["id_token_signing_alg_values_supported"],
            json!(["ES256"])
        );
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(doc["response_types_supported"], json!(["code"]));
        let scopes = doc["scopes_supported"].as_array().unwrap();
        for s in [
            "openid",
            "email",
            "profile",
            "offline_access",
            "user_management.read",
        ] {
            assert!(scopes.contains(&json!(s)), "{s}");
        }
        let grants = doc["grant_types_supported"].as_array().unwrap();
        assert!(grants.contains(&json!("client_credentials")));
        assert!(grants.contains(&json!(JWT_BEARER)));
    }
    let res = app.client.get(app.url("/oauth/jwks")).send().await.unwrap();
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("public, max-age=")
    );
    let raw: Value = res.json().await.unwrap();
    let keys = raw["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "one current key");
    for key in keys {
        assert_eq!(key["kty"], "EC");
        assert_eq!(key["crv"], "P-256");
        assert_eq!(key["alg"], "ES256");
        assert_eq!(key["use"], "sig");
        assert!(key.get("d").is_none(), "no private part: {key}");
    }
    let set = jwks(&app).await;
    match &set.keys[0].algorithm {
        AlgorithmParameters::EllipticCurve(ec) => assert_eq!(ec.curve, EllipticCurve::P256),
        other => panic!("not an EC key: {other:?}"),
    }
}

/// A token request (Basic credentials, form) and the status and error it must get.
type Case<'a> = (
    Option<(&'a str, &'a str)>,
    Vec<(&'a str, &'a str)>,
    u16,
    &'a str,
);

async fn every_bad_token_request_is_refused_in_the_rfc_format(app: TestApp) {
    let (id, secret) = access_key(&app);
    let cases: Vec<Case> = vec![
        (
            Some((&id, "wrong")),
            vec![("grant_type", "client_credentials")],
            401,
            "invalid_client",
        ),
        (
            Some(("AK00000000000000NONE", &secret)),
            vec![("grant_type", "client_credentials")],
            401,
            "invalid_client",
        ),
        (
            None,
            vec![("grant_type", "client_credentials")],
            401,
            "invalid_client",
        ),
        (
            None,
            vec![("grant_type", "client_credentials"), ("client_id", &id)],
            401,
            "invalid_client",
        ),
        (
            Some((&id, &secret)),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
            ],
            400,
            "invalid_request",
        ),
        (
            Some((&id, &secret)),
            vec![("grant_type", "password")],
            400,
            "unsupported_grant_type",
        ),
        (
            Some((&id, &secret)),
            vec![("grant_type", "password")],
            400,
            "unsupported_grant_type",
        ),
        (
            // The authorization code flow's grant, without its code.
            Some((&id, &secret)),
            vec![("grant_type", "authorization_code")],
            400,
            "invalid_request",
        ),
        (Some((&id, &secret)), vec![], 400, "invalid_request"),
        (
            Some((&id, &secret)),
            vec![
                ("grant_type", "client_credentials"),
                ("scope", "nothing.read"),
            ],
            400,
            "invalid_scope",
        ),
        (
            Some((&id, &secret)),
            vec![("grant_type", "client_credentials"), ("scope", "openid")],
            400,
            "invalid_scope",
        ),
        (
            Some((&id, &secret)),
            vec![
                ("grant_type", "client_credentials"),
                ("audience", "not a url"),
            ],
            400,
            "invalid_request",
        ),
        (
            None,
            vec![("grant_type", JWT_BEARER)],
            400,
            "invalid_request",
        ),
    ];
    for (basic, form, want_status, want_error) in cases {
        let (status, cache, body) = token_request(&app, basic, &form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (want_status, Some(want_error)),
            "{form:?}: {body}"
        );
        assert!(body["error_description"].is_string(), "{body}");
        assert_eq!(cache, "no-store");
    }
    // Hostile bodies: repeated parameters, another content type, a huge body.
    let raw = |body: Vec<u8>, content_type: &'static str| {
        app.client
            .post(app.url("/oauth/token"))
            .basic_auth(&id, Some(&secret))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    for (body, content_type) in [
        (
            b"grant_type=client_credentials&grant_type=client_credentials".to_vec(),
            "application/x-www-form-urlencoded",
        ),
        (
            br#"{"grant_type":"client_credentials"}"#.to_vec(),
            "application/json",
        ),
        (
            format!("grant_type=client_credentials&scope={}", "a".repeat(20_000)).into_bytes(),
            "application/x-www-form-urlencoded",
        ),
        (
            b"grant_type=%ff%fe&\x00=\x01".to_vec(),
            "application/x-www-form-urlencoded",
        ),
    ] {
        let res = raw(body, content_type).await.unwrap();
        assert_eq!(res.status(), 400);
        let body: Value = res.json().await.unwrap();
        assert!(
            matches!(
                body["error"].as_str(),
                Some("invalid_request" | "unsupported_grant_type")
            ),
            "{body}"
        );
    }
    // A scope the key does not hold: a user with only a read role.
    let owner = app.owner().await;
    let reader = app.create_user(&owner, "reader", &["Developer"]).await;
    let (status, made) = app
        .call(
            "POST",
            &format!("/v1/accounts/1/users/{reader}/access_keys"),
            Some(&owner),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    let reader_token = made["result"]["token"].as_str().unwrap();
    let (rid, rsecret) = parse_access_token(reader_token);
    let (status, _, body) = token_request(
        &app,
        Some((&rid, &rsecret)),
        &[
            ("grant_type", "client_credentials"),
            ("scope", "user_management.write"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope")),
        "{body}"
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("the key does not hold user_management."),
        "{body}"
    );
    // No token was issued by any refusal.
    assert!(
        app.audit_events(&owner, "oauth.token.issue")
            .await
            .is_empty()
    );
}

/// `tsr_<id>_<secret>` split.
fn parse_access_token(token: &str) -> (String, String) {
    let rest = token.strip_prefix("tsr_").expect("tsr_");
    let (id, secret) = rest.split_once('_').expect("id_secret");
    (id.to_owned(), secret.to_owned())
}

async fn forged_expired_foreign_and_revoked_tokens_are_refused_at_use(app: TestApp) {
    let token = machine_token(&app, &[]).await;
    assert_eq!(users(&app, &token).await, 200);
    // Forged: one character of the signature changed; a claim changed under the same
    // signature; a token signed by another key with a published kid.
    let sig = token.rfind('.').unwrap() + 10;
    let mut forged = token.clone();
    let swapped = if &token[sig..=sig] == "A" { "B" } else { "A" };
    forged.replace_range(sig..=sig, swapped);
    assert_eq!(users(&app, &forged).await, 401);
    let parts: Vec<&str> = token.split('.').collect();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    claims["account_id"] = json!(2);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(claims.to_string()),
        parts[2]
    );
    assert_eq!(users(&app, &tampered).await, 401);
    let header = jsonwebtoken::decode_header(&token).unwrap();
    let other = tessera_app::infra::AwsLcKeyPairs;
    let pair = tessera_domain::ports::KeyPairGenerator::p256(&other).unwrap();
    let mut h = jsonwebtoken::Header::new(Algorithm::ES256);
    h.typ = Some("at+jwt".into());
    h.kid = header.kid.clone();
    let now = unix_now();
    let mut mine: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    mine["iat"] = json!(now);
    mine["exp"] = json!(now + 300);
    let foreign_key = jsonwebtoken::encode(
        &h,
        &mine,
        &jsonwebtoken::EncodingKey::from_ec_pem(pair.private_pem.expose().as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(users(&app, &foreign_key).await, 401);
    // A token for another audience is not for Tessera.
    let elsewhere = machine_token(&app, &[("audience", "https://numbers.example")]).await;
    let claims = verify_offline(&app, &elsewhere, "https://numbers.example").await;
    assert_eq!(claims["aud"], "https://numbers.example");
    assert_eq!(users(&app, &elsewhere).await, 401);
    // Revoked: by the key itself, through RFC 7009; refused at once, on every instance.
    let b = app.another();
    assert_eq!(
        users(&b, &token).await,
        200,
        "cached on the second instance"
    );
    let (id, secret) = access_key(&app);
    let revoke = |t: String| {
        app.client
            .post(app.url("/oauth/revoke"))
            .basic_auth(&id, Some(&secret))
            .form(&[("token", t)])
            .send()
    };
    assert_eq!(revoke(token.clone()).await.unwrap().status(), 200);
    assert_eq!(users(&app, &token).await, 401);
    let mut refused_on_b = false;
    for _ in 0..100 {
        if users(&b, &token).await == 401 {
            refused_on_b = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        refused_on_b,
        "the other instance lets go of the revoked token"
    );
    // Revoking again, or revoking garbage, is still 200 (RFC 7009 §2.2).
    assert_eq!(revoke(token.clone()).await.unwrap().status(), 200);
    assert_eq!(revoke("garbage".into()).await.unwrap().status(), 200);
    let owner = app.owner().await;
    let jti = verify_offline(&app, &machine_token(&app, &[]).await, &app.base).await;
    assert!(jti["jti"].is_string());
    let revocations = app.audit_events(&owner, "oauth.token.revoke").await;
    assert_eq!(revocations.len(), 1, "one revocation recorded");
    let failures = app.audit_events(&owner, "auth.failure").await;
    assert!(
        failures
            .iter()
            .any(|e| e["details"]["credential"] == "oauth_token"),
        "{failures:?}"
    );
    for event in failures.iter().chain(revocations.iter()) {
        assert!(
            !event.to_string().contains(&token),
            "no token in the audit log"
        );
    }
}

async fn a_token_dies_with_its_key(app: TestApp) {
    let owner = app.owner().await;
    let user = app.create_user(&owner, "keyholder", &["Developer"]).await;
    let (status, made) = app
        .call(
            "POST",
            &format!("/v1/accounts/1/users/{user}/access_keys"),
            Some(&owner),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    let (id, secret) = parse_access_token(made["result"]["token"].as_str().unwrap());
    let (status, _, body) = token_request(
        &app,
        Some((&id, &secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    // Authenticated (a Developer may not list users: 403, not 401).
    assert_eq!(users(&app, token).await, 403);
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/v1/accounts/1/users/{user}/access_keys/{id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        users(&app, token).await,
        401,
        "the key is gone: so is its token"
    );
}

async fn introspection_describes_only_the_callers_own_account(app: TestApp) {
    let token = machine_token(&app, &[("scope", "user_management.read")]).await;
    let (id, secret) = access_key(&app);
    let introspect = |t: String, basic: Option<(String, String)>| {
        let mut req = app
            .client
            .post(app.url("/oauth/introspect"))
            .form(&[("token", t)]);
        if let Some((i, s)) = basic {
            req = req.basic_auth(i, Some(s));
        }
        req.send()
    };
    let res = introspect(token.clone(), Some((id.clone(), secret.clone())))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["active"], true, "{body}");
    assert_eq!(body["scope"], "user_management.read");
    assert_eq!(body["sub"], id.as_str());
    assert_eq!(body["account_id"], 1);
    // Unauthenticated callers are refused; garbage is inactive.
    let res = introspect(token.clone(), None).await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let body: Value = introspect("garbage".into(), Some((id.clone(), secret.clone())))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body, json!({"active": false}));
    // Another account's owner sees nothing of it.
    let owner = app.owner().await;
    let child = app.child_account(&owner).await;
    let child_key = child["access_key"]["token"]
        .as_str()
        .expect("the child's key");
    let (cid, csecret) = parse_access_token(child_key);
    let body: Value = introspect(token.clone(), Some((cid, csecret)))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body,
        json!({"active": false}),
        "another account's token is inactive"
    );
    // userinfo describes users: a key's token has no identity scope; no token is refused.
    let res = app
        .client
        .get(app.url("/oauth/userinfo"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("insufficient_scope")
    );
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "insufficient_scope"
    );
    let res = app
        .client
        .post(app.url("/oauth/userinfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_token");
}

async fn a_rotated_key_keeps_verifying_its_tokens_until_they_expire(app: TestApp) {
    let before = machine_token(&app, &[]).await;
    let old_kid = jsonwebtoken::decode_header(&before).unwrap().kid.unwrap();
    // What `tessera keys rotate` does, on the same database, from another process's wiring.
    let wired = tessera_server::startup::wire(&app.settings).expect("wired");
    let new_kid = wired.app.rotate_signing_key().expect("rotated");
    assert_ne!(new_kid, old_kid);
    // The server picks the new key up within KEY_CACHE_SECS.
    let mut after = String::new();
    for _ in 0..200 {
        after = machine_token(&app, &[]).await;
        if jsonwebtoken::decode_header(&after).unwrap().kid.as_deref() == Some(new_kid.as_str()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        jsonwebtoken::decode_header(&after).unwrap().kid.as_deref(),
        Some(new_kid.as_str())
    );
    let set = jwks(&app).await;
    assert!(
        set.find(&old_kid).is_some() && set.find(&new_kid).is_some(),
        "both published"
    );
    assert_eq!(
        set.keys[0].common.key_id.as_deref(),
        Some(new_kid.as_str()),
        "current first"
    );
    verify_offline(&app, &before, &app.base).await;
    verify_offline(&app, &after, &app.base).await;
    assert_eq!(
        users(&app, &before).await,
        200,
        "the old key's token still works"
    );
    assert_eq!(users(&app, &after).await, 200);
    // Once every token the old key signed has expired (moved back in time here rather than
    // waited for), it leaves the key set.
    let mut conn = app.db().db.conn().unwrap();
    let sql = format!(
        "UPDATE oauth_signing_keys SET retired_at = '2000-01-01 00:00:00' WHERE kid = '{old_kid}'"
    );
    match &mut *conn {
        tessera_store::db::AnyConnection::Postgresql(c) => {
            diesel::RunQueryDsl::execute(diesel::sql_query(&sql), c).unwrap();
        }
        tessera_store::db::AnyConnection::Sqlite(c) => {
            diesel::RunQueryDsl::execute(diesel::sql_query(&sql), c).unwrap();
        }
    }
    drop(conn);
    let mut gone = false;
    for _ in 0..200 {
        if jwks(&app).await.find(&old_kid).is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(gone, "the expired key leaves the JWKS");
    assert!(jwks(&app).await.find(&new_kid).is_some());
}

#[tokio::test]
async fn the_configured_public_url_is_the_issuer_of_every_token() {
    let app = TestApp::spawn_with(tessera_tests::DbBackend::Sqlite, |s| {
        s.server.public_url = "https://iam.example.test/".into();
    })
    .await
    .expect("sqlite");
    let (status, doc) = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(status, 200);
    assert_eq!(doc["issuer"], "https://iam.example.test");
    assert_eq!(doc["jwks_uri"], "https://iam.example.test/oauth/jwks");
    let token = machine_token(&app, &[]).await;
    let claims: Value = jsonwebtoken::dangerous::insecure_decode::<Value>(&token)
        .unwrap()
        .claims;
    assert_eq!(claims["iss"], "https://iam.example.test");
    assert_eq!(claims["aud"], "https://iam.example.test");
    assert_eq!(
        users(&app, &token).await,
        200,
        "whatever host it is used at"
    );
}

e2e!(
    a_client_credentials_token_verifies_offline_and_acts_within_its_scopes,
    a_service_key_gets_a_token_with_the_jwt_bearer_grant,
    discovery_documents_and_the_key_set_describe_the_issuer,
    every_bad_token_request_is_refused_in_the_rfc_format,
    forged_expired_foreign_and_revoked_tokens_are_refused_at_use,
    a_token_dies_with_its_key,
    introspection_describes_only_the_callers_own_account,
    a_rotated_key_keeps_verifying_its_tokens_until_they_expire,
);
