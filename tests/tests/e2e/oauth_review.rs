//! Attacks on the OAuth token core found in review, each pinned by a test.

use serde_json::Value;
use tessera_tests::{TestApp, e2e};

/// Without `server.public_url`, the discovery documents name the request's own origin, which
/// a client steers with its `Host` header: a shared cache must never keep such a document
/// (it would hand one caller's `jwks_uri` and `token_endpoint` to every relying party).
async fn a_discovery_document_derived_from_the_request_is_never_shared_cached(app: TestApp) {
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let res = app
            .client
            .get(app.url(path))
            .header("X-Forwarded-Host", "evil.example")
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), 200);
        let header = |name: &str| {
            res.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_ascii_lowercase()
        };
        let cache = header("cache-control");
        let vary = header("vary");
        let body: Value = res.json().await.expect("json");
        let issuer = body["issuer"].as_str().expect("issuer");
        // The test server has no public URL: the issuer comes from the request.
        assert!(
            !cache.contains("public") && cache.contains("private"),
            "{path}: the issuer {issuer} taken from the request is cached as `{cache}`"
        );
        assert!(vary.contains("host"), "{path}: Vary `{vary}`");
    }
}

/// The forwarded host and scheme headers of `X-Forwarded-*` and `Forwarded` a client sends.
const SPOOFED: [(&str, &str); 3] = [
    ("X-Forwarded-Host", "evil.example"),
    ("X-Forwarded-Proto", "https"),
    ("Forwarded", "host=evil2.example;proto=https"),
];

/// The issuer named by the discovery document and by a machine token, requested with
/// [`SPOOFED`] headers.
async fn issuers_seen_with_spoofed_headers(app: &TestApp) -> (String, String) {
    let mut req = app.client.get(app.url("/.well-known/openid-configuration"));
    for (name, value) in SPOOFED {
        req = req.header(name, value);
    }
    let doc: Value = req.send().await.expect("sent").json().await.expect("json");
    let creds = app.initial_credentials();
    let mut req = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(
            creds["access_key"]["id"].as_str().expect("id"),
            creds["access_key"]["secret"].as_str(),
        )
        .form(&[("grant_type", "client_credentials")]);
    for (name, value) in SPOOFED {
        req = req.header(name, value);
    }
    let body: Value = req.send().await.expect("sent").json().await.expect("json");
    let token = body["access_token"].as_str().expect("access_token");
    let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .expect("a JWT")
        .claims;
    (
        doc["issuer"].as_str().expect("issuer").to_owned(),
        claims["iss"].as_str().expect("iss").to_owned(),
    )
}

/// A client names neither the issuer of its tokens nor the origin of the discovery document
/// with forwarding headers: from a peer that is not a trusted proxy they are ignored, and from a
/// trusted proxy only the scheme it forwards counts, never a forwarded host.
async fn forwarding_headers_of_a_client_name_no_issuer(app: TestApp) {
    let own = app.base.trim_end_matches('/').to_owned();
    assert!(own.starts_with("http://127.0.0.1:"), "{own}");
    let (issuer, iss) = issuers_seen_with_spoofed_headers(&app).await;
    assert_eq!(issuer, own, "discovery");
    assert_eq!(iss, own, "token");
}

#[tokio::test]
async fn a_trusted_proxy_forwards_the_scheme_and_never_a_host() {
    let app = TestApp::spawn_with(tessera_tests::DbBackend::Sqlite, |s| {
        s.server.trust_forwarded_for = true;
        s.server.trusted_proxies = vec!["127.0.0.1/32".into()];
    })
    .await
    .expect("sqlite");
    let own = app
        .base
        .trim_end_matches('/')
        .replace("http://", "https://");
    let (issuer, iss) = issuers_seen_with_spoofed_headers(&app).await;
    assert_eq!(issuer, own, "discovery");
    assert_eq!(iss, own, "token");
}

e2e!(
    a_discovery_document_derived_from_the_request_is_never_shared_cached,
    forwarding_headers_of_a_client_name_no_issuer,
);
