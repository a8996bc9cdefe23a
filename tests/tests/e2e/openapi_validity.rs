//! The OpenAPI document is valid: it passes the official OpenAPI 3.1 JSON Schema, every
//! `operationId` is unique, every `$ref` resolves, every schema is a valid JSON Schema 2020-12,
//! the method API's answers match the schemas documented for them, and the served document is
//! the committed snapshot `docs/openapi.json` (`UPDATE_SNAPSHOTS=1` rewrites it).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Value, json};
use tessera_tests::{DbBackend, PASSWORD, TestApp, Via, e2e, rpc_ok};

/// The official JSON Schema of OpenAPI 3.1 documents, `tests/schemas/README.md` says whence.
const OAS_3_1_SCHEMA: &str = include_str!("../../schemas/openapi-3.1-2022-10-07.json");

/// The environment variable that makes the snapshot test rewrite the snapshot.
const UPDATE: &str = "UPDATE_SNAPSHOTS";

/// The committed snapshot of the served document.
fn snapshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

/// The document as the server builds it.
fn built() -> Value {
    serde_json::to_value(tessera_server::startup::openapi()).expect("the document is JSON")
}

/// Every way `doc` breaks the OpenAPI 3.1 schema, as `instance path: message`.
fn oas_violations(doc: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(OAS_3_1_SCHEMA).expect("the vendored schema");
    let validator = jsonschema::draft202012::new(&schema).expect("the OAS 3.1 schema compiles");
    validator
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Each `operationId` used more than once, with the operations that use it.
fn duplicate_operation_ids(doc: &Value) -> BTreeMap<String, Vec<String>> {
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in HTTP_METHODS {
            if let Some(id) = item[*method]["operationId"].as_str() {
                seen.entry(id.to_owned())
                    .or_default()
                    .push(format!("{method} {path}"));
            }
        }
    }
    seen.retain(|_, ops| ops.len() > 1);
    seen.values_mut().for_each(|ops| ops.sort_unstable());
    seen
}

/// Every `operationId`, in document order.
fn operation_ids(doc: &Value) -> Vec<String> {
    doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(_, item)| {
            HTTP_METHODS
                .iter()
                .filter_map(|m| item[*m]["operationId"].as_str().map(str::to_owned))
        })
        .collect()
}

