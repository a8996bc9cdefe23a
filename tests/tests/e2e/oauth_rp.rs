//! A real relying party signs a user in: panva's `openid-client` (tests/rp/rp.mjs, pinned in
//! its package-lock.json) builds the authorization URL from Tessera's discovery document (PKCE
//! S256, state, nonce); Chromium, headless, goes through Tessera's sign-in page (password, then
//! a one-time code) and its consent screen to the client's redirect URI; the library exchanges
//! the code, verifies the ID token against the JWKS, checks the access token as a resource
//! server (RFC 9068), calls userinfo, refreshes, and sees a replayed refresh token revoke the
//! grant. Skipped without Chromium, chromedriver, Node or `npm ci` in tests/rp (failing
//! instead with `TESSERA_REQUIRE_PEERS=1`).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use fantoccini::Locator::Css;
use serde_json::{Value, json};
use tessera_tests::{DbBackend, PASSWORD, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::mfa::enrol;
use crate::peers::tool;
use crate::signin_browser::{Step, browser_tools, click, fill, finish, launch, step, url_starting};

/// The relying party's directory, when its packages are installed.
fn relying_party() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rp");
    let installed = dir.join("node_modules/openid-client").is_dir();
    if !installed {
        assert!(
            std::env::var("TESSERA_REQUIRE_PEERS").as_deref() != Ok("1"),
            "tests/rp is required (TESSERA_REQUIRE_PEERS=1) but not installed: npm ci there"
        );
        eprintln!("peers: skipped, tests/rp is not installed (npm ci)");
        return None;
    }
    tool(&["node"])?;
    Some(dir)
}

/// A listener at the client's redirect URI that answers every request with a short page (the
/// browser lands there; the test reads the address).
async fn callback_listener() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _read = socket.read(&mut buf).await;
                let _written = socket
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 20\r\n\
                          connection: close\r\n\r\n<p>back at the app</p>",
                    )
                    .await;
            });
        }
    });
    format!("http://127.0.0.1:{}/callback", addr.port())
}

async fn drive(
    browser: &fantoccini::Client,
    authorization_url: &str,
    redirect_uri: &str,
    code: &str,
) -> Step<String> {
    browser
        .goto(authorization_url)
        .await
        .map_err(step("opening the authorization URL"))?;
    // Not signed in: Tessera's sign-in page, which comes back to the request.
    fill(browser, "#account_id", "1").await?;
    fill(browser, "#login", "carol01").await?;
    fill(browser, "#password", PASSWORD).await?;
    click(browser, "#password-form button[type=submit]").await?;
    browser
        .wait()
        .for_element(Css("#totp-step:not([hidden])"))
        .await
        .map_err(step("the one-time code step"))?;
    fill(browser, "#code", code).await?;
    click(browser, "#totp-form button[type=submit]").await?;
    // Back at the authorization request: the consent screen.
    browser
        .wait()
        .for_element(Css("#consent-form"))
        .await
        .map_err(step("the consent screen"))?;
    click(browser, "#consent-form button[value=allow]").await?;
    url_starting(browser, redirect_uri).await
}

#[tokio::test]
async fn a_real_relying_party_signs_a_user_in_with_pkce_through_the_pages() {
    let Some(tools) = browser_tools() else { return };
    let Some(rp) = relying_party() else { return };
    let app = TestApp::spawn(DbBackend::Sqlite).await.unwrap();
    let owner = app.owner().await;
    app.create_user(&owner, "carol01", &["Administrator"]).await;
    let session = app.login(1, "carol01", PASSWORD).await;
    let (mut auth, _recovery) = enrol(&app, &session).await;
    let redirect_uri = callback_listener().await;
    let (status, created) = app
        .call(
            "POST",
            "/v1/accounts/1/oauth_clients",
            Some(&owner),
            Some(json!({
                "client_name": "Relying party",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code", "id_token"],
                "redirect_uris": [redirect_uri],
                "scopes": ["openid", "email", "profile", "offline_access", "user_management.read"],
                "token_endpoint_auth_method": "client_secret_basic",
            })),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let client_id = created["result"]["client_id"].as_str().unwrap().to_owned();
    let secret = created["result"]["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut child = Command::new("node")
        .arg(rp.join("rp.mjs"))
        .args([
            &app.base,
            &client_id,
            &secret,
            &redirect_uri,
            "openid email profile offline_access user_management.read",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let authorization_url = first["authorization_url"]
        .as_str()
        .unwrap_or_else(|| panic!("the relying party failed: {first}"))
        .to_owned();
    assert!(authorization_url.starts_with(&app.url("/oauth/authorize?")));

    let code = auth.code().await;
    let (_driver, browser) = launch(&app, &tools, "rp").await;
    let landed = finish(
        browser.clone(),
        drive(&browser, &authorization_url, &redirect_uri, &code),
    )
    .await;

    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{landed}").unwrap();
    drop(stdin);
    let last: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{last}");

    assert_eq!(last["iss_in_callback"], app.base);
    let id = &last["id_token"];
    assert_eq!(id["iss"], app.base);
    assert_eq!(id["aud"], client_id);
    assert_eq!(id["email"], "carol01@example.com");
    assert_eq!(id["preferred_username"], "carol01");
    assert!(id["auth_time"].as_i64().is_some(), "{id}");
    let access = &last["access_token"];
    assert_eq!(access["client_id"], client_id);
    assert_eq!(access["sub"], id["sub"]);
    assert_eq!(
        last["scope"],
        "openid email profile offline_access user_management.read"
    );
    assert_eq!(last["userinfo"]["sub"], id["sub"]);
    assert_eq!(last["userinfo"]["email"], "carol01@example.com");
    assert_eq!(last["refreshed"]["rotated"], true);
    assert_eq!(last["refreshed"]["id_token"]["sub"], id["sub"]);
    assert_eq!(last["reuse_error"], "invalid_grant");
    assert_eq!(last["newest_after_reuse_error"], "invalid_grant");
    let _unused = Duration::from_secs(0);
}
