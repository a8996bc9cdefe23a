//! The test IdP (`tests/idp`: panva's oidc-provider under Node) checked on its own, as the SSO
//! tests use it: an authorization code flow with PKCE driven through its pages, the code
//! exchanged at its token endpoint, the ID token verified with `jsonwebtoken` against its JWKS;
//! every tampering mode caught by that verification for the reason it exists; key rotation; a
//! wrong password. Skipped without Node unless `TESSERA_REQUIRE_PEERS=1` (see `peers.rs`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use reqwest::Url;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tessera_tests::idp::{
    ClientAuth, Idp, IdpBrowser, IdpClient, IdpConfig, IdpForm, IdpUser, SignInError, SigningAlg,
    Tamper,
};

/// Where the IdP sends the browser back; never requested (the browser stops at the redirect).
const REDIRECT: &str = "http://127.0.0.1:9/v1/sso/callback";
const ALICE: (&str, &str) = ("alice@example.com", "alice-Pa55word");

fn config() -> IdpConfig {
    let mut post = IdpClient::new("tessera-post", "post-secret", REDIRECT);
    post.auth = ClientAuth::Post;
    post.id_token_alg = SigningAlg::Es256;
    let mut third = IdpClient::new("third-party", "third-secret", REDIRECT);
    third.consent = true;
    let mut alice = IdpUser::new(ALICE.0, ALICE.1, "alice@example.com");
    alice.sub = Some("alice".into());
    alice.claims.insert("name".into(), json!("Alice Example"));
    let mut bob = IdpUser::new("bob", "bob-Pa55word", "bob@example.com");
    bob.email_verified = false;
    IdpConfig::new(
        vec![
            IdpClient::new("tessera", "tessera-secret", REDIRECT),
            post,
            third,
        ],
        vec![alice, bob],
    )
}

fn random() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// One authorization request: its state, nonce and PKCE verifier.
struct Request {
    url: String,
    state: String,
    nonce: String,
    verifier: String,
}