/// Every `$ref` under `v`, with where it stands.
fn refs<'a>(v: &'a Value, at: &str, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref"
                    && let Some(r) = child.as_str()
                {
                    out.push((at.to_owned(), r));
                } else {
                    let key = k.replace('~', "~0").replace('/', "~1");
                    refs(child, &format!("{at}/{key}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                refs(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Each `$ref` that does not point into the document, as `where -> ref`.
fn dangling_refs(doc: &Value) -> Vec<String> {
    let mut all = Vec::new();
    refs(doc, "", &mut all);
    all.into_iter()
        .filter(|(_, r)| {
            r.strip_prefix('#')
                .is_none_or(|pointer| doc.pointer(pointer).is_none())
        })
        .map(|(at, r)| format!("{at} -> {r}"))
        .collect()
}

/// Each component schema that is not a valid JSON Schema 2020-12 (the dialect of OpenAPI 3.1).
fn invalid_schemas(doc: &Value) -> Vec<String> {
    doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, schema)| {
            jsonschema::draft202012::meta::validate(schema)
                .err()
                .map(|e| format!("{name}: {e}"))
        })
        .collect()
}

#[test]
fn the_document_passes_the_official_openapi_3_1_schema() {
    let doc = built();
    assert_eq!(oas_violations(&doc), Vec::<String>::new());
    assert_eq!(doc["openapi"], "3.1.0");
}

#[test]
fn every_operation_id_is_unique() {
    let doc = built();
    assert_eq!(duplicate_operation_ids(&doc), BTreeMap::new());
    let ids = operation_ids(&doc);
    // The method API's operations are named for their methods; the REST ones keep their names.
    for id in ["AddSubUser", "CreateKey", "SetKeyRoles", "GetRoleGroups"] {
        assert!(ids.iter().any(|i| i == id), "{id} in {ids:?}");
    }
    for id in ["create_key", "delete_key", "update_key", "set_key_roles"] {
        assert!(ids.iter().any(|i| i == id), "{id} in {ids:?}");
    }
    assert_eq!(
        doc["paths"]["/v1/accounts/{account_id}/keys"]["post"]["operationId"],
        "create_key"
    );
}

#[test]
fn every_ref_resolves() {
    let doc = built();
    let mut all = Vec::new();
    refs(&doc, "", &mut all);
    assert!(all.len() > 100, "{}", all.len());
    assert_eq!(dangling_refs(&doc), Vec::<String>::new());
}

#[test]
fn every_component_schema_is_valid_json_schema_2020_12() {
    assert_eq!(invalid_schemas(&built()), Vec::<String>::new());
}

/// The checks above find what they look for: each catches its own kind of breakage.
#[test]
fn the_checks_catch_a_broken_document() {
    let good = built();

    let mut no_info = good.clone();
    no_info.as_object_mut().unwrap().remove("info");
    assert_eq!(
        oas_violations(&no_info),
        vec![": \"info\" is a required property".to_owned()]
    );

    let mut bad_response = good.clone();
    bad_response["paths"]["/v1/sessions"]["post"]["responses"]["200"] = json!({"content": {}});
    let violations = oas_violations(&bad_response);
    assert!(
        violations.iter().any(
            |v| v.starts_with("/paths/~1v1~1sessions/post/responses/200")
                && v.contains("\"description\" is a required property")
        ),
        "{violations:#?}"
    );

    let mut twice = good.clone();
    twice["paths"]["/platform_api/GetRoles"]["post"]["operationId"] = json!("create_key");
    assert_eq!(
        duplicate_operation_ids(&twice),
        BTreeMap::from([(
            "create_key".to_owned(),
            vec![
                "post /platform_api/GetRoles".to_owned(),
                "post /v1/accounts/{account_id}/keys".to_owned(),
            ]
        )])
    );

    let mut dangling = good.clone();
    dangling["components"]["schemas"]
        .as_object_mut()
        .unwrap()
        .remove("ErrorEnvelope");
    let broken = dangling_refs(&dangling);
    assert!(
        !broken.is_empty()
            && broken
                .iter()
                .all(|b| b.ends_with("-> #/components/schemas/ErrorEnvelope")),
        "{broken:#?}"
    );

    let mut bad_schema = good;
    bad_schema["components"]["schemas"]["Done"]["type"] = json!("integer-ish");
    let invalid = invalid_schemas(&bad_schema);
    assert_eq!(invalid.len(), 1, "{invalid:#?}");
    assert!(invalid[0].starts_with("Done: "), "{invalid:#?}");
}

/// `v` as JSON, cut to a line.
fn short(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(120) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The first few places where `a` and `b` differ, as JSON pointers.
fn differences(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    if out.len() >= 10 {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let here = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                match (x.get(key), y.get(key)) {
                    (Some(p), Some(q)) => differences(p, q, &here, out),
                    (Some(_), None) => out.push(format!("{here}: only in the snapshot")),
                    (None, _) => out.push(format!("{here}: only in the served document")),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                differences(p, q, &format!("{at}/{i}"), out);
            }
        }
        _ if a != b => out.push(format!(
            "{at}: {} in the snapshot, {} served",
            short(a),
            short(b)
        )),
        _ => {}
    }
}

/// The served document is the committed snapshot, so any change to the API shows in review.
/// `UPDATE_SNAPSHOTS=1 cargo test -p tessera-tests --test e2e openapi_validity` rewrites it.
#[tokio::test]
async fn the_served_document_is_the_committed_snapshot() {
    let app = TestApp::spawn(DbBackend::Sqlite).await.expect("sqlite");
    let (status, served) = app.get_json("/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(served, built(), "the served document is the built one");
    let path = snapshot_path();
    let text = serde_json::to_string_pretty(&served).expect("JSON") + "\n";
    if std::env::var(UPDATE).as_deref() == Ok("1") {
        std::fs::write(&path, &text).expect("the snapshot is written");
        return;
    }
    let Ok(committed) = std::fs::read_to_string(&path) else {
        panic!(
            "{} is missing: write it with\n  {UPDATE}=1 cargo test -p tessera-tests --test e2e \
             the_served_document_is_the_committed_snapshot",
            path.display()
        );
    };
    let snapshot: Value = serde_json::from_str(&committed).unwrap_or(Value::Null);
    let mut diff = Vec::new();
    differences(&snapshot, &served, "", &mut diff);
    assert!(
        diff.is_empty() && committed == text,
        "the served OpenAPI document differs from {}:\n  {}\nIf the change is intended, \
         update the snapshot with\n  {UPDATE}=1 cargo test -p tessera-tests --test e2e \
         the_served_document_is_the_committed_snapshot\nand commit it.",
        path.display(),
        if diff.is_empty() {
            "(formatting only)".to_owned()
        } else {
            diff.join("\n  ")
        }
    );
}

/// A validator of instances against the schema at `pointer` in `doc` (whose `$ref`s resolve
/// within `doc`).
fn validator_at(doc: &Value, pointer: &str) -> jsonschema::Validator {
    let mut root = doc.clone();
    root["$ref"] = json!(format!("#{pointer}"));
    jsonschema::draft202012::new(&root).expect("the documented schema compiles")
}

/// The documented 200 schema of `POST /platform_api/<method>`.
fn method_answer_pointer(method: &str) -> String {
    format!("/paths/~1platform_api~1{method}/post/responses/200/content/application~1json/schema")
}

/// Each method's real answers, results and errors alike, match the schema its operation
/// documents; and the documented schema is the method's own answer, not any object.
async fn every_method_answers_as_its_schema_says(app: TestApp) {
    let doc = built();
    let token = app.owner_jwt();
    let t = Some(token.as_str());
    let mut answers: Vec<(&str, Value)> = Vec::new();
    let mut call = async |method: &'static str, params: &[(&str, &str)]| {
        let answer = app.rpc(t, Via::Path, method, params).await;
        answers.push((method, answer.clone()));
        answer
    };
    let added = call(
        "AddSubUser",
        &[
            ("new_subuser_name", "schema1"),
            ("new_subuser_password", PASSWORD),
            ("role_name", "Developer"),
        ],
    )
    .await;
    let id = rpc_ok(&added)["subuser_id"].to_string();
    call("GetSubUsers", &[("with_roles", "true")]).await;
    call("GetSubUsers", &[]).await;
    call(
        "SetSubUserInfo",
        &[("subuser_id", &id), ("description", "d")],
    )
    .await;
    call("SetSubUserRoles", &[("subuser_id", &id), ("role_id", "11")]).await;
    call(
        "GetSubUserRoles",
        &[("subuser_id", &id), ("with_expanded_roles", "true")],
    )
    .await;
    call(
        "RemoveSubUserRoles",
        &[("subuser_id", &id), ("role_id", "11")],
    )
    .await;
    let created = call("CreateKey", &[("key_name", "schema"), ("role_id", "3")]).await;
    let key = rpc_ok(&created)[0]["key_id"].as_str().unwrap().to_owned();
    call("GetKeys", &[("with_roles", "true")]).await;
    call("UpdateKey", &[("key_id", &key), ("description", "d")]).await;
    call("SetKeyRoles", &[("key_id", &key), ("role_id", "3;4")]).await;
    call("RemoveKeyRoles", &[("key_id", &key), ("role_id", "4")]).await;
    call("GetKeyRoles", &[("key_id", &key)]).await;
    call("GetRoles", &[]).await;
    call("GetRoleGroups", &[]).await;
    call("GetAccountInfo", &[]).await;
    call("GetAccountInfo", &[("return_live_balance", "maybe")]).await;
    call("DeleteKey", &[("key_id", &key)]).await;
    call("DelSubUser", &[("subuser_id", &id)]).await;
    // Refusals answer in the same document: the error branch of each schema.
    call("DelSubUser", &[("subuser_id", &id)]).await;
    call("GetKeys", &[("key_id", "nope")]).await;
    // The authorized-IP methods (the harness calls from the loopback: the entries keep it).
    call(
        "AddAuthorizedAccountIP",
        &[("authorized_ip", "127.0.0.0/8"), ("description", "d")],
    )
    .await;
    call(
        "AddAuthorizedAccountIP",
        &[("authorized_ip", "192.0.2.9"), ("allowed", "false")],
    )
    .await;
    call("GetAuthorizedAccountIPs", &[]).await;
    call(
        "CheckAuthorizedAccountIP",
        &[("authorized_ip", "127.0.0.1")],
    )
    .await;
    call(
        "CheckAuthorizedAccountIP",
        &[("authorized_ip", "203.0.113.1")],
    )
    .await;
    call("CheckAuthorizedAccountIP", &[("authorized_ip", "nope")]).await;
    call("DelAuthorizedAccountIP", &[("authorized_ip", "all")]).await;
    call("DelAuthorizedAccountIP", &[("authorized_ip", "all")]).await;

    let mut methods: Vec<&str> = answers.iter().map(|(m, _)| *m).collect();
    methods.sort_unstable();
    methods.dedup();
    assert_eq!(methods.len(), 21, "{methods:?}");
    for (method, answer) in &answers {
        let pointer = method_answer_pointer(method);
        let schema = doc.pointer(&pointer).expect("documented");
        let branches: Vec<&str> = schema["oneOf"]
            .as_array()
            .expect("oneOf the answer or an error")
            .iter()
            .map(|b| b["$ref"].as_str().unwrap())
            .collect();
        assert_eq!(branches.len(), 2, "{method}: {schema}");
        assert_eq!(branches[1], "#/components/schemas/MethodError", "{method}");
        let errors: Vec<String> = validator_at(&doc, &pointer)
            .iter_errors(answer)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{method} answered {answer}: {errors:#?}");
        let branch = if answer.get("error").is_some() {
            branches[1]
        } else {
            branches[0]
        };
        assert!(
            validator_at(&doc, &branch[1..]).is_valid(answer),
            "{method}: {answer} is not a {branch}"
        );
    }
    // A page says how many; the answer of a change says 1 and nothing else validates as it.
    let page = validator_at(&doc, "/components/schemas/SubUserPage");
    assert!(!page.is_valid(&json!({"result": []})));
    let done = validator_at(&doc, "/components/schemas/Done");
    assert!(done.is_valid(&json!({"result": 1})));
    assert!(!done.is_valid(&json!({"result": 2})));
}

e2e!(every_method_answers_as_its_schema_says);
