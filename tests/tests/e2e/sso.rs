//! SSO sign-in end to end: the real server, panva's `oidc-provider` (OpenID Certified) as the
//! customer's identity provider (`tests/idp`), and a local DNS responder proving the domain.
//! Every failure of the flow is driven for real: replayed state, another browser, tampered ID
//! tokens (re-signed by the provider's test control), key rotation at the provider, emails
//! outside the domain or unverified, inactive users, unknown domains. Limits, bursts and two
//! instances are in `sso/load.rs`.

mod load;

use reqwest::redirect::Policy;
use serde_json::{Value, json};
use tessera_tests::dns::DnsResponder;
use tessera_tests::idp::{Idp, IdpBrowser, IdpClient, IdpConfig, IdpUser, Tamper};
use tessera_tests::{DbBackend, TestApp};

const SSO: &str = "/v1/accounts/1/sso_connectors";
const CLIENT_SECRET: &str = "tessera-client-secret";

/// A server whose account 1 has a verified, enabled connector for `corp.example` signing in
/// through a local IdP, and a user `alice01` with the email `alice@corp.example`.
struct World {
    app: TestApp,
    idp: Idp,
    owner: String,
    connector: String,
    _dns: DnsResponder,
}

fn people() -> Vec<IdpUser> {
    let unverified = IdpUser {
        email_verified: false,
        ..IdpUser::new("bob", "bob-password", "bob@corp.example")
    };
    vec![
        IdpUser::new("alice", "alice-password", "alice@corp.example"),
        IdpUser::new("mallory", "mallory-password", "mallory@evil.example"),
        unverified,
        IdpUser::new("carol", "carol-password", "carol@corp.example"),
        IdpUser::new("dave", "dave-password", "Dave@Corp.Example"),
    ]
}

