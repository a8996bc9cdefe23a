//! An authenticator nobody here wrote: OATH Toolkit's `oathtool` (Debian's package, installed by
//! `.ci/run`) reads the enrolment's `otpauth://` URI as an authenticator app scanning its QR code
//! does, and its codes confirm the enrolment and complete a sign-in. Without `oathtool` the test
//! says so and passes, unless `TESSERA_REQUIRE_PEERS=1`.

use std::process::Command;

use serde_json::json;
use tessera_tests::{TestApp, e2e};

use super::{challenge, complete};
use crate::peers::tool;

/// What an authenticator app takes from an `otpauth://totp/…` URI: the base32 secret, after
/// checking that the parameters are the ones every app assumes when they are absent.
fn scan(uri: &str) -> String {
    let url = reqwest::Url::parse(uri).expect("an otpauth URI");
    assert_eq!(url.scheme(), "otpauth");
    assert_eq!(url.host_str(), Some("totp"), "{uri}");
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    for (name, default) in [("algorithm", "SHA1"), ("digits", "6"), ("period", "30")] {
        let value = param(name).unwrap_or_else(|| default.to_owned());
        assert_eq!(value, default, "{name} in {uri}");
    }
    assert_eq!(param("issuer").as_deref(), Some("Tessera"), "{uri}");
    param("secret").expect("a secret")
}

/// `oathtool --totp -b -w 1 <secret>`: the codes of the current step and of the next.
fn oathtool_codes(binary: &std::path::Path, secret: &str) -> (String, String) {
    let out = Command::new(binary)
        .args(["--totp", "-b", "-w", "1", secret])
        .output()
        .expect("oathtool runs");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let mut lines = text.lines().map(str::to_owned);
    let now = lines.next().expect("the current code");
    let next = lines.next().expect("the next code");
    assert!(
        [&now, &next]
            .iter()
            .all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit())),
        "{text}"
    );
    (now, next)
}

async fn oathtools_codes_confirm_an_enrolment_and_complete_a_sign_in(app: TestApp) {
    let Some(oathtool) = tool(&["oathtool"]) else {
        return;
    };
    let owner = app.owner().await;
    app.create_user(&owner, "olga01", &["Developer"]).await;
    let session = app.login(1, "olga01", tessera_tests::PASSWORD).await;
    let (status, body) = app.call("POST", "/v1/mfa/totp", Some(&session), None).await;
    assert_eq!(status, 200, "{body}");
    let secret = scan(body["result"]["otpauth_uri"].as_str().expect("a URI"));
    assert_eq!(body["result"]["secret"], secret.as_str());

    // The current step's code confirms; the next step's (within the one-step skew, and later
    // than the step already used) completes a sign-in.
    let (now, next) = oathtool_codes(&oathtool, &secret);
    let (status, body) = app
        .call(
            "POST",
            "/v1/mfa/totp/confirm",
            Some(&session),
            Some(json!({ "code": now })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let c = challenge(&app, "olga01", "mfa_required").await;
    let (status, body) = complete(&app, &c, &next).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["result"]["token"]
            .as_str()
            .is_some_and(|t| t.starts_with("tss_")),
        "{body}"
    );
    // The same code again is a replay.
    let c = challenge(&app, "olga01", "mfa_required").await;
    assert_eq!(complete(&app, &c, &next).await.0, 401);
}

e2e!(oathtools_codes_confirm_an_enrolment_and_complete_a_sign_in);