async fn discovery(idp: &Idp) -> Value {
    reqwest::get(idp.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// An authorization request for `client` (code, PKCE S256, state, nonce), as Tessera builds it.
async fn request(idp: &Idp, client: &IdpClient) -> Request {
    let (state, nonce, verifier) = (random(), random(), random());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let endpoint = discovery(idp).await["authorization_endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = Url::parse_with_params(
        &endpoint,
        [
            ("response_type", "code"),
            ("client_id", &client.client_id),
            ("redirect_uri", REDIRECT),
            ("scope", "openid email profile"),
            ("state", &state),
            ("nonce", &nonce),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    Request {
        url: url.into(),
        state,
        nonce,
        verifier,
    }
}

/// The `code` of a callback URL, after checking it is ours and carries `state` and the issuer.
fn code(callback: &Url, idp: &Idp, state: &str) -> String {
    assert!(callback.as_str().starts_with(REDIRECT), "{callback}");
    let param = |name: &str| {
        callback
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(param("state").as_deref(), Some(state), "{callback}");
    assert_eq!(param("iss").as_deref(), Some(idp.issuer()), "{callback}");
    param("code").unwrap_or_else(|| panic!("no code in {callback}"))
}

/// The token endpoint's answer to `code`, the client authenticating as it is registered to.
async fn exchange(idp: &Idp, client: &IdpClient, code: &str, verifier: &str) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ];
    let req = reqwest::Client::new().post(idp.url("/token"));
    let req = match client.auth {
        ClientAuth::Basic => req.basic_auth(&client.client_id, Some(&client.client_secret)),
        ClientAuth::Post => {
            form.extend([
                ("client_id", client.client_id.as_str()),
                ("client_secret", client.client_secret.as_str()),
            ]);
            req
        }
    };
    req.form(&form).send().await.unwrap()
}

/// A signed-in `login` for `client` through `browser`: the token response and the request.
async fn sign_in(
    idp: &Idp,
    browser: &IdpBrowser,
    client: &IdpClient,
    (login, password): (&str, &str),
) -> (Value, Request) {
    let req = request(idp, client).await;
    let callback = browser.sign_in(&req.url, login, password).await.unwrap();
    let res = exchange(
        idp,
        client,
        &code(&callback, idp, &req.state),
        &req.verifier,
    )
    .await;
    assert_eq!(res.status(), 200);
    (res.json().await.unwrap(), req)
}

/// Why an ID token was refused.
#[derive(Debug)]
enum Rejection {
    /// The JOSE header is not one `jsonwebtoken` reads (e.g. `alg: none`).
    Header(ErrorKind),
    /// No key with the header's `kid` in the JWKS.
    UnknownKid,
    /// Signature, algorithm or a registered claim (`jsonwebtoken`'s validation).
    Token(ErrorKind),
    /// The `nonce` is not the request's.
    Nonce,
}

/// An ID token verified as a relying party must: the key by `kid` from the JWKS, the
/// algorithm the key's (never the header's choice), issuer, audience, expiry, nonce.
fn verify(
    jwks: &Value,
    token: &str,
    client_id: &str,
    issuer: &str,
    nonce: &str,
) -> Result<Value, Rejection> {
    let header = decode_header(token).map_err(|e| Rejection::Header(e.into_kind()))?;
    let jwks: JwkSet = serde_json::from_value(jwks.clone()).unwrap();
    let jwk = header
        .kid
        .as_deref()
        .and_then(|kid| jwks.find(kid))
        .ok_or(Rejection::UnknownKid)?;
    let alg: Algorithm = jwk
        .common
        .key_algorithm
        .unwrap()
        .to_string()
        .parse()
        .unwrap();
    let mut validation = Validation::new(alg);
    validation.set_audience(&[client_id]);
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let claims = decode::<Value>(token, &key, &validation)
        .map_err(|e| Rejection::Token(e.into_kind()))?
        .claims;
    if claims["nonce"] != nonce {
        return Err(Rejection::Nonce);
    }
    Ok(claims)
}

fn kids(jwks: &Value) -> Vec<String> {
    let mut kids: Vec<String> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    kids.sort();
    kids
}

/// Discovery, the pages, the code (bound to state, issuer and single use), the ID token and its
/// claims; the second sign-in in the same browser goes through on the IdP's session.
#[tokio::test]
async fn a_code_flow_with_pkce_signs_in_and_the_id_token_verifies() {
    let Some(idp) = Idp::start(config()).await else {
        return;
    };
    let res = reqwest::get(idp.url("/.well-known/openid-configuration"))
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "public, max-age=300");
    let meta: Value = res.json().await.unwrap();
    assert_eq!(meta["issuer"], idp.issuer());
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(meta["jwks_uri"], idp.url("/jwks"));
    let res = reqwest::get(idp.url("/jwks")).await.unwrap();
    assert_eq!(res.headers()["cache-control"], "public, max-age=300");

    let client = &config().clients[0];
    let browser = IdpBrowser::new();
    let req = request(&idp, client).await;
    let callback = browser.sign_in(&req.url, ALICE.0, ALICE.1).await.unwrap();
    assert_eq!(browser.forms_submitted(), [IdpForm::Login]);
    let first = code(&callback, &idp, &req.state);
    let res = exchange(&idp, client, &first, &req.verifier).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let tokens: Value = res.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(decode_header(id_token).unwrap().alg, Algorithm::RS256);
    let claims = verify(
        &idp.jwks().await,
        id_token,
        "tessera",
        idp.issuer(),
        &req.nonce,
    )
    .unwrap();
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], "Alice Example");

    // A code is single use.
    let again = exchange(&idp, client, &first, &req.verifier).await;
    assert_eq!(again.status(), 400);
    assert_eq!(
        again.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );

    // Signed in already: no form this time, a new code.
    let req = request(&idp, client).await;
    let callback = browser.sign_in(&req.url, "", "").await.unwrap();
    assert_eq!(browser.forms_submitted(), [IdpForm::Login]);
    assert_ne!(code(&callback, &idp, &req.state), first);

    // email_verified false is passed on as such.
    let (tokens, req) = sign_in(&idp, &IdpBrowser::new(), client, ("bob", "bob-Pa55word")).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let claims = verify(
        &idp.jwks().await,
        id_token,
        "tessera",
        idp.issuer(),
        &req.nonce,
    )
    .unwrap();
    assert_eq!(
        (claims["sub"].as_str(), &claims["email_verified"]),
        (Some("bob"), &json!(false))
    );
}

