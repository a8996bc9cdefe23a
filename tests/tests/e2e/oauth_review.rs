//! Attacks on the OAuth token core found in review, each pinned by a test.

use serde_json::Value;
use tessera_tests::{TestApp, e2e};

/// Without `server.public_url`, the discovery documents name the request's own origin, which
/// anyone can steer with `X-Forwarded-Host`: a shared cache must never keep such a document
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
        assert!(vary.contains("x-forwarded-host"), "{path}: Vary `{vary}`");
    }
}

e2e!(a_discovery_document_derived_from_the_request_is_never_shared_cached);
