//! The official Cloudflare SDK (`cloudflare` as pinned in `scripts/requirements.txt`) drives
//! `iam.oauth_scopes` and every call of `iam.oauth_clients` against the real server, through
//! `scripts/cloudflare_smoke.py --only oauth`. It needs a Python with that SDK
//! (`TESSERA_SDK_PYTHON`, which `.ci/run` sets); without one the test says so and passes,
//! unless `TESSERA_REQUIRE_PEERS=1`.

use tessera_tests::{TestApp, e2e};

/// The Python with the pinned official SDK (`TESSERA_SDK_PYTHON`, set by `.ci/run` to the
/// venv `scripts/doc_snippets.py` makes); `None` skips, unless `TESSERA_REQUIRE_PEERS=1`.
fn sdk_python() -> Option<std::path::PathBuf> {
    let python = std::env::var_os("TESSERA_SDK_PYTHON")
        .map(std::path::PathBuf::from)
        .filter(|p| p.exists());
    if python.is_none() {
        assert!(
            std::env::var("TESSERA_REQUIRE_PEERS").as_deref() != Ok("1"),
            "TESSERA_SDK_PYTHON (a Python with the pinned cloudflare SDK) is required \
             (TESSERA_REQUIRE_PEERS=1) but not set"
        );
        eprintln!("sdk: skipped, TESSERA_SDK_PYTHON is not set");
    }
    python
}

/// The official Cloudflare SDK (`cloudflare` as pinned in `scripts/requirements.txt`) drives
/// `iam.oauth_scopes.list` and every `iam.oauth_clients` call against the real server, through
/// `scripts/cloudflare_smoke.py --only oauth`, which asserts each answer.
async fn the_official_sdk_drives_oauth_clients(app: TestApp) {
    let Some(python) = sdk_python() else {
        return;
    };
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/cloudflare_smoke.py"
    );
    let credentials = app.data_dir.join("initial-credentials.json");
    let base = app.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .args([script, "--url", &base, "--credentials"])
            .arg(&credentials)
            .args(["--only", "oauth"])
            .output()
            .expect("the SDK's python runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for call in [
        "oauth_scopes.list",
        "oauth_clients.create",
        "oauth_clients.list",
        "oauth_clients.get",
        "oauth_clients.update",
        "oauth_clients.rotate_secret",
        "oauth_clients.delete_rotated_secret",
        "oauth_clients.delete",
        "cloudflare oauth: ok",
    ] {
        assert!(stdout.contains(call), "{call} missing from:\n{stdout}");
    }
    let owner = app.owner().await;
    for action in [
        "oauth_client.create",
        "oauth_client.update",
        "oauth_client.rotate_secret",
        "oauth_client.delete_rotated_secret",
        "oauth_client.delete",
    ] {
        assert_eq!(app.audit_events(&owner, action).await.len(), 1, "{action}");
    }
}

e2e!(the_official_sdk_drives_oauth_clients);
