//! OAuth clients (Cloudflare's `iam.oauth_clients`) end to end: the secret shown once and
//! rotated, every bad input refused with its message and nothing changed, another account's
//! client not found, no client worth more than its creator, the scope catalog. The official SDK
//! drives them in `oauth_sdk.rs`.

use serde_json::{Value, json};
use tessera_tests::{PASSWORD, TestApp, e2e};

const CLIENTS: &str = "/v1/accounts/1/oauth_clients";

fn body() -> Value {
    json!({
        "client_name": "Dashboard",
        "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": ["https://app.example.com/callback", "http://127.0.0.1:8400/cb"],
        "response_types": ["code", "id_token"],
        "scopes": ["user_management.read", "email"],
        "token_endpoint_auth_method": "client_secret_basic",
        "logo_uri": "https://app.example.com/logo.png",
        "optional_scopes": ["email"],
    })
}

fn error(body: &Value) -> (i64, String) {
    (
        body["errors"][0]["code"].as_i64().unwrap_or_default(),
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

async fn audit_count(app: &TestApp, token: &str) -> usize {
    let (status, events) = app
        .call(
            "GET",
            "/v1/accounts/1/audit_logs?per_page=1000",
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{events}");
    events["result"].as_array().unwrap().len()
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, created) = app.call("POST", CLIENTS, Some(token), Some(body)).await;
    assert_eq!(status, 200, "{created}");
    created["result"].clone()
}

async fn clients_round_trip_and_show_the_secret_once(app: TestApp) {
    let owner = app.owner().await;
    let made = create(&app, &owner, body()).await;
    let id = made["client_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    let secret = made["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 40, "{secret}");
    assert_eq!(made["visibility"], "private");
    assert_eq!(made["has_rotated_secret"], false);
    assert_eq!(
        made["scopes"],
        json!(["openid", "email", "offline_access", "user_management.read"]),
        "openid follows id_token, offline_access follows refresh_token"
    );
    assert_eq!(made["optional_scopes"], json!(["email"]));
    assert_eq!(
        made["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(made["response_types"], json!(["code", "id_token"]));

    let (status, got) = app
        .call("GET", &format!("{CLIENTS}/{id}"), Some(&owner), None)
        .await;
    assert_eq!(status, 200, "{got}");
    assert!(got["result"].get("client_secret").is_none(), "{got}");
    let (_, listed) = app.call("GET", CLIENTS, Some(&owner), None).await;
    assert_eq!(listed["result"].as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&secret));
    for event in app.audit_events(&owner, "oauth_client.create").await {
        assert!(!event.to_string().contains(&secret), "{event}");
    }

    let (status, rotated) = app
        .call(
            "POST",
            &format!("{CLIENTS}/{id}/rotate_secret"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["result"]["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let (_, got) = app
        .call("GET", &format!("{CLIENTS}/{id}"), Some(&owner), None)
        .await;
    assert_eq!(got["result"]["has_rotated_secret"], true);
    let events = app.audit_events(&owner, "oauth_client.rotate_secret").await;
    assert_eq!(events.len(), 1);
    assert!(!events[0].to_string().contains(new_secret));

    let (status, dropped) = app
        .call(
            "DELETE",
            &format!("{CLIENTS}/{id}/rotate_secret"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!((status, &dropped["result"]), (200, &json!({"id": id})));
    let (_, got) = app
        .call("GET", &format!("{CLIENTS}/{id}"), Some(&owner), None)
        .await;
    assert_eq!(got["result"]["has_rotated_secret"], false);

    let (status, updated) = app
        .call(
            "PATCH",
            &format!("{CLIENTS}/{id}"),
            Some(&owner),
            Some(json!({"client_name": "Renamed", "grant_types": ["authorization_code"]})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["result"]["client_name"], "Renamed");
    assert_eq!(
        updated["result"]["scopes"],
        json!(["openid", "email", "user_management.read"]),
        "offline_access left with refresh_token"
    );
    assert_eq!(
        updated["result"]["redirect_uris"],
        got["result"]["redirect_uris"]
    );

    let (status, deleted) = app
        .call("DELETE", &format!("{CLIENTS}/{id}"), Some(&owner), None)
        .await;
    assert_eq!((status, &deleted["result"]), (200, &json!({"id": id})));
    let (status, _) = app
        .call("GET", &format!("{CLIENTS}/{id}"), Some(&owner), None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        app.audit_events(&owner, "oauth_client.delete").await.len(),
        1
    );
}

async fn a_public_client_has_no_secret_to_show_or_rotate(app: TestApp) {
    let owner = app.owner().await;
    let mut spa = body();
    spa["token_endpoint_auth_method"] = json!("none");
    let made = create(&app, &owner, spa).await;
    assert!(made.get("client_secret").is_none(), "{made}");
    let id = made["client_id"].as_str().unwrap();
    let (status, refused) = app
        .call(
            "POST",
            &format!("{CLIENTS}/{id}/rotate_secret"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        error(&refused),
        (
            4000,
            "token_endpoint_auth_method: a public client (none) has no secret to rotate".into()
        )
    );
    let (status, refused) = app
        .call(
            "PATCH",
            &format!("{CLIENTS}/{id}"),
            Some(&owner),
            Some(json!({"token_endpoint_auth_method": "client_secret_post"})),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(error(&refused).1.starts_with(
        "token_endpoint_auth_method: a client cannot switch between public (none) and confidential"
    ));
}

async fn every_bad_input_is_refused_and_changes_nothing(app: TestApp) {
    let owner = app.owner().await;
    let made = create(&app, &owner, body()).await;
    let id = made["client_id"].as_str().unwrap().to_owned();
    let (_, before) = app
        .call("GET", &format!("{CLIENTS}/{id}"), Some(&owner), None)
        .await;
    let audited = audit_count(&app, &owner).await;
    let with = |field: &str, value: Value| {
        let mut b = body();
        b[field] = value;
        b
    };
    let cases = [
        (
            with("client_name", json!("")),
            "client_name: must be 1 to 100 characters",
        ),
        (
            with("grant_types", json!(["refresh_token"])),
            "grant_types: must include authorization_code",
        ),
        (
            with("grant_types", json!(["password", "authorization_code"])),
            "grant_types: 'password' is not one of authorization_code, refresh_token",
        ),
        (
            with("response_types", json!(["code", "token"])),
            "response_types: token (the implicit flow) is not supported: use code",
        ),
        (
            with("response_types", json!(["id_token"])),
            "response_types: must include code",
        ),
        (
            with("token_endpoint_auth_method", json!("private_key_jwt")),
            "token_endpoint_auth_method: 'private_key_jwt' is not one of none, \
             client_secret_basic, client_secret_post",
        ),
        (
            with("redirect_uris", json!([])),
            "redirect_uris: at least one redirect URI is required",
        ),
        (
            with("redirect_uris", json!(["http://app.example.com/cb"])),
            "redirect_uris: 'http://app.example.com/cb' must be https (http only for a loopback host)",
        ),
        (
            with("redirect_uris", json!(["https://app.example.com/cb#frag"])),
            "redirect_uris: 'https://app.example.com/cb#frag' must not have a fragment",
        ),
        (
            with(
                "redirect_uris",
                json!(["https://user:pw@app.example.com/cb"]),
            ),
            "redirect_uris: 'https://user:pw@app.example.com/cb' must not carry a user name or password",
        ),
        (
            with("redirect_uris", json!(["/callback"])),
            "redirect_uris: '/callback' is not an absolute URL (relative URL without a base)",
        ),
        (
            with("scopes", json!(["user_management:read"])),
            "scopes: 'user_management:read': colon-delimited scopes are not accepted; use capability.level",
        ),
        (
            with("scopes", json!(["zones.read"])),
            "scopes: unknown scope 'zones.read'",
        ),
        (
            with("scopes", json!([])),
            "scopes: at least one scope is required",
        ),
        (
            with("optional_scopes", json!(["profile"])),
            "optional_scopes: profile is not in scopes",
        ),
        (
            with("optional_scopes", json!(["openid"])),
            "optional_scopes: openid cannot be optional",
        ),
        (
            with(
                "allowed_cors_origins",
                json!(["https://app.example.com/path"]),
            ),
            "allowed_cors_origins: 'https://app.example.com/path' must be an origin \
             (scheme://host[:port]) such as https://app.example.com",
        ),
        (
            with("logo_uri", json!("http://app.example.com/logo.png")),
            "logo_uri: 'http://app.example.com/logo.png' must be an https URL",
        ),
    ];
    for (bad, message) in cases {
        let (status, refused) = app
            .call("POST", CLIENTS, Some(&owner), Some(bad.clone()))
            .await;
        assert_eq!(status, 400, "{bad}: {refused}");
        assert_eq!(error(&refused), (4000, message.to_owned()), "{bad}");
        // The same value as a change of the existing client is refused alike.
        let field = bad
            .as_object()
            .unwrap()
            .iter()
            .find(|(k, v)| body().get(k.as_str()) != Some(v))
            .map(|(k, v)| (k.clone(), v.clone()));
        if let Some((k, v)) = field {
            let patch = json!({ k: v });
            let (status, refused) = app
                .call(
                    "PATCH",
                    &format!("{CLIENTS}/{id}"),
                    Some(&owner),
                    Some(patch.clone()),
                )
                .await;
            assert_eq!(status, 400, "{patch}: {refused}");
            assert_eq!(error(&refused), (4000, message.to_owned()), "{patch}");
        }
    }
    for (patch, message) in [
        (json!({}), "body: name at least one field to change"),
        (
            json!({"visibility": "public"}),
            "visibility: promotion to public needs a verified client_uri host, which Tessera \
             does not verify: clients stay private",
        ),
        (
            json!({"visibility": "private"}),
            "visibility: only public is accepted (demotion to private is not supported)",
        ),
    ] {
        let (status, refused) = app
            .call(
                "PATCH",
                &format!("{CLIENTS}/{id}"),
                Some(&owner),
                Some(patch.clone()),
            )
            .await;
        assert_eq!(status, 400, "{patch}: {refused}");
        assert_eq!(error(&refused), (4000, message.to_owned()), "{patch}");
    }
    let mut missing = body();
    missing.as_object_mut().unwrap().remove("redirect_uris");
    let (status, _) = app.call("POST", CLIENTS, Some(&owner), Some(missing)).await;
    assert_eq!(status, 400);

    let (_, after) = app
        .call("GET", &format!("{CLIENTS}/{id}"), Some(&owner), None)
        .await;
    assert_eq!(after, before, "nothing changed");
    let (_, listed) = app.call("GET", CLIENTS, Some(&owner), None).await;
    assert_eq!(
        listed["result"].as_array().unwrap().len(),
        1,
        "nothing created"
    );
    assert_eq!(audit_count(&app, &owner).await, audited, "nothing audited");
}

async fn another_accounts_client_is_not_found(app: TestApp) {
    let owner = app.owner().await;
    let child = app.child_account(&owner).await["account_id"]
        .as_i64()
        .unwrap();
    let theirs = create_in(&app, &owner, child).await;
    for (method, suffix) in [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/rotate_secret"),
        ("DELETE", "/rotate_secret"),
    ] {
        let path = format!("{CLIENTS}/{theirs}{suffix}");
        let body = (method == "PATCH").then(|| json!({"client_name": "mine"}));
        let (status, refused) = app.call(method, &path, Some(&owner), body).await;
        assert_eq!(status, 404, "{method} {path}: {refused}");
        assert_eq!(error(&refused), (4040, "oauth client not found".into()));
    }
    let (status, _) = app
        .call(
            "GET",
            &format!("{CLIENTS}/not-a-client-id"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (_, theirs_now) = app
        .call(
            "GET",
            &format!("/v1/accounts/{child}/oauth_clients/{theirs}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(
        theirs_now["result"]["client_name"], "Dashboard",
        "unchanged"
    );

    // A user of account 1 without Manage Enterprise Accounts does not see the child at all.
    app.create_user(&owner, "admin02", &["Administrator"]).await;
    let admin = app.login(1, "admin02", PASSWORD).await;
    let (status, _) = app
        .call(
            "GET",
            &format!("/v1/accounts/{child}/oauth_clients"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 404);
}

async fn create_in(app: &TestApp, token: &str, account: i64) -> String {
    let (status, made) = app
        .call(
            "POST",
            &format!("/v1/accounts/{account}/oauth_clients"),
            Some(token),
            Some(body()),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    made["result"]["client_id"].as_str().unwrap().to_owned()
}

async fn no_client_carries_more_than_its_creator_holds(app: TestApp) {
    let owner = app.owner().await;
    app.create_user(&owner, "admin02", &["Administrator"]).await;
    app.create_user(&owner, "dev0001", &["Developer"]).await;
    app.create_user(&owner, "support1", &["Support"]).await;
    let admin = app.login(1, "admin02", PASSWORD).await;
    let support = app.login(1, "support1", PASSWORD).await;
    let mut turnkey = body();
    turnkey["scopes"] = json!(["usage.read", "aa_provisioning.write"]);
    turnkey["optional_scopes"] = json!(["usage.read"]);
    let (status, refused) = app
        .call("POST", CLIENTS, Some(&admin), Some(turnkey.clone()))
        .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(
        error(&refused),
        (
            4032,
            "scope not grantable: no role or policy grants aa_provisioning:write".into()
        )
    );
    let (status, refused) = app
        .call("POST", CLIENTS, Some(&support), Some(body()))
        .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(error(&refused).0, 4030);

    // The Owner's client worth a Turnkey capability: the Administrator may read it, but neither
    // change it nor take its secret.
    let id = create(&app, &owner, turnkey).await["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = app
        .call("GET", &format!("{CLIENTS}/{id}"), Some(&admin), None)
        .await;
    assert_eq!(status, 200);
    let (status, refused) = app
        .call(
            "PATCH",
            &format!("{CLIENTS}/{id}"),
            Some(&admin),
            Some(json!({"redirect_uris": ["https://attacker.example/cb"]})),
        )
        .await;
    assert_eq!((status, error(&refused).0), (403, 4032), "{refused}");
    let (status, refused) = app
        .call(
            "POST",
            &format!("{CLIENTS}/{id}/rotate_secret"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!((status, error(&refused).0), (403, 4032), "{refused}");
    let (_, got) = app
        .call("GET", &format!("{CLIENTS}/{id}"), Some(&owner), None)
        .await;
    assert_eq!(got["result"]["redirect_uris"], body()["redirect_uris"]);
    assert_eq!(got["result"]["has_rotated_secret"], false);
}

async fn the_scope_catalog_needs_authentication_only(app: TestApp) {
    let owner = app.owner().await;
    app.create_user(&owner, "support1", &["Support"]).await;
    let support = app.login(1, "support1", PASSWORD).await;
    let (status, _) = app.call("GET", "/v1/oauth/scopes", None, None).await;
    assert_eq!(status, 401);
    let (status, scopes) = app
        .call("GET", "/v1/oauth/scopes", Some(&support), None)
        .await;
    assert_eq!(status, 200, "{scopes}");
    let scopes = scopes["result"].as_array().unwrap();
    assert_eq!(
        scopes[0],
        json!({"id": "openid", "name": "Sign you in (OpenID Connect)", "category": "OpenID Connect", "scopes": []})
    );
    let write = scopes
        .iter()
        .find(|s| s["id"] == "user_management.write")
        .unwrap();
    assert_eq!(
        write,
        &json!({
            "id": "user_management.write",
            "name": "User Management Write",
            "category": "Platform Resources",
            "scopes": ["user_management.read", "user_management.write"],
        })
    );
    // Every listed id is accepted as a client's scope.
    let ids: Vec<Value> = scopes.iter().map(|s| s["id"].clone()).collect();
    let mut all = body();
    all["scopes"] = Value::Array(ids);
    create(&app, &owner, all).await;
}

e2e!(
    clients_round_trip_and_show_the_secret_once,
    a_public_client_has_no_secret_to_show_or_rotate,
    every_bad_input_is_refused_and_changes_nothing,
    another_accounts_client_is_not_found,
    no_client_carries_more_than_its_creator_holds,
    the_scope_catalog_needs_authentication_only
);