/// client_secret_post with ES256 ID tokens, for a third-party client that gets the consent page;
/// the client cannot switch to Basic.
#[tokio::test]
async fn client_secret_post_es256_and_the_consent_page() {
    let Some(idp) = Idp::start(config()).await else {
        return;
    };
    let mut client = config().clients[1].clone();
    client.client_id = "third-party".into();
    client.client_secret = "third-secret".into();
    client.auth = ClientAuth::Basic;
    let browser = IdpBrowser::new();
    let (tokens, req) = sign_in(&idp, &browser, &client, ALICE).await;
    assert_eq!(
        browser.forms_submitted(),
        [IdpForm::Login, IdpForm::Consent]
    );
    let id_token = tokens["id_token"].as_str().unwrap();
    verify(
        &idp.jwks().await,
        id_token,
        "third-party",
        idp.issuer(),
        &req.nonce,
    )
    .unwrap();

    let post = &config().clients[1];
    let (tokens, req) = sign_in(&idp, &browser, post, ALICE).await;
    assert_eq!(
        browser.forms_submitted(),
        [IdpForm::Login, IdpForm::Consent],
        "no new form"
    );
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(decode_header(id_token).unwrap().alg, Algorithm::ES256);
    verify(
        &idp.jwks().await,
        id_token,
        "tessera-post",
        idp.issuer(),
        &req.nonce,
    )
    .unwrap();

    // Each client only with the method it is registered for (oidc-provider alone would take
    // either; tests/idp/lib/client_auth.mjs enforces it), and only with its secret; the code
    // still works afterwards.
    let basic = &config().clients[0];
    let mut wrong_secret = basic.clone();
    wrong_secret.client_secret = "tessera-secret ".into();
    for (client, other) in [(post, ClientAuth::Basic), (basic, ClientAuth::Post)] {
        let req = request(&idp, client).await;
        let callback = browser.sign_in(&req.url, "", "").await.unwrap();
        let code = code(&callback, &idp, &req.state);
        let mut switched = client.clone();
        switched.auth = other;
        let mut fakes = vec![switched];
        if client.auth == ClientAuth::Basic {
            fakes.push(wrong_secret.clone());
        }
        for fake in fakes {
            let res = exchange(&idp, &fake, &code, &req.verifier).await;
            assert_eq!(res.status(), 401, "{fake:?}");
            assert_eq!(
                res.json::<Value>().await.unwrap()["error"],
                "invalid_client"
            );
        }
        let res = exchange(&idp, client, &code, &req.verifier).await;
        assert_eq!(res.status(), 200, "{client:?}");
    }
}

/// Each tampering mode yields an ID token the verification refuses for that reason, once; the
/// next token is untouched and passes.
#[tokio::test]
async fn every_tampered_id_token_fails_verification_for_its_reason() {
    let Some(idp) = Idp::start(config()).await else {
        return;
    };
    let browser = IdpBrowser::new();
    let rsa = &config().clients[0];
    let ec = &config().clients[1];
    for (n, mode) in Tamper::ALL.into_iter().enumerate() {
        for client in [rsa, ec] {
            idp.tamper(mode).await;
            let (tokens, req) = sign_in(&idp, &browser, client, ALICE).await;
            let id_token = tokens["id_token"].as_str().unwrap();
            let got = verify(
                &idp.jwks().await,
                id_token,
                &client.client_id,
                idp.issuer(),
                &req.nonce,
            );
            let expected = match mode {
                Tamper::UnknownKey => matches!(got, Err(Rejection::UnknownKid)),
                Tamper::OtherAudience => {
                    matches!(got, Err(Rejection::Token(ErrorKind::InvalidAudience)))
                }
                Tamper::Expired => {
                    matches!(got, Err(Rejection::Token(ErrorKind::ExpiredSignature)))
                }
                Tamper::WrongNonce => matches!(got, Err(Rejection::Nonce)),
                Tamper::WrongIssuer => {
                    matches!(got, Err(Rejection::Token(ErrorKind::InvalidIssuer)))
                }
                Tamper::AlgNone => matches!(got, Err(Rejection::Header(ErrorKind::Json(_)))),
                Tamper::NoSignature | Tamper::BadSignature => {
                    matches!(got, Err(Rejection::Token(ErrorKind::InvalidSignature)))
                }
            };
            assert!(expected, "{mode:?} for {}: {got:?}", client.client_id);
        }
        let (count, armed) = idp.tamper_state().await;
        assert_eq!(
            (count, armed),
            (2 * n as u64 + 2, None),
            "{mode:?} fired once per arming"
        );
    }
    for client in [rsa, ec] {
        let (tokens, req) = sign_in(&idp, &browser, client, ALICE).await;
        let id_token = tokens["id_token"].as_str().unwrap();
        verify(
            &idp.jwks().await,
            id_token,
            &client.client_id,
            idp.issuer(),
            &req.nonce,
        )
        .unwrap();
    }
}

