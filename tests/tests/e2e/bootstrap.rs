use std::os::unix::fs::PermissionsExt;

use tessera_tests::{TestApp, e2e};

fn read_credentials(app: &TestApp) -> serde_json::Value {
    let path = app.data_dir.join("initial-credentials.json");
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

async fn first_start_writes_private_credentials_for_the_owner(app: TestApp) {
    let path = app.data_dir.join("initial-credentials.json");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let creds = read_credentials(&app);
    assert_eq!(creds["account_id"], 1);
    assert_eq!(creds["account_name"], "Tessera");
    assert_eq!(creds["owner"]["login"], "admin");
    assert_eq!(creds["owner"]["user_id"], 1);
    let password = creds["owner"]["password"].as_str().unwrap();
    assert!(password.len() >= 16, "{password}");
    let token = creds["access_key"]["token"].as_str().unwrap();
    assert!(token.starts_with(&format!(
        "tsr_{}_",
        creds["access_key"]["id"].as_str().unwrap()
    )));
    assert!(
        creds["service_key"]["private_key"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    let key_file = app.data_dir.join("credentials.json");
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let key: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&key_file).unwrap()).unwrap();
    assert_eq!(
        key, creds["service_key"],
        "credentials.json is the service key object"
    );
    assert_eq!(key["account_id"], 1);
    // The access key works at once; the owner may list users with it.
    let (status, body) = app
        .call("GET", "/v1/accounts/1/users", Some(token), None)
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn a_restart_creates_no_second_account(app: TestApp) {
    let before = read_credentials(&app);
    let path = app.data_dir.join("initial-credentials.json");
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
    let app = app.restart();
    assert_eq!(app.get_json("/readyz").await.0, 200);
    assert_eq!(read_credentials(&app), before, "the file is not rewritten");
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        modified
    );
    assert_eq!(app.db().store().count_accounts().unwrap(), 1);
}

e2e!(
    first_start_writes_private_credentials_for_the_owner,
    a_restart_creates_no_second_account
);
