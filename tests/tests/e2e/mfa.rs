//! Second factors (TOTP) over HTTP with the real server: enrolment, sign-in with a code or a
//! recovery code, an account that requires a second factor, an administrator's reset, the
//! credential report's column. Attacks (concurrent completions, guessing, replay, bad inputs)
//! are in `mfa/attacks.rs`; OATH Toolkit's `oathtool` as the authenticator in `mfa/oathtool.rs`.

mod attacks;
mod oathtool;

use serde_json::{Value, json};
use tessera_tests::{PASSWORD, TestApp, e2e, unix_now};

/// A user's authenticator app: its seed, and the last step whose code it gave (a code is
/// accepted once, and never an earlier step's).
pub struct Authenticator {
    seed: Vec<u8>,
    last: Option<i64>,
}

impl Authenticator {
    /// The app after scanning an enrolment's `secret`.
    pub fn from(enrolment: &Value) -> Self {
        let secret = enrolment["secret"].as_str().expect("a base32 secret");
        let seed = totp_rs::Secret::Encoded(secret.to_owned())
            .to_bytes()
            .expect("base32");
        let uri = enrolment["otpauth_uri"].as_str().expect("an otpauth URI");
        assert!(uri.starts_with("otpauth://totp/Tessera:"), "{uri}");
        assert!(uri.contains(&format!("secret={secret}")), "{uri}");
        Self { seed, last: None }
    }

    /// The code of `step`.
    pub fn at(&self, step: i64) -> String {
        let totp = totp_rs::TOTP::new_unchecked(
            totp_rs::Algorithm::SHA1,
            6,
            1,
            30,
            self.seed.clone(),
            None,
            String::new(),
        );
        totp.generate(u64::try_from(step * 30).expect("after 1970"))
    }

    /// The current step.
    pub fn step() -> i64 {
        unix_now().div_euclid(30)
    }