/// A restart with the same generation keeps the keys (file and JWKS); a new generation replaces
/// every `kid`, and a token signed before no longer finds its key.
#[tokio::test]
async fn new_keys_replace_every_kid_and_a_plain_restart_keeps_them() {
    let Some(mut idp) = Idp::start(config()).await else {
        return;
    };
    let client = &config().clients[0];
    let first = idp.jwks().await;
    assert_eq!(
        kids(&first).len(),
        2,
        "one RS256 and one ES256 key: {first}"
    );
    let file = std::fs::read_to_string(idp.keys_file()).unwrap();
    let (tokens, req) = sign_in(&idp, &IdpBrowser::new(), client, ALICE).await;
    let old_token = tokens["id_token"].as_str().unwrap().to_owned();

    idp.restart().await;
    assert_eq!(idp.generation(), 1);
    assert_eq!(kids(&idp.jwks().await), kids(&first));
    assert_eq!(std::fs::read_to_string(idp.keys_file()).unwrap(), file);
    verify(
        &idp.jwks().await,
        &old_token,
        "tessera",
        idp.issuer(),
        &req.nonce,
    )
    .unwrap();

    let issuer = idp.issuer().to_owned();
    idp.restart_with_new_keys().await;
    assert_eq!((idp.generation(), idp.issuer()), (2, issuer.as_str()));
    let second = idp.jwks().await;
    assert_eq!(kids(&second).len(), 2);
    assert!(
        kids(&second).iter().all(|k| !kids(&first).contains(k)),
        "{first} then {second}"
    );
    assert_ne!(std::fs::read_to_string(idp.keys_file()).unwrap(), file);
    assert!(matches!(
        verify(&second, &old_token, "tessera", idp.issuer(), &req.nonce),
        Err(Rejection::UnknownKid)
    ));
    let (tokens, req) = sign_in(&idp, &IdpBrowser::new(), client, ALICE).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let kid = decode_header(id_token).unwrap().kid.unwrap();
    assert!(kids(&second).contains(&kid));
    verify(&second, id_token, "tessera", idp.issuer(), &req.nonce).unwrap();

    idp.restart().await;
    assert_eq!(kids(&idp.jwks().await), kids(&second), "generation 2 kept");
}

/// A wrong password or an unknown login gets the form back, never a code; the right password
/// afterwards does.
#[tokio::test]
async fn a_wrong_password_yields_no_code() {
    let Some(idp) = Idp::start(config()).await else {
        return;
    };
    let client = &config().clients[0];
    let browser = IdpBrowser::new();
    for (login, password) in [
        (ALICE.0, "wrong"),
        (ALICE.0, ""),
        (ALICE.0, &ALICE.1.to_uppercase()),
        ("mallory@example.com", ALICE.1),
        ("bob", ALICE.1),
    ] {
        let req = request(&idp, client).await;
        let got = browser.sign_in(&req.url, login, password).await;
        assert!(
            matches!(got, Err(SignInError::Rejected)),
            "{login}/{password}: {got:?}"
        );
    }
    assert!(!idp.log().contains("POST /token"), "{}", idp.log());
    let req = request(&idp, client).await;
    let callback = browser.sign_in(&req.url, ALICE.0, ALICE.1).await.unwrap();
    code(&callback, &idp, &req.state);
}

/// PKCE is required (no challenge: an error back to the client, no code) and the verifier is
/// checked at the token endpoint.
#[tokio::test]
async fn pkce_is_required_and_the_verifier_checked() {
    let Some(idp) = Idp::start(config()).await else {
        return;
    };
    let client = &config().clients[0];
    let browser = IdpBrowser::new();
    let req = request(&idp, client).await;
    let mut url = Url::parse(&req.url).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !k.starts_with("code_challenge"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let callback = browser
        .sign_in(url.as_str(), ALICE.0, ALICE.1)
        .await
        .unwrap();
    assert!(callback.as_str().starts_with(REDIRECT), "{callback}");
    let params: Vec<(String, String)> = callback.query_pairs().into_owned().collect();
    assert!(
        params.contains(&("error".into(), "invalid_request".into())),
        "{callback}"
    );
    assert!(!params.iter().any(|(k, _)| k == "code"), "{callback}");

    let callback = browser.sign_in(&req.url, ALICE.0, ALICE.1).await.unwrap();
    let code = code(&callback, &idp, &req.state);
    let res = exchange(&idp, client, &code, &random()).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_grant");
}