async fn world_on(
    backend: DbBackend,
    adjust: impl FnOnce(&mut tessera_server::config::Settings),
) -> Option<World> {
    let dns = DnsResponder::start();
    let app = TestApp::spawn_with(backend, |s| {
        s.sso.nameserver = dns.addr.to_string();
        s.sso.verify_interval_secs = 1;
        s.sso.allow_local_idp = true;
        adjust(s);
    })
    .await?;
    let owner = app.owner().await;
    let (status, c) = app
        .call(
            "POST",
            SSO,
            Some(&owner),
            Some(json!({"email_domain": "corp.example", "begin_verification": true})),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    let connector = c["result"]["id"].as_str().unwrap().to_owned();
    // Each connector has its own callback, registered at its IdP.
    let callback = app.url(&format!("/v1/sso/callback/{connector}"));
    let idp = Idp::start(IdpConfig::new(
        vec![
            IdpClient::new("tessera", CLIENT_SECRET, &callback),
            IdpClient::new("another-app", "another-secret", &callback),
        ],
        people(),
    ))
    .await?;
    let (status, c) = app
        .call(
            "PATCH",
            &format!("{SSO}/{connector}"),
            Some(&owner),
            Some(json!({
                "idp": {
                    "type": "oidc",
                    "issuer": idp.issuer(),
                    "client_id": "tessera",
                    "client_secret": CLIENT_SECRET,
                }
            })),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["result"]["idp"]["client_secret_set"], true);
    assert!(!c.to_string().contains(CLIENT_SECRET), "never shown");
    app.verify_and_enable_sso(&owner, &dns, &connector, "corp.example")
        .await;
    let (status, u) = app
        .call(
            "POST",
            "/v1/accounts/1/users",
            Some(&owner),
            Some(
                json!({"login": "alice01", "email": "alice@corp.example", "roles": ["Developer"]}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{u}");
    Some(World {
        app,
        idp,
        owner,
        connector,
        _dns: dns,
    })
}

async fn world() -> Option<World> {
    world_on(DbBackend::Sqlite, |_| {}).await
}

/// A browser at Tessera: keeps cookies (the binding cookie), follows no redirects.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

impl World {
    /// `/v1/sso/login` for `email` in `tessera`: the IdP's authorization URL.
    async fn begin(&self, tessera: &reqwest::Client, email: &str) -> String {
        let res = tessera
            .get(self.app.url("/v1/sso/login"))
            .query(&[("email", email)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 302, "{}", res.text().await.unwrap());
        res.headers()["location"].to_str().unwrap().to_owned()
    }

    /// Signs `login` in at the IdP: the callback URL (not requested).
    async fn at_idp(&self, authorization: &str, login: &str, password: &str) -> String {
        IdpBrowser::new()
            .sign_in(authorization, login, password)
            .await
            .unwrap()
            .to_string()
    }

    /// The whole flow for `login`; the callback's status and body.
    async fn sign_in(&self, email: &str, login: &str, password: &str) -> (u16, Value) {
        let tessera = browser();
        let authorization = self.begin(&tessera, email).await;
        let callback = self.at_idp(&authorization, login, password).await;
        get(&tessera, &callback).await
    }

    async fn sessions_opened(&self) -> usize {
        self.app
            .audit_events(&self.owner, "session.create")
            .await
            .len()
    }

    /// Account 1's users.
    async fn users(&self) -> Vec<Value> {
        let (status, users) = self
            .app
            .call(
                "GET",
                "/v1/accounts/1/users?per_page=50",
                Some(&self.owner),
                None,
            )
            .await;
        assert_eq!(status, 200, "{users}");
        users["result"].as_array().unwrap().clone()
    }

    async fn refusals(&self) -> Vec<Value> {
        self.app
            .audit_events(&self.owner, "sso.login")
            .await
            .into_iter()
            .filter(|e| e["outcome"] == "failure")
            .collect()
    }
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, Value) {
    let res = client.get(url).send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn code(body: &Value) -> u64 {
    body["errors"][0]["code"].as_u64().unwrap_or_default()
}

#[tokio::test]
async fn a_domain_user_signs_in_through_the_idp_and_gets_a_working_session() {
    let Some(w) = world().await else { return };
    let (status, body) = w
        .sign_in("alice@corp.example", "alice", "alice-password")
        .await;
    assert_eq!(status, 200, "{body}");
    let token = body["result"]["token"].as_str().unwrap();
    assert!(token.starts_with("tss_"));
    let (status, me) = w.app.call("GET", "/v1/accounts/1", Some(token), None).await;
    assert_eq!(status, 200, "the session works: {me}");
    let logins = w.app.audit_events(&w.owner, "sso.login").await;
    let ok = logins.iter().find(|e| e["outcome"] == "success").unwrap();
    assert_eq!(ok["details"]["subject"], "alice");
    assert!(
        !logins.iter().any(|e| e.to_string().contains(token)),
        "no token in the audit log"
    );
    // The email matches whatever its case at the IdP or in Tessera.
    let (status, _) = w
        .app
        .call(
            "POST",
            "/v1/accounts/1/users",
            Some(&w.owner),
            Some(json!({"login": "dave01", "email": "dave@corp.example"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = w
        .sign_in("dave@corp.example", "dave", "dave-password")
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_replayed_state_or_a_callback_in_another_browser_is_refused_and_opens_nothing() {
    let Some(w) = world().await else { return };
    let tessera = browser();
    let authorization = w.begin(&tessera, "alice@corp.example").await;
    let callback = w.at_idp(&authorization, "alice", "alice-password").await;
    // Carried to another browser (login CSRF): refused, without spending the sign-in of the
    // browser that started it (whoever learns a state cannot burn it).
    let before = w.sessions_opened().await;
    let (status, body) = get(&browser(), &callback).await;
    assert_eq!((status, code(&body)), (400, 4009), "{body}");
    let (status, body) = get(&tessera, &callback).await;
    assert_eq!(status, 200, "still its own browser's: {body}");
    // Replayed: the binding cookie went with the sign-in, and the state with it.
    let (status, body) = get(&tessera, &callback).await;
    assert_eq!((status, code(&body)), (400, 4009), "replayed: {body}");
    assert_eq!(
        w.sessions_opened().await,
        before + 1,
        "only the one sign-in"
    );
    // A code brought back to another connector's callback (the mix-up attack: one IdP's code
    // carried into another connector's sign-in) is never redeemed there.
    let authorization = w.begin(&tessera, "alice@corp.example").await;
    let callback = w.at_idp(&authorization, "alice", "alice-password").await;
    let elsewhere = callback.replace(&w.connector, &"0".repeat(32));
    let (status, body) = get(&tessera, &elsewhere).await;
    assert_eq!((status, code(&body)), (400, 4008), "{body}");
    assert_eq!(w.sessions_opened().await, before + 1);
    // A made-up state: without a binding cookie for it (4009), and with one (4008); and none.
    let made_up = w.app.url(&format!(
        "/v1/sso/callback/{}?state=made-up&code=x",
        w.connector
    ));
    let (status, body) = get(&tessera, &made_up).await;
    assert_eq!((status, code(&body)), (400, 4009), "{body}");
    let res = reqwest::Client::new()
        .get(&made_up)
        .header(
            "cookie",
            format!("{}=forged", tessera_app::binding_cookie_name("made-up")),
        )
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    assert_eq!((status, code(&body)), (400, 4008), "{body}");
    let (status, _) = get(
        &tessera,
        &w.app
            .url(&format!("/v1/sso/callback/{}?code=x", w.connector)),
    )
    .await;
    assert_eq!(status, 400);
    // Refusals before a sign-in is found name no account: they are audited without one
    // (the use-case tests check each).
}

#[tokio::test]
async fn every_tampered_id_token_is_refused_and_opens_nothing() {
    let Some(w) = world().await else { return };
    let before = w.sessions_opened().await;
    for mode in Tamper::ALL {
        let tessera = browser();
        let authorization = w.begin(&tessera, "alice@corp.example").await;
        let callback = w.at_idp(&authorization, "alice", "alice-password").await;
        w.idp.tamper(mode).await;
        let (status, body) = get(&tessera, &callback).await;
        assert_eq!((status, code(&body)), (401, 4019), "{mode:?}: {body}");
    }
    assert_eq!(w.sessions_opened().await, before);
    let reasons: Vec<String> = w
        .refusals()
        .await
        .iter()
        .map(|e| {
            e["details"]["reason"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert!(
        reasons
            .iter()
            .all(|r| r.starts_with("the ID token is not valid")),
        "{reasons:?}"
    );
    // And untampered, it works.
    let (status, body) = w
        .sign_in("alice@corp.example", "alice", "alice-password")
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn the_idps_key_rotation_is_followed_without_a_restart() {
    let Some(mut w) = world().await else { return };
    let (status, _) = w
        .sign_in("alice@corp.example", "alice", "alice-password")
        .await;
    assert_eq!(status, 200, "the JWKS is now cached (max-age 300)");
    let old = w.idp.jwks().await;
    w.idp.restart_with_new_keys().await;
    assert_ne!(w.idp.jwks().await, old);
    let (status, body) = w
        .sign_in("alice@corp.example", "alice", "alice-password")
        .await;
    assert_eq!(status, 200, "signed by a key the cache lacked: {body}");
}

#[tokio::test]
async fn emails_outside_the_domain_unverified_unknown_or_inactive_are_refused() {
    let Some(w) = world().await else { return };
    let before = w.sessions_opened().await;
    let (status, body) = w
        .sign_in("alice@corp.example", "mallory", "mallory-password")
        .await;
    assert_eq!((status, code(&body)), (403, 4037), "{body}");
    let (status, body) = w.sign_in("bob@corp.example", "bob", "bob-password").await;
    assert_eq!((status, code(&body)), (403, 4037), "{body}");
    let (status, body) = w
        .sign_in("carol@corp.example", "carol", "carol-password")
        .await;
    assert_eq!((status, code(&body)), (403, 4038), "no such user: {body}");
    let alice = w
        .users()
        .await
        .into_iter()
        .find(|u| u["login"] == "alice01")
        .unwrap()["id"]
        .clone();
    let (status, _) = w
        .app
        .call(
            "PATCH",
            &format!("/v1/accounts/1/users/{alice}"),
            Some(&w.owner),
            Some(json!({"status": "inactive"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = w
        .sign_in("alice@corp.example", "alice", "alice-password")
        .await;
    assert_eq!((status, code(&body)), (403, 4039), "{body}");
    assert_eq!(w.sessions_opened().await, before);
    assert_eq!(w.refusals().await.len(), 4);
}

#[tokio::test]
async fn unknown_disabled_or_unconfigured_domains_have_no_sso_sign_in() {
    let Some(w) = world().await else { return };
    let tessera = browser();
    let login = |q: &'static str| {
        let tessera = tessera.clone();
        let url = w.app.url(&format!("/v1/sso/login?{q}"));
        async move { get(&tessera, &url).await }
    };
    let (status, body) = login("email=someone@unknown.example").await;
    assert_eq!((status, code(&body)), (404, 4041), "{body}");
    let (status, body) = login("account_id=2&domain=corp.example").await;
    assert_eq!(
        (status, code(&body)),
        (404, 4041),
        "another account: {body}"
    );
    let (status, _) = login("account_id=1&domain=corp.example").await;
    assert_eq!(status, 302);
    for bad in [
        "",
        "email=",
        "email=a@corp.example&account_id=1",
        "return_to=elsewhere&email=a@corp.example",
        "email=a@b.c&extra=1",
    ] {
        let (status, body) = get(&tessera, &w.app.url(&format!("/v1/sso/login?{bad}"))).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let long = format!("email={}@corp.example", "a".repeat(400));
    let (status, _) = get(&tessera, &w.app.url(&format!("/v1/sso/login?{long}"))).await;
    assert_eq!(status, 400, "longer than an email may be");
    let huge = format!("email={}@corp.example", "a".repeat(20_000));
    let status = tessera
        .get(w.app.url(&format!("/v1/sso/login?{huge}")))
        .send()
        .await
        .map(|r| r.status().as_u16());
    assert!(matches!(status, Ok(400 | 414 | 431)), "{status:?}");
    let one = format!("{SSO}/{}", w.connector);
    let (status, _) = w
        .app
        .call(
            "PATCH",
            &one,
            Some(&w.owner),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = login("email=alice@corp.example").await;
    assert_eq!((status, code(&body)), (404, 4041), "disabled: {body}");
    // Password sign-in is back for the domain once the connector is disabled: no lockout.
    let (status, _) = w
        .app
        .call(
            "PATCH",
            &one,
            Some(&w.owner),
            Some(json!({"enabled": true, "idp": null})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = login("email=alice@corp.example").await;
    assert_eq!((status, code(&body)), (404, 4041), "no IdP: {body}");
}

#[tokio::test]
async fn the_idp_denying_the_sign_in_is_refused() {
    let Some(w) = world().await else { return };
    let tessera = browser();
    let authorization = w.begin(&tessera, "alice@corp.example").await;
    let state = reqwest::Url::parse(&authorization)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let (status, body) = get(
        &tessera,
        &w.app.url(&format!(
            "/v1/sso/callback/{}?state={state}&error=access_denied",
            w.connector
        )),
    )
    .await;
    assert_eq!((status, code(&body)), (401, 4018), "{body}");
}

#[tokio::test]
async fn first_sign_ins_create_users_only_when_the_connector_says_and_never_owners() {
    let Some(w) = world().await else { return };
    let one = format!("{SSO}/{}", w.connector);
    let idp = |jit: Value| json!({"idp": {"type": "oidc", "issuer": w.idp.issuer(), "client_id": "tessera", "jit_role_id": jit}});
    let (status, body) = w
        .app
        .call("PATCH", &one, Some(&w.owner), Some(idp(json!(1))))
        .await;
    assert_eq!((status, code(&body)), (400, 4000), "never Owner: {body}");
    let (status, body) = w
        .app
        .call("PATCH", &one, Some(&w.owner), Some(idp(json!(3))))
        .await;
    assert_eq!(status, 200, "Developer, the secret kept: {body}");
    let (status, body) = w
        .sign_in("carol@corp.example", "carol", "carol-password")
        .await;
    assert_eq!(status, 200, "{body}");
    let carol = w
        .users()
        .await
        .into_iter()
        .find(|u| u["email"] == "carol@corp.example")
        .unwrap();
    assert!(
        carol["login"].as_str().unwrap().starts_with("carol-"),
        "{carol}"
    );
    // Again: the same user, not a second one.
    let (status, _) = w
        .sign_in("carol@corp.example", "carol", "carol-password")
        .await;
    assert_eq!(status, 200);
    let carols = w
        .users()
        .await
        .iter()
        .filter(|u| u["email"] == "carol@corp.example")
        .count();
    assert_eq!(carols, 1);
}

#[tokio::test]
async fn a_domain_verified_by_one_account_cannot_be_claimed_by_another() {
    let Some(w) = world().await else { return };
    let child = w.app.child_account(&w.owner).await;
    let id = child["account_id"].as_i64().unwrap();
    let (status, body) = w
        .app
        .call(
            "POST",
            &format!("/v1/accounts/{id}/sso_connectors"),
            Some(&w.owner),
            Some(json!({"email_domain": "corp.example"})),
        )
        .await;
    assert_eq!((status, code(&body)), (409, 4090), "{body}");
}