    /// A code the server accepts now: of the earliest step within its skew (one step either
    /// way) after the last one given; waits for the next step when none is left.
    pub async fn code(&mut self) -> String {
        loop {
            let now = Self::step();
            let step = self.last.map_or(now, |l| (l + 1).max(now - 1));
            if step <= now + 1 {
                self.last = Some(step);
                return self.at(step);
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }

    /// A six-digit code that is none of the steps around now.
    pub fn wrong(&self) -> String {
        let now = Self::step();
        let taken: Vec<String> = (now - 2..=now + 2).map(|s| self.at(s)).collect();
        (0..)
            .map(|n: u32| format!("{:06}", (n * 7919) % 1_000_000))
            .find(|c| !taken.contains(c))
            .expect("a wrong code")
    }
}

/// The signed-in user's enrolment: starts it, confirms it; answers the app and the recovery
/// codes.
pub async fn enrol(app: &TestApp, session: &str) -> (Authenticator, Vec<String>) {
    let (status, body) = app.call("POST", "/v1/mfa/totp", Some(session), None).await;
    assert_eq!(status, 200, "{body}");
    let mut auth = Authenticator::from(&body["result"]);
    let code = auth.code().await;
    let (status, body) = app
        .call(
            "POST",
            "/v1/mfa/totp/confirm",
            Some(session),
            Some(json!({ "code": code })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let codes: Vec<String> = body["result"]["recovery_codes"]
        .as_array()
        .expect("recovery codes")
        .iter()
        .map(|c| c.as_str().expect("a code").to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    (auth, codes)
}

/// A password sign-in of account 1 that must answer a challenge of `kind`
/// (`mfa_required` or `mfa_enrolment_required`); the challenge.
pub async fn challenge(app: &TestApp, login: &str, kind: &str) -> String {
    let (status, body) = app.sign_in(login, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let result = &body["result"];
    assert_eq!(result[kind], true, "{body}");
    assert!(result.get("token").is_none(), "no session yet: {body}");
    assert!(result["expires_at"].is_string());
    result["challenge"]
        .as_str()
        .expect("a challenge")
        .to_owned()
}

/// `POST /v1/sessions/mfa`.
pub async fn complete(app: &TestApp, challenge: &str, code: &str) -> (u16, Value) {
    app.call(
        "POST",
        "/v1/sessions/mfa",
        None,
        Some(json!({ "challenge": challenge, "code": code })),
    )
    .await
}

/// The caller's `GET /v1/mfa`.
pub async fn status(app: &TestApp, token: &str) -> Value {
    let (status, body) = app.call("GET", "/v1/mfa", Some(token), None).await;
    assert_eq!(status, 200, "{body}");
    body["result"].clone()
}

async fn a_user_enrols_and_signs_in_with_a_code_or_a_recovery_code(app: TestApp) {
    let owner = app.owner().await;
    let alice = app.create_user(&owner, "alice", &["Developer"]).await;
    let session = app.login(1, "alice", PASSWORD).await;
    assert_eq!(
        status(&app, &session).await,
        json!({"enrolled": false, "pending": false, "confirmed_at": null, "recovery_codes_left": 0})
    );
    let (mut auth, codes) = enrol(&app, &session).await;
    let now = status(&app, &session).await;
    assert_eq!(
        (&now["enrolled"], &now["recovery_codes_left"]),
        (&json!(true), &json!(10))
    );
    let (code, body) = app.call("POST", "/v1/mfa/totp", Some(&session), None).await;
    assert_eq!(
        (code, body["errors"][0]["code"].as_u64()),
        (409, Some(4090)),
        "{body}"
    );

    // The password alone answers a challenge; the challenge is no session.
    let c = challenge(&app, "alice", "mfa_required").await;
    let (code, _) = app.call("GET", "/v1/mfa", Some(&c), None).await;
    assert_eq!(code, 401, "a challenge is not a credential");
    let (code, body) = complete(&app, &c, &auth.code().await).await;
    assert_eq!(code, 200, "{body}");
    let token = body["result"]["token"].as_str().expect("a session");
    assert_eq!(body["result"]["user_id"].as_i64(), Some(alice));
    assert_eq!(
        status(&app, token).await["enrolled"],
        true,
        "the session works"
    );
    assert!(body["result"].get("recovery_codes").is_none(), "{body}");
    let (code, _) = complete(&app, &c, &auth.code().await).await;
    assert_eq!(code, 401, "the challenge is used up");

    // A recovery code in place of a code, once.
    let c = challenge(&app, "alice", "mfa_required").await;
    let (code, body) = complete(&app, &c, &codes[4].to_uppercase()).await;
    assert_eq!(code, 200, "{body}");
    let c = challenge(&app, "alice", "mfa_required").await;
    assert_eq!(complete(&app, &c, &codes[4]).await.0, 401);
    assert_eq!(status(&app, &session).await["recovery_codes_left"], 9);

    let methods: Vec<Value> = app
        .audit_events(&owner, "session.create")
        .await
        .iter()
        .map(|e| e["details"]["method"].clone())
        .collect();
    assert_eq!(
        methods.iter().filter(|m| *m == "password_totp").count(),
        2,
        "{methods:?}"
    );
    for action in [
        "mfa.totp.enrol",
        "mfa.totp.confirm",
        "mfa.recovery_code.use",
    ] {
        assert_eq!(app.audit_events(&owner, action).await.len(), 1, "{action}");
    }

    // Removing it takes a code; then the password alone signs in again.
    let (code, body) = app
        .call(
            "DELETE",
            "/v1/mfa/totp",
            Some(&session),
            Some(json!({ "code": auth.wrong() })),
        )
        .await;
    assert_eq!(code, 400, "{body}");
    assert!(status(&app, &session).await["enrolled"] == true);
    let (code, body) = app
        .call(
            "DELETE",
            "/v1/mfa/totp",
            Some(&session),
            Some(json!({ "code": codes[0] })),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["result"]["enrolled"], false);
    assert!(app.login(1, "alice", PASSWORD).await.starts_with("tss_"));
}

async fn an_account_that_requires_a_second_factor_enrols_its_users_at_sign_in(app: TestApp) {
    let owner = app.owner().await;
    app.create_user(&owner, "bobby", &["Developer"]).await;
    let bob = app.login(1, "bobby", PASSWORD).await;
    // Changing the setting takes Account Settings write.
    let (code, _) = app
        .call(
            "PATCH",
            "/v1/accounts/1",
            Some(&bob),
            Some(json!({"require_mfa": true})),
        )
        .await;
    assert_eq!(code, 403);
    let (code, body) = app
        .call(
            "PATCH",
            "/v1/accounts/1",
            Some(&owner),
            Some(json!({"require_mfa": false, "settings": {"enforce_twofactor": true}})),
        )
        .await;
    assert_eq!(code, 400, "the two names disagree: {body}");
    assert_eq!(
        body["errors"][0]["message"],
        "settings.enforce_twofactor: must agree with require_mfa when both are given"
    );
    let (_, account) = app.call("GET", "/v1/accounts/1", Some(&owner), None).await;
    assert_eq!(account["result"]["require_mfa"], false, "unchanged");
    // Cloudflare's name for it.
    let (code, body) = app
        .call(
            "PATCH",
            "/v1/accounts/1",
            Some(&owner),
            Some(json!({"settings": {"enforce_twofactor": true}})),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["result"]["require_mfa"], true);
    assert_eq!(body["result"]["settings"]["enforce_twofactor"], true);
    let updates = app.audit_events(&owner, "account.update").await;
    assert_eq!(updates[0]["details"]["require_mfa"], true);

    // Bob's session from before stays; his next sign-in must enrol.
    assert_eq!(status(&app, &bob).await["enrolled"], false);
    let c = challenge(&app, "bobby", "mfa_enrolment_required").await;
    let (code, _) = complete(&app, &c, "123456").await;
    assert_eq!(code, 401, "nothing enrolled yet");
    let (code, body) = app
        .call(
            "POST",
            "/v1/sessions/mfa/enrol",
            None,
            Some(json!({"challenge": c})),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let mut auth = Authenticator::from(&body["result"]);
    let (code, body) = complete(&app, &c, &auth.code().await).await;
    assert_eq!(code, 200, "{body}");
    assert!(
        body["result"]["token"]
            .as_str()
            .unwrap()
            .starts_with("tss_")
    );
    assert_eq!(
        body["result"]["recovery_codes"].as_array().map(Vec::len),
        Some(10)
    );
    // From now on, a code.
    let c = challenge(&app, "bobby", "mfa_required").await;
    assert_eq!(complete(&app, &c, &auth.code().await).await.0, 200);
    // The owner too: enrolment is due at its next sign-in.
    let password = app.initial_credentials()["owner"]["password"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, body) = app.sign_in("admin", &password).await;
    assert_eq!(body["result"]["mfa_enrolment_required"], true, "{body}");
    // Access keys are one factor and unaffected.
    let key = app.initial_credentials()["access_key"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.call("GET", "/v1/accounts/1", Some(&key), None).await.0,
        200
    );
}

async fn an_administrator_resets_a_lost_second_factor(app: TestApp) {
    let owner = app.owner().await;
    let alice = app.create_user(&owner, "alice", &["Developer"]).await;
    app.create_user(&owner, "manager1", &["User Manager"]).await;
    let manager = app.login(1, "manager1", PASSWORD).await;
    let session = app.login(1, "alice", PASSWORD).await;
    enrol(&app, &session).await;
    let reset = format!("/v1/accounts/1/users/{alice}/mfa");
    let (code, _) = app.call("DELETE", &reset, Some(&manager), None).await;
    assert_eq!(
        code, 403,
        "a User Manager does not hold a Developer's permissions"
    );
    let (code, _) = app
        .call("DELETE", "/v1/accounts/1/users/1/mfa", Some(&manager), None)
        .await;
    assert_eq!(code, 403, "nor the Owner's");
    let (code, body) = app
        .call("DELETE", "/v1/accounts/1/users/1/mfa", Some(&owner), None)
        .await;
    assert_eq!(code, 400, "not one's own: {body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("user_id: ")
    );
    let (code, _) = app
        .call("DELETE", "/v1/accounts/1/users/999/mfa", Some(&owner), None)
        .await;
    assert_eq!(code, 404);
    let child = app.child_account(&owner).await;
    let child_owner = child["owner"]["user_id"].as_i64().unwrap();
    let child_key = child["access_key"]["token"].as_str().unwrap().to_owned();
    let (code, _) = app.call("DELETE", &reset, Some(&child_key), None).await;
    assert_eq!(code, 404, "another account's user is not found");
    let (code, _) = app
        .call(
            "DELETE",
            &format!("/v1/accounts/1/users/{child_owner}/mfa"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(code, 404);
    assert_eq!(
        status(&app, &session).await["enrolled"],
        true,
        "unchanged so far"
    );
    let (code, body) = app.call("DELETE", &reset, Some(&owner), None).await;
    assert_eq!(
        (code, &body["result"]["id"]),
        (200, &json!(alice.to_string())),
        "{body}"
    );
    let events = app.audit_events(&owner, "mfa.reset").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["target"], format!("user:{alice}"));
    assert!(app.login(1, "alice", PASSWORD).await.starts_with("tss_"));
}

async fn the_credential_report_shows_who_has_a_second_factor(app: TestApp) {
    let owner = app.owner().await;
    let alice = app.create_user(&owner, "alice", &["Developer"]).await;
    let bob = app.create_user(&owner, "bobby", &["Developer"]).await;
    let session = app.login(1, "alice", PASSWORD).await;
    enrol(&app, &session).await;
    let bob_session = app.login(1, "bobby", PASSWORD).await;
    let (code, _) = app
        .call("POST", "/v1/mfa/totp", Some(&bob_session), None)
        .await;
    assert_eq!(code, 200, "bob's enrolment stays pending");
    let (code, body) = app
        .call(
            "GET",
            "/v1/accounts/1/credential_report",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let rows = body["result"]["rows"].as_array().unwrap();
    let (alice_id, bob_id) = (alice.to_string(), bob.to_string());
    for r in rows {
        let expected = if r["type"] == "user" && r["id"] == alice_id.as_str() {
            "totp"
        } else {
            "none"
        };
        assert_eq!(r["mfa"], expected, "{r}");
    }
    // The last field of every row.
    let raw = app
        .send(
            "GET",
            "/v1/accounts/1/credential_report",
            Some(&owner),
            &[],
            None,
        )
        .await
        .text()
        .await
        .unwrap();
    let last = raw.matches(r#""mfa":"none"}"#).count() + raw.matches(r#""mfa":"totp"}"#).count();
    assert_eq!(last, rows.len(), "{raw}");
    assert!(rows.iter().any(|r| r["id"] == bob_id.as_str()));
    let res = app
        .send(
            "GET",
            "/v1/accounts/1/credential_report?format=csv",
            Some(&owner),
            &[],
            None,
        )
        .await;
    let text = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(reader.headers().unwrap().iter().next_back(), Some("mfa"));
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let alice_row = records
        .iter()
        .find(|r| &r[0] == "user" && r[1] == alice.to_string())
        .unwrap();
    assert_eq!(&alice_row[10], "totp");
    assert!(
        records
            .iter()
            .filter(|r| &r[1] != alice.to_string().as_str())
            .all(|r| &r[10] == "none")
    );
}

e2e!(
    a_user_enrols_and_signs_in_with_a_code_or_a_recovery_code,
    an_account_that_requires_a_second_factor_enrols_its_users_at_sign_in,
    an_administrator_resets_a_lost_second_factor,
    the_credential_report_shows_who_has_a_second_factor,
);
