//! Key expiry: access keys and service keys with `not_before` and `expires_at`, refused outside
//! that window on every instance, shown and filtered in lists; the account's
//! `max_key_lifetime_days`.

use chrono::{DateTime, DurationRound, SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};
use tessera_tests::{PASSWORD, TestApp, Via, e2e, jwt, rpc_code, rpc_ok, unix_now};

const KEYS: &str = "/v1/accounts/1/keys";

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `n` seconds from now, to the millisecond (as [`rfc`] writes it).
fn in_secs(n: i64) -> DateTime<Utc> {
    let t = Utc::now() + TimeDelta::seconds(n);
    t.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(t)
}

fn time_of(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a time: {v}"))
}

/// Waits until the clock has passed `t` (the servers run in this process: the same clock).
async fn until(t: DateTime<Utc>) {
    while Utc::now() <= t {
        let left = (t - Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(left + std::time::Duration::from_millis(5)).await;
    }
}

/// Creates an access key of user `user` with `body`; its token and the answer.
async fn access_key(app: &TestApp, token: &str, user: i64, body: Value) -> (String, Value) {
    let (status, made) = app
        .call(
            "POST",
            &format!("/v1/accounts/1/users/{user}/access_keys"),
            Some(token),
            Some(body),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    (
        made["result"]["token"].as_str().expect("token").to_owned(),
        made["result"].clone(),
    )
}

/// `GET /v1/accounts/1/users` as `token`: the status and the error message, if any.
async fn use_key(app: &TestApp, token: &str) -> (u16, Value) {
    let (status, body) = app
        .call("GET", "/v1/accounts/1/users", Some(token), None)
        .await;
    (status, body["errors"][0].clone())
}

fn refused(code: i64, message: &str) -> (u16, Value) {
    (401, json!({"code": code, "message": message}))
}

async fn an_expiring_access_key_is_refused_on_every_instance_from_its_moment(app: TestApp) {
    let owner = app.owner().await;
    let b = app.another();
    let end = in_secs(3);
    let (token, made) = access_key(&app, &owner, 1, json!({"expires_at": rfc(end)})).await;
    assert_eq!(time_of(&made["expires_at"]), end);
    assert_eq!(made["not_before"], Value::Null);
    for server in [&app, &b] {
        assert_eq!(use_key(server, &token).await.0, 200, "cached on both");
    }
    until(end).await;
    for server in [&b, &app] {
        assert_eq!(use_key(server, &token).await, refused(4016, "key expired"));
    }
    let failures = app.audit_events(&owner, "auth.failure").await;
    assert!(
        failures
            .iter()
            .any(|e| e["details"]["reason"] == "key expired"
                && e["details"]["credential"] == "access_key"),
        "{failures:?}"
    );
    let metrics = b.scrape().await;
    assert_eq!(
        metrics.value("tessera_auth_failures_total{kind=\"expired_key\"}"),
        Some(1.0)
    );
}

async fn an_expiry_set_on_one_instance_holds_on_the_other(app: TestApp) {
    let owner = app.owner().await;
    let b = app.another();
    let (token, made) = access_key(&app, &owner, 1, json!({"name": "rotating"})).await;
    assert_eq!(made["expires_at"], Value::Null);
    let id = made["id"].as_str().expect("id").to_owned();
    assert_eq!(use_key(&b, &token).await.0, 200, "cached without an expiry");
    // The change moves the authorization epoch: the other instance drops what it cached
    // within a second, well before the moment comes.
    let end = in_secs(3);
    let (status, body) = app
        .call(
            "PATCH",
            &format!("/v1/accounts/1/users/1/access_keys/{id}"),
            Some(&owner),
            Some(json!({"expires_at": rfc(end)})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(time_of(&body["result"]["expires_at"]), end);
    assert_eq!(use_key(&b, &token).await.0, 200, "still valid");
    until(end).await;
    assert_eq!(use_key(&b, &token).await, refused(4016, "key expired"));

    // The same for a service key's JWTs, on both APIs.
    let (status, key) = app
        .call(
            "POST",
            KEYS,
            Some(&owner),
            Some(json!({"roles": ["Admin"]})),
        )
        .await;
    assert_eq!(status, 200, "{key}");
    let key_id = key["result"]["id"].as_str().expect("id").to_owned();
    let t = unix_now();
    let token = jwt(&key["result"]["credentials"], t - 5, t + 600);
    assert_eq!(use_key(&b, &token).await.0, 200);
    let end = in_secs(3);
    let (status, body) = b
        .call(
            "PATCH",
            &format!("{KEYS}/{key_id}"),
            Some(&owner),
            Some(json!({"expires_at": rfc(end)})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(use_key(&app, &token).await.0, 200, "still valid");
    until(end).await;
    assert_eq!(use_key(&app, &token).await, refused(4016, "key expired"));
    let answer = app.rpc(Some(&token), Via::Form, "GetKeys", &[]).await;
    assert_eq!(
        rpc_code(&answer),
        100,
        "refused like a deleted key: {answer}"
    );
    assert_eq!(answer["error"]["msg"], "key expired");
}

async fn a_key_works_from_its_not_before(app: TestApp) {
    let owner = app.owner().await;
    let start = in_secs(2);
    let (token, made) = access_key(
        &app,
        &owner,
        1,
        json!({"not_before": rfc(start), "expires_at": rfc(in_secs(3600))}),
    )
    .await;
    assert_eq!(time_of(&made["not_before"]), start);
    assert_eq!(
        use_key(&app, &token).await,
        refused(4017, "key not yet valid")
    );
    let failures = app.audit_events(&owner, "auth.failure").await;
    assert!(
        failures
            .iter()
            .any(|e| e["details"]["reason"] == "key not yet valid"),
        "{failures:?}"
    );
    until(start).await;
    assert_eq!(use_key(&app, &token).await.0, 200);
}

async fn lists_show_and_filter_validity(app: TestApp) {
    let owner = app.owner().await;
    let soon = in_secs(2);
    let (_, short) = access_key(&app, &owner, 1, json!({"expires_at": rfc(soon)})).await;
    let (status, key) = app
        .call(
            "POST",
            KEYS,
            Some(&owner),
            Some(
                json!({"name": "short", "expires_at": rfc(soon), "not_before": rfc(in_secs(-60))}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{key}");
    assert_eq!(time_of(&key["result"]["expires_at"]), soon);
    let short_key = key["result"]["id"].clone();
    until(soon).await;
    let ids = |body: &Value| -> Vec<Value> {
        body["result"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|k| k["id"].clone())
            .collect()
    };
    let access = "/v1/accounts/1/users/1/access_keys";
    let (_, all) = app.call("GET", access, Some(&owner), None).await;
    assert_eq!(all["result"].as_array().map(Vec::len), Some(2), "{all}");
    assert!(
        all["result"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("expires_at").is_some() && k.get("not_before").is_some())
    );
    let (_, expired) = app
        .call("GET", &format!("{access}?expired=true"), Some(&owner), None)
        .await;
    assert_eq!(ids(&expired), vec![short["id"].clone()]);
    let (_, live) = app
        .call(
            "GET",
            &format!("{access}?expired=false"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(live["result"].as_array().map(Vec::len), Some(1));
    assert_ne!(ids(&live), vec![short["id"].clone()]);

    let (_, expired) = app
        .call("GET", &format!("{KEYS}?expired=true"), Some(&owner), None)
        .await;
    assert_eq!(ids(&expired), vec![short_key.clone()]);
    assert_eq!(expired["result_info"]["total_count"], 1);
    assert_eq!(expired["result"][0]["name"], "short");
    let (_, live) = app
        .call(
            "GET",
            &format!("{KEYS}?expired=false&per_page=1"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(
        live["result_info"]["total_count"], 1,
        "the bootstrap key: {live}"
    );
    assert_ne!(ids(&live), vec![short_key]);
    for path in [format!("{KEYS}?expired=yes"), format!("{access}?expired=1")] {
        let (status, body) = app.call("GET", &path, Some(&owner), None).await;
        assert_eq!(
            (status, &body["errors"][0]["message"]),
            (400, &json!("expired: expected true or false")),
            "{path}"
        );
    }
}

async fn bad_validities_are_refused_and_change_nothing(app: TestApp) {
    let owner = app.owner().await;
    let access = "/v1/accounts/1/users/1/access_keys";
    let (_, before) = app.call("GET", access, Some(&owner), None).await;
    let (_, keys_before) = app.call("GET", KEYS, Some(&owner), None).await;
    let past = rfc(in_secs(-1));
    let cases = [
        (
            json!({"expires_at": past}),
            "expires_at: must be in the future",
        ),
        (
            json!({"expires_at": "2030-01-01"}),
            "expires_at: expected an RFC 3339 time such as 2026-01-01T00:00:00Z",
        ),
        (
            json!({"not_before": 1_790_000_000}),
            "not_before: expected an RFC 3339 time such as 2026-01-01T00:00:00Z",
        ),
        (
            json!({"not_before": rfc(in_secs(7200)), "expires_at": rfc(in_secs(3600))}),
            "not_before: must be before expires_at",
        ),
        (
            json!({"expires_at": "10000-01-01T00:00:00Z"}),
            "expires_at: expected an RFC 3339 time such as 2026-01-01T00:00:00Z",
        ),
        (
            json!({"not_before": "1969-12-31T23:59:59Z"}),
            "not_before: must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z",
        ),
    ];
    for (body, message) in &cases {
        for path in [access, KEYS] {
            let (status, answer) = app
                .call("POST", path, Some(&owner), Some(body.clone()))
                .await;
            assert_eq!(
                (status, &answer["errors"][0]["message"]),
                (400, &json!(message)),
                "{path} {body}"
            );
        }
    }
    let (_, after) = app.call("GET", access, Some(&owner), None).await;
    let (_, keys_after) = app.call("GET", KEYS, Some(&owner), None).await;
    assert_eq!(before["result"], after["result"]);
    assert_eq!(keys_before["result"], keys_after["result"]);
    assert!(
        app.audit_events(&owner, "access_key.create")
            .await
            .is_empty()
    );

    // Changes: the same rules, and nothing changed.
    let key = &keys_before["result"][0]["id"];
    let path = format!("{KEYS}/{}", key.as_str().expect("id"));
    for (body, message) in &cases[..4] {
        let (status, answer) = app
            .call("PATCH", &path, Some(&owner), Some(body.clone()))
            .await;
        assert_eq!(
            (status, &answer["errors"][0]["message"]),
            (400, &json!(message)),
            "{body}"
        );
    }
    let (_, unchanged) = app.call("GET", &path, Some(&owner), None).await;
    assert_eq!(unchanged["result"], keys_before["result"][0]);
}

async fn the_account_bounds_key_lifetimes(app: TestApp) {
    let owner = app.owner().await;
    app.create_user(&owner, "support1", &["Support"]).await;
    let support = app.login(1, "support1", PASSWORD).await;
    let account = "/v1/accounts/1";
    let (status, body) = app
        .call(
            "PATCH",
            account,
            Some(&support),
            Some(json!({"max_key_lifetime_days": 30})),
        )
        .await;
    assert_eq!(status, 403, "Account Settings read is not enough: {body}");
    for (bad, message) in [
        (
            json!(0),
            "max_key_lifetime_days: must be between 1 and 3650",
        ),
        (
            json!(3651),
            "max_key_lifetime_days: must be between 1 and 3650",
        ),
        (
            json!(-1),
            "max_key_lifetime_days: invalid value: integer `-1`, expected u32",
        ),
        (
            json!("30"),
            "max_key_lifetime_days: invalid type: string \"30\", expected u32",
        ),
    ] {
        let (status, body) = app
            .call(
                "PATCH",
                account,
                Some(&owner),
                Some(json!({"max_key_lifetime_days": bad})),
            )
            .await;
        assert_eq!(
            (status, &body["errors"][0]["message"]),
            (400, &json!(message)),
            "{bad}"
        );
    }
    let (_, body) = app.call("GET", account, Some(&owner), None).await;
    assert_eq!(
        body["result"]["max_key_lifetime_days"],
        Value::Null,
        "nothing changed"
    );

    let (status, body) = app
        .call(
            "PATCH",
            account,
            Some(&owner),
            Some(json!({"max_key_lifetime_days": 30})),
        )
        .await;
    assert_eq!(
        (status, &body["result"]["max_key_lifetime_days"]),
        (200, &json!(30)),
        "{body}"
    );
    let updates = app.audit_events(&owner, "account.update").await;
    assert_eq!(updates[0]["details"]["max_key_lifetime_days"], 30);

    // A key without an expiry gets the limit; a longer one is refused.
    let before = Utc::now();
    let (_, made) = access_key(&app, &owner, 1, json!({})).await;
    let end = time_of(&made["expires_at"]);
    assert!(end >= before + TimeDelta::days(30) && end <= Utc::now() + TimeDelta::days(30));
    let (status, body) = app
        .call(
            "POST",
            KEYS,
            Some(&owner),
            Some(json!({"expires_at": rfc(Utc::now() + TimeDelta::days(31))})),
        )
        .await;
    assert_eq!(
        (status, &body["errors"][0]["message"]),
        (
            400,
            &json!(
                "expires_at: must be at most 30 days from now (the account's max_key_lifetime_days)"
            )
        )
    );
    // The method API's CreateKey, which has no expiry parameter, gets the limit too.
    let created = app
        .rpc(
            Some(&app.owner_jwt()),
            Via::Form,
            "CreateKey",
            &[("key_name", "ci")],
        )
        .await;
    let key_id = rpc_ok(&created)[0]["key_id"]
        .as_str()
        .expect("key_id")
        .to_owned();
    let (_, key) = app
        .call("GET", &format!("{KEYS}/{key_id}"), Some(&owner), None)
        .await;
    assert!(time_of(&key["result"]["expires_at"]) <= Utc::now() + TimeDelta::days(30));
    // Removing a key's expiry under the limit is refused; removing the limit allows it.
    let path = format!("{KEYS}/{key_id}");
    let (status, body) = app
        .call(
            "PATCH",
            &path,
            Some(&owner),
            Some(json!({"expires_at": null})),
        )
        .await;
    assert_eq!(
        (status, &body["errors"][0]["message"]),
        (
            400,
            &json!(
                "expires_at: must be set: the account's keys live at most 30 days (max_key_lifetime_days)"
            )
        )
    );
    let (status, _) = app
        .call(
            "PATCH",
            account,
            Some(&owner),
            Some(json!({"max_key_lifetime_days": null})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = app
        .call(
            "PATCH",
            &path,
            Some(&owner),
            Some(json!({"expires_at": null})),
        )
        .await;
    assert_eq!(
        (status, &body["result"]["expires_at"]),
        (200, &Value::Null),
        "{body}"
    );
}

async fn another_accounts_keys_and_settings_answer_not_found(app: TestApp) {
    let owner = app.owner().await;
    let child = app.child_account(&owner).await;
    let child_id = child["account_id"].as_i64().expect("id");
    let child_owner = child["access_key"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (_, keys) = app.call("GET", KEYS, Some(&owner), None).await;
    let key = keys["result"][0]["id"].as_str().expect("id").to_owned();
    let (status, _) = app
        .call(
            "PATCH",
            &format!("{KEYS}/{key}"),
            Some(&child_owner),
            Some(json!({"expires_at": rfc(in_secs(60))})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .call(
            "PATCH",
            &format!("/v1/accounts/{child_id}/keys/{key}"),
            Some(&child_owner),
            Some(json!({"expires_at": rfc(in_secs(60))})),
        )
        .await;
    assert_eq!(
        status, 404,
        "a key of another account is no key of this one"
    );
    let (status, _) = app
        .call(
            "PATCH",
            "/v1/accounts/1",
            Some(&child_owner),
            Some(json!({"max_key_lifetime_days": 1})),
        )
        .await;
    assert_eq!(status, 404);
    let (_, after) = app
        .call("GET", &format!("{KEYS}/{key}"), Some(&owner), None)
        .await;
    assert_eq!(after["result"]["expires_at"], Value::Null);
    let (_, account) = app.call("GET", "/v1/accounts/1", Some(&owner), None).await;
    assert_eq!(account["result"]["max_key_lifetime_days"], Value::Null);
}

e2e!(
    an_expiring_access_key_is_refused_on_every_instance_from_its_moment,
    an_expiry_set_on_one_instance_holds_on_the_other,
    a_key_works_from_its_not_before,
    lists_show_and_filter_validity,
    bad_validities_are_refused_and_change_nothing,
    the_account_bounds_key_lifetimes,
    another_accounts_keys_and_settings_answer_not_found,
);
