//! The credential report (`GET /v1/accounts/{id}/credential_report`) and last use: every user
//! and key with its last use and address, as JSON and as CSV; who may read it; what a deny
//! hides; bad filters. And `GetAccountInfo`, the basic method every key may call.

use serde_json::{Value, json};
use tessera_tests::{PASSWORD, TestApp, Via, e2e, jwt, rpc_code, rpc_ok, unix_now};

const REPORT: &str = "/v1/accounts/1/credential_report";

async fn report(app: &TestApp, token: &str, query: &str) -> Value {
    let (status, body) = app
        .call("GET", &format!("{REPORT}{query}"), Some(token), None)
        .await;
    assert_eq!(status, 200, "{body}");
    body["result"].clone()
}

fn row<'a>(report: &'a Value, kind: &str, id: &str) -> Option<&'a Value> {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["type"] == kind && r["id"] == id)
}

/// Polls the report until the row's `last_used_at` is set: uses are written in batches by the
/// maintenance task (every 250 ms).
async fn until_used(app: &TestApp, token: &str, kind: &str, id: &str) -> Value {
    for _ in 0..200 {
        let r = report(app, token, "").await;
        if let Some(found) = row(&r, kind, id).filter(|r| !r["last_used_at"].is_null()) {
            return found.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the use of {kind} {id} was never recorded");
}

async fn the_report_shows_every_user_and_key_with_its_last_use(app: TestApp) {
    let owner = app.owner().await;
    let alice = app.create_user(&owner, "alice", &["Developer"]).await;
    let before = report(&app, &owner, "").await;
    let admin = row(&before, "user", "1").expect("the owner");
    assert_eq!(admin["login"], "admin");
    assert!(
        !admin["last_used_at"].is_null(),
        "the owner signed in: {admin}"
    );
    assert_eq!(admin["last_used_from"], "127.0.0.1");
    let alice_row = row(&before, "user", &alice.to_string())
        .expect("alice")
        .clone();
    assert_eq!(
        (&alice_row["last_used_at"], &alice_row["status"]),
        (&Value::Null, &json!("active")),
        "alice never signed in"
    );

    // Alice signs in, makes an access key with a formula for a name and uses it.
    let session = app.login(1, "alice", PASSWORD).await;
    let (status, made) = app
        .call(
            "POST",
            &format!("/v1/accounts/1/users/{alice}/access_keys"),
            Some(&session),
            Some(json!({
                "name": "=HYPERLINK(\"http://evil\",\"x\")",
                "expires_at": "2099-01-02T03:04:05Z"
            })),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    let key_id = made["result"]["id"].as_str().unwrap().to_owned();
    let token = made["result"]["token"].as_str().unwrap().to_owned();
    let (status, _) = app
        .call(
            "GET",
            &format!("/v1/accounts/1/users/{alice}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200);
    // The bootstrap service key is used by the method API.
    let service_key = app.initial_credentials()["service_key"]["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let roles = app
        .rpc(Some(&app.owner_jwt()), Via::Form, "GetRoles", &[])
        .await;
    assert!(rpc_ok(&roles).is_array(), "{roles}");

    let ak = until_used(&app, &owner, "access_key", &key_id).await;
    assert_eq!(ak["last_used_from"], "127.0.0.1");
    assert_eq!(
        (&ak["user_id"], &ak["login"], &ak["name"]),
        (
            &json!(alice),
            &json!("alice"),
            &json!("=HYPERLINK(\"http://evil\",\"x\")")
        ),
        "JSON carries the name as it is"
    );
    let sk = until_used(&app, &owner, "service_key", &service_key).await;
    assert_eq!((&sk["user_id"], &sk["login"]), (&Value::Null, &Value::Null));
    assert_eq!(sk["last_used_from"], "127.0.0.1");
    let after = report(&app, &owner, "").await;
    let alice_row = row(&after, "user", &alice.to_string()).unwrap();
    assert!(!alice_row["last_used_at"].is_null(), "{alice_row}");
    let expiring: Vec<_> = after["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["expires_at"].is_null())
        .map(|r| (r["id"].clone(), r["expires_at"].clone()))
        .collect();
    assert_eq!(
        expiring,
        vec![(json!(key_id), json!("2099-01-02T03:04:05Z"))],
        "only alice's key expires"
    );
    assert_eq!(after["account_id"], 1);
    assert_eq!(after["unused_days"], Value::Null);

    // The objects' own answers show their last use too.
    let (_, key) = app
        .call(
            "GET",
            &format!("/v1/accounts/1/keys/{service_key}"),
            Some(&owner),
            None,
        )
        .await;
    assert!(!key["result"]["last_used_at"].is_null(), "{key}");
    assert_eq!(key["result"]["last_used_from"], "127.0.0.1");
    let (_, keys) = app
        .call(
            "GET",
            &format!("/v1/accounts/1/users/{alice}/access_keys"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(keys["result"][0]["last_used_from"], "127.0.0.1", "{keys}");
    let (_, user) = app
        .call(
            "GET",
            &format!("/v1/accounts/1/users/{alice}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(user["result"]["last_sign_in_from"], "127.0.0.1", "{user}");

    // The same report as CSV, asked by parameter or by Accept: formulas defused, quoted.
    for (query, headers) in [
        ("?format=csv", &[][..]),
        ("", &[("accept", "text/csv")][..]),
    ] {
        let res = app
            .send(
                "GET",
                &format!("{REPORT}{query}"),
                Some(&owner),
                headers,
                None,
            )
            .await;
        assert_eq!(res.status().as_u16(), 200);
        assert_eq!(
            res.headers()["content-type"].to_str().unwrap(),
            "text/csv; charset=utf-8"
        );
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("credential-report-1.csv")
        );
        let text = res.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(
            reader.headers().unwrap().iter().collect::<Vec<_>>(),
            vec![
                "type",
                "id",
                "user_id",
                "login",
                "name",
                "status",
                "created_at",
                "last_used_at",
                "last_used_from",
                "expires_at",
                "mfa"
            ]
        );
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), after["rows"].as_array().unwrap().len());
        let ak = records.iter().find(|r| &r[1] == key_id.as_str()).unwrap();
        assert_eq!(&ak[4], "'=HYPERLINK(\"http://evil\",\"x\")");
        assert_eq!(
            (&ak[0], &ak[3], &ak[8]),
            ("access_key", "alice", "127.0.0.1")
        );
        assert_eq!(&ak[9], "2099-01-02T03:04:05Z");
    }
    // `format=json` wins over Accept.
    let res = app
        .send(
            "GET",
            &format!("{REPORT}?format=json"),
            Some(&owner),
            &[("accept", "text/csv")],
            None,
        )
        .await;
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
}

async fn reading_it_needs_user_management_and_api_credentials_read(app: TestApp) {
    let owner = app.owner().await;
    for (login, role) in [("support", "Support"), ("reader", "User Read")] {
        app.create_user(&owner, login, &[role]).await;
        let token = app.login(1, login, PASSWORD).await;
        let (status, body) = app.call("GET", REPORT, Some(&token), None).await;
        assert_eq!(status, 403, "{role}: {body}");
        assert_eq!(body["result"], Value::Null);
    }
    app.create_user(&owner, "admin2", &["Admin"]).await;
    let admin = app.login(1, "admin2", PASSWORD).await;
    let (status, _) = app.call("GET", REPORT, Some(&admin), None).await;
    assert_eq!(status, 200);
    // A key without roles reads nothing.
    let created = app
        .rpc(
            Some(&app.owner_jwt()),
            Via::Form,
            "CreateKey",
            &[("key_name", "bare")],
        )
        .await;
    let t = unix_now();
    let bare = jwt(&rpc_ok(&created)[0], t - 5, t + 60);
    let (status, _) = app.call("GET", REPORT, Some(&bare), None).await;
    assert_eq!(status, 403);
    // Without credentials: 401.
    let (status, _) = app.call("GET", REPORT, None, None).await;
    assert_eq!(status, 401);
}

async fn another_accounts_report_is_not_found(app: TestApp) {
    let owner = app.owner().await;
    let child = app.child_account(&owner).await;
    let child_id = child["account_id"].as_i64().unwrap();
    let child_owner = app
        .login(
            child_id,
            "admin",
            child["owner"]["password"].as_str().unwrap(),
        )
        .await;
    for path in [
        REPORT.to_owned(),
        "/v1/accounts/999/credential_report".to_owned(),
        "/v1/accounts/abc/credential_report".to_owned(),
    ] {
        let (status, body) = app.call("GET", &path, Some(&child_owner), None).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    // The parent's owner manages the child, so it reads the child's report.
    let (status, body) = app
        .call(
            "GET",
            &format!("/v1/accounts/{child_id}/credential_report"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["account_id"], child_id);
    assert!(
        body["result"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["type"] != "user" || r["login"] == "admin")
    );
}

async fn audit_count(app: &TestApp, token: &str) -> usize {
    let (status, body) = app
        .call(
            "GET",
            "/v1/accounts/1/audit_logs?per_page=1000",
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["result"].as_array().expect("events").len()
}

async fn bad_filters_are_refused_naming_the_parameter(app: TestApp) {
    let owner = app.owner().await;
    let events = audit_count(&app, &owner).await;
    for (query, message) in [
        (
            "unused_days=0",
            "unused_days: must be a whole number of days from 1 to 36500",
        ),
        (
            "unused_days=36501",
            "unused_days: must be a whole number of days from 1 to 36500",
        ),
        (
            "unused_days=many",
            "unused_days: expected a positive integer such as 2",
        ),
        (
            "unused_days=-3",
            "unused_days: expected a positive integer such as 2",
        ),
        (
            "unused_days=99999999999999999999",
            "unused_days: expected a positive integer such as 2",
        ),
        (
            "format=xml",
            "format: unknown variant `xml`, expected `json` or `csv`",
        ),
    ] {
        let (status, body) = app
            .call("GET", &format!("{REPORT}?{query}"), Some(&owner), None)
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["errors"][0]["message"], message, "{query}");
        assert_eq!(body["result"], Value::Null);
    }
    assert_eq!(audit_count(&app, &owner).await, events, "nothing changed");
}

async fn unused_days_lists_only_keys(app: TestApp) {
    let owner = app.owner().await;
    let r = report(&app, &owner, "?unused_days=1").await;
    assert_eq!(r["unused_days"], 1);
    assert_eq!(
        r["rows"],
        json!([]),
        "every key was made just now; users are left out"
    );
    let r = report(&app, &owner, "?unused_days=36500").await;
    assert_eq!(r["rows"], json!([]));
}

async fn a_deny_on_a_user_hides_it_and_its_keys_from_the_report(app: TestApp) {
    let owner = app.owner().await;
    let admin = app.create_user(&owner, "admin2", &["Admin"]).await;
    let hidden = app.create_user(&owner, "hidden", &["Developer"]).await;
    let hidden_session = app.login(1, "hidden", PASSWORD).await;
    let (status, made) = app
        .call(
            "POST",
            &format!("/v1/accounts/1/users/{hidden}/access_keys"),
            Some(&hidden_session),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    let hidden_key = made["result"]["id"].as_str().unwrap().to_owned();
    let created = app
        .rpc(
            Some(&hidden_session),
            Via::Form,
            "CreateKey",
            &[("key_name", "its own"), ("role_name", "Developer")],
        )
        .await;
    let hidden_service_key = rpc_ok(&created)[0]["key_id"].as_str().unwrap().to_owned();
    let admin_token = app.login(1, "admin2", PASSWORD).await;
    let seen = report(&app, &admin_token, "").await;
    assert!(row(&seen, "user", &hidden.to_string()).is_some());
    assert!(row(&seen, "access_key", &hidden_key).is_some());
    assert!(row(&seen, "service_key", &hidden_service_key).is_some());

    let rg = app
        .resource_group(&owner, &[&format!("com.tessera.api.account.user.{hidden}")])
        .await;
    let pg = app.permission_group(&owner, "User Management Read").await;
    app.group_with_policy(&owner, "deny", &pg, &rg, admin).await;
    let seen = report(&app, &admin_token, "").await;
    assert!(row(&seen, "user", &hidden.to_string()).is_none(), "{seen}");
    assert!(row(&seen, "access_key", &hidden_key).is_none());
    assert!(row(&seen, "service_key", &hidden_service_key).is_none());
    assert!(row(&seen, "user", &admin.to_string()).is_some());
    let res = app
        .send(
            "GET",
            &format!("{REPORT}?format=csv"),
            Some(&admin_token),
            &[],
            None,
        )
        .await;
    let text = res.text().await.unwrap();
    assert!(
        !text.contains("hidden") && !text.contains(&hidden_key),
        "{text}"
    );
    // The owner, not denied, still sees everything.
    let seen = report(&app, &owner, "").await;
    assert!(row(&seen, "access_key", &hidden_key).is_some());
}

async fn every_key_reads_its_own_account_info(app: TestApp) {
    let owner_jwt = app.owner_jwt();
    let created = app
        .rpc(
            Some(&owner_jwt),
            Via::Form,
            "CreateKey",
            &[("key_name", "bare")],
        )
        .await;
    let t = unix_now();
    let bare = jwt(&rpc_ok(&created)[0], t - 5, t + 60);
    let owner = app.owner().await;
    app.create_user(&owner, "plain", &[]).await;
    let plain = app.login(1, "plain", PASSWORD).await;
    for token in [&owner_jwt, &bare, &plain] {
        for via in Via::ALL {
            let answer = app.rpc(Some(token), via, "GetAccountInfo", &[]).await;
            let info = rpc_ok(&answer);
            assert_eq!(
                (
                    &info["account_id"],
                    &info["account_name"],
                    &info["account_email"],
                    &info["active"]
                ),
                (
                    &json!(1),
                    &json!("Tessera"),
                    &json!("owner@tessera.local"),
                    &json!(true)
                ),
                "{answer}"
            );
            let created = info["created"].as_str().unwrap();
            assert!(
                chrono_like(created),
                "created is YYYY-MM-DD HH:MM:SS: {created}"
            );
            assert_eq!(
                info.as_object().unwrap().len(),
                5,
                "no billing fields: {info}"
            );
        }
    }
    // `return_live_balance` is a boolean, accepted and ignored.
    let answer = app
        .rpc(
            Some(&bare),
            Via::Form,
            "GetAccountInfo",
            &[("return_live_balance", "true")],
        )
        .await;
    assert_eq!(rpc_ok(&answer)["account_id"], 1, "{answer}");
    let answer = app
        .rpc(
            Some(&bare),
            Via::Form,
            "GetAccountInfo",
            &[("return_live_balance", "maybe")],
        )
        .await;
    assert_eq!(rpc_code(&answer), 101, "{answer}");
    assert!(
        answer["error"]["msg"]
            .as_str()
            .unwrap()
            .contains("return_live_balance"),
        "{answer}"
    );
    // Without credentials: 100.
    let answer = app.rpc(None, Via::Form, "GetAccountInfo", &[]).await;
    assert_eq!(rpc_code(&answer), 100);
    // A child account's key reads the child, never the parent.
    let child = app.child_account(&owner).await;
    let t = unix_now();
    let child_key = jwt(&child["service_key"], t - 5, t + 60);
    let answer = app
        .rpc(Some(&child_key), Via::Form, "GetAccountInfo", &[])
        .await;
    let info = rpc_ok(&answer);
    assert_eq!(info["account_id"], child["account_id"], "{answer}");
    assert_eq!(info["account_name"], "Child");
}

/// `YYYY-MM-DD HH:MM:SS`.
fn chrono_like(s: &str) -> bool {
    s.len() == 19
        && s.char_indices().all(|(i, c)| match i {
            4 | 7 => c == '-',
            10 => c == ' ',
            13 | 16 => c == ':',
            _ => c.is_ascii_digit(),
        })
}

e2e!(
    the_report_shows_every_user_and_key_with_its_last_use,
    reading_it_needs_user_management_and_api_credentials_read,
    another_accounts_report_is_not_found,
    bad_filters_are_refused_naming_the_parameter,
    unused_days_lists_only_keys,
    a_deny_on_a_user_hides_it_and_its_keys_from_the_report,
    every_key_reads_its_own_account_info,
);
