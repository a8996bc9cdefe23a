//! Second factors under attack, over HTTP: concurrent completions with one code, guessing
//! codes into the lockout, replays and foreign challenges, hostile inputs — each followed by a
//! check that nothing changed.

use serde_json::{Value, json};
use tessera_tests::{PASSWORD, TestApp, e2e, jwt, unix_now};

use super::{Authenticator, challenge, complete, enrol, status};

/// How many sessions were opened with a second factor (from the audit log).
async fn totp_sessions(app: &TestApp, owner: &str) -> usize {
    app.audit_events(owner, "session.create")
        .await
        .iter()
        .filter(|e| e["details"]["method"] == "password_totp")
        .count()
}

async fn lockout(app: &TestApp, owner: &str, user: i64) -> Value {
    let (code, body) = app
        .call(
            "GET",
            &format!("/v1/accounts/1/users/{user}/lockout"),
            Some(owner),
            None,
        )
        .await;
    assert_eq!(code, 200, "{body}");
    body["result"].clone()
}

async fn concurrent_completions_with_one_code_open_one_session(app: TestApp) {
    let owner = app.owner().await;
    app.create_user(&owner, "alice", &["Developer"]).await;
    let session = app.login(1, "alice", PASSWORD).await;
    let (mut auth, _) = enrol(&app, &session).await;
    let mut challenges = Vec::new();
    for _ in 0..4 {
        challenges.push(challenge(&app, "alice", "mfa_required").await);
    }
    let code = auth.code().await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for c in challenges.iter().chain(&challenges) {
        let (app, c, code) = (app.clone(), c.clone(), code.clone());
        tasks.push(tokio::spawn(async move { complete(&app, &c, &code).await }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        let (code, body) = t.await.unwrap();
        if code == 401 {
            assert_eq!(
                body["errors"][0]["message"], "authentication failed",
                "{body}"
            );
        }
        statuses.push(code);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "one code, one session: {statuses:?}"
    );
    // The losers' attempts count as failures: past five, the login is locked (429).
    assert!(
        statuses.iter().all(|s| [200, 401, 429].contains(s)),
        "{statuses:?}"
    );
    assert_eq!(totp_sessions(&app, &owner).await, 1);
}

async fn guessed_codes_lock_the_login_like_wrong_passwords(app: TestApp) {
    let owner = app.owner().await;
    let alice = app.create_user(&owner, "alice", &["Developer"]).await;
    let session = app.login(1, "alice", PASSWORD).await;
    let (mut auth, _) = enrol(&app, &session).await;
    let (wrong_password_status, wrong_password) = app.sign_in("alice", "Wr0ng-Pass!").await;
    let before = status(&app, &session).await;
    let c = challenge(&app, "alice", "mfa_required").await;
    let wrong = auth.wrong();
    for n in 0..4 {
        let (code, body) = complete(&app, &c, &wrong).await;
        assert_eq!(
            (code, &body),
            (wrong_password_status, &wrong_password),
            "guess {n}: the wrong-password answer"
        );
        assert_eq!(status(&app, &session).await, before, "nothing changed");
    }
    // The password was one failure; four codes make five: locked.
    assert_eq!(lockout(&app, &owner, alice).await["locked"], true);
    let res = app
        .send(
            "POST",
            "/v1/sessions/mfa",
            None,
            &[],
            Some(json!({"challenge": c, "code": auth.code().await})),
        )
        .await;
    assert_eq!(res.status().as_u16(), 429, "even the right code");
    assert!(res.headers().get("retry-after").is_some());
    assert_eq!(
        app.sign_in("alice", PASSWORD).await.0,
        429,
        "and the password"
    );
    assert_eq!(totp_sessions(&app, &owner).await, 0);
    assert_eq!(status(&app, &session).await, before);
    // The administrator's way out; the challenge is still live.
    let (code, _) = app
        .call(
            "DELETE",
            &format!("/v1/accounts/1/users/{alice}/lockout"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(code, 200);
    let (code, body) = complete(&app, &c, &auth.code().await).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        lockout(&app, &owner, alice).await["failures"],
        0,
        "a success forgets them"
    );
    let failures = app.audit_events(&owner, "auth.failure").await;
    assert!(
        failures
            .iter()
            .any(|e| e["details"]["credential"] == "totp"),
        "{failures:?}"
    );
}

async fn replays_and_foreign_challenges_are_refused(app: TestApp) {
    let owner = app.owner().await;
    app.create_user(&owner, "alice", &["Developer"]).await;
    app.create_user(&owner, "bobby", &["Developer"]).await;
    let alice_session = app.login(1, "alice", PASSWORD).await;
    let bob_session = app.login(1, "bobby", PASSWORD).await;
    let (mut alice, _) = enrol(&app, &alice_session).await;
    let (mut bob, _) = enrol(&app, &bob_session).await;
    let c = challenge(&app, "alice", "mfa_required").await;
    let code = alice.code().await;
    assert_eq!(complete(&app, &c, &code).await.0, 200);
    let c = challenge(&app, "alice", "mfa_required").await;
    assert_eq!(complete(&app, &c, &code).await.0, 401, "a replayed code");
    let earlier = alice.at(Authenticator::step() - 1);
    assert_eq!(complete(&app, &c, &earlier).await.0, 401, "an earlier step");
    assert_eq!(
        complete(&app, &c, &bob.code().await).await.0,
        401,
        "bob's code"
    );
    let current = alice.at(Authenticator::step());
    for made_up in [
        "tsm_x",
        "tss_nothing",
        &c.replace("tsm_", "tss_"),
        &format!("{c}x"),
    ] {
        assert_eq!(complete(&app, made_up, &current).await.0, 401);
    }
    let (code, _) = app
        .call(
            "POST",
            "/v1/sessions/mfa/enrol",
            None,
            Some(json!({"challenge": c})),
        )
        .await;
    assert_eq!(code, 401, "a code challenge shows no seed");
    assert_eq!(
        status(&app, &alice_session).await["enrolled"],
        true,
        "unchanged"
    );
    assert_eq!(totp_sessions(&app, &owner).await, 1);
}

async fn hostile_inputs_change_nothing(app: TestApp) {
    let owner = app.owner().await;
    let alice = app.create_user(&owner, "alice", &["Developer"]).await;
    let session = app.login(1, "alice", PASSWORD).await;
    let (mut auth, _) = enrol(&app, &session).await;
    let c = challenge(&app, "alice", "mfa_required").await;
    let before = status(&app, &session).await;
    let long = "9".repeat(65);
    let huge = "a".repeat(100_000);
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "body: missing field `challenge`"),
        (json!({"challenge": c}), "body: missing field `code`"),
        (
            json!({"challenge": c, "code": 123456}),
            "code: invalid type: integer `123456`, expected a string",
        ),
        (
            json!({"challenge": c, "code": ""}),
            "code: must be 1 to 64 characters",
        ),
        (
            json!({"challenge": c, "code": long}),
            "code: must be 1 to 64 characters",
        ),
        (
            json!({"challenge": huge, "code": "123456"}),
            "challenge: must be 1 to 128 characters",
        ),
        (
            json!({"challenge": "", "code": "123456"}),
            "challenge: must be 1 to 128 characters",
        ),
        (json!([c, "123456"]), ""),
    ];
    for (body, message) in cases {
        let (code, answer) = app
            .call("POST", "/v1/sessions/mfa", None, Some(body.clone()))
            .await;
        assert_eq!(code, 400, "{body}: {answer}");
        if !message.is_empty() {
            assert_eq!(answer["errors"][0]["message"], message, "{body}");
        }
    }
    let res = app
        .send(
            "POST",
            "/v1/sessions/mfa",
            None,
            &[("content-type", "application/json")],
            None,
        )
        .await;
    assert_eq!(res.status().as_u16(), 400);
    let nul = app
        .client
        .post(app.url("/v1/sessions/mfa"))
        .header("content-type", "application/json")
        .body(format!(r#"{{"challenge": "{c}", "code": "12345\u0000"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(nul.status().as_u16(), 400);
    assert_eq!(
        lockout(&app, &owner, alice).await["failures"],
        0,
        "a malformed request is no guess"
    );
    assert_eq!(status(&app, &session).await, before);
    // Still the live challenge: the right code completes it.
    assert_eq!(complete(&app, &c, &auth.code().await).await.0, 200);
}

async fn only_the_users_own_session_changes_its_second_factor(app: TestApp) {
    let owner = app.owner().await;
    let alice = app.create_user(&owner, "alice", &["Developer"]).await;
    let session = app.login(1, "alice", PASSWORD).await;
    let (code, body) = app
        .call(
            "POST",
            &format!("/v1/accounts/1/users/{alice}/access_keys"),
            Some(&session),
            Some(json!({})),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let key = body["result"]["token"].as_str().unwrap().to_owned();
    let t = unix_now();
    let service = jwt(&app.initial_credentials()["service_key"], t - 5, t + 600);
    for token in [&key, &service] {
        let (code, body) = app.call("POST", "/v1/mfa/totp", Some(token), None).await;
        assert_eq!(
            (code, body["errors"][0]["code"].as_u64()),
            (403, Some(4036)),
            "{body}"
        );
        let (code, _) = app
            .call(
                "POST",
                "/v1/mfa/totp/confirm",
                Some(token),
                Some(json!({"code": "123456"})),
            )
            .await;
        assert_eq!(code, 403);
        let (code, _) = app
            .call(
                "DELETE",
                "/v1/mfa/totp",
                Some(token),
                Some(json!({"code": "123456"})),
            )
            .await;
        assert_eq!(code, 403);
    }
    assert_eq!(
        app.call("GET", "/v1/mfa", Some(&key), None).await.0,
        200,
        "reading is fine"
    );
    assert_eq!(
        app.call("GET", "/v1/mfa", Some(&service), None).await.0,
        403
    );
    assert_eq!(app.call("GET", "/v1/mfa", None, None).await.0, 401);
    let (code, _) = app
        .call(
            "POST",
            "/v1/mfa/totp/confirm",
            Some(&session),
            Some(json!({"code": "123456"})),
        )
        .await;
    assert_eq!(code, 404, "nothing to confirm");
    let (code, _) = app
        .call(
            "DELETE",
            "/v1/mfa/totp",
            Some(&session),
            Some(json!({"code": "123456"})),
        )
        .await;
    assert_eq!(code, 404, "nothing to remove");
    assert_eq!(
        status(&app, &session).await,
        json!({"enrolled": false, "pending": false, "confirmed_at": null, "recovery_codes_left": 0})
    );
    assert!(app.audit_events(&owner, "mfa.totp.enrol").await.is_empty());
}

e2e!(
    concurrent_completions_with_one_code_open_one_session,
    guessed_codes_lock_the_login_like_wrong_passwords,
    replays_and_foreign_challenges_are_refused,
    hostile_inputs_change_nothing,
    only_the_users_own_session_changes_its_second_factor,
);
