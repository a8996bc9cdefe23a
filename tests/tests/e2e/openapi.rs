//! The OpenAPI document: 3.1, covering every route the server registers (REST and the method
//! API), and Swagger UI served offline.

use serde_json::Value;
use tessera_tests::{TestApp, e2e};

/// Every route of SPEC §7, as the document must name it.
const SPEC_ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/sessions"),
    ("delete", "/v1/sessions"),
    ("get", "/v1/sessions"),
    ("delete", "/v1/sessions/{session_id}"),
    ("get", "/v1/accounts/{account_id}/users/{user_id}/sessions"),
    (
        "delete",
        "/v1/accounts/{account_id}/users/{user_id}/sessions",
    ),
    (
        "delete",
        "/v1/accounts/{account_id}/users/{user_id}/sessions/{session_id}",
    ),
    ("get", "/v1/accounts"),
    ("post", "/v1/accounts"),
    ("get", "/v1/accounts/{account_id}"),
    ("patch", "/v1/accounts/{account_id}"),
    ("get", "/v1/accounts/{account_id}/users"),
    ("post", "/v1/accounts/{account_id}/users"),
    ("get", "/v1/accounts/{account_id}/users/{user_id}"),
    ("patch", "/v1/accounts/{account_id}/users/{user_id}"),
    ("delete", "/v1/accounts/{account_id}/users/{user_id}"),
    (
        "get",
        "/v1/accounts/{account_id}/users/{user_id}/access_keys",
    ),
    (
        "post",
        "/v1/accounts/{account_id}/users/{user_id}/access_keys",
    ),
    (
        "patch",
        "/v1/accounts/{account_id}/users/{user_id}/access_keys/{key_id}",
    ),
    (
        "delete",
        "/v1/accounts/{account_id}/users/{user_id}/access_keys/{key_id}",
    ),
    ("get", "/v1/accounts/{account_id}/keys"),
    ("post", "/v1/accounts/{account_id}/keys"),
    ("get", "/v1/accounts/{account_id}/keys/{key_id}"),
    ("patch", "/v1/accounts/{account_id}/keys/{key_id}"),
    ("delete", "/v1/accounts/{account_id}/keys/{key_id}"),
    ("put", "/v1/accounts/{account_id}/keys/{key_id}/roles"),
    ("get", "/v1/accounts/{account_id}/iam/roles"),
    ("get", "/v1/accounts/{account_id}/iam/role_groups"),
    ("get", "/v1/accounts/{account_id}/iam/permission_groups"),
    (
        "get",
        "/v1/accounts/{account_id}/iam/permission_groups/{permission_group_id}",
    ),
    ("get", "/v1/accounts/{account_id}/iam/resource_groups"),
    ("post", "/v1/accounts/{account_id}/iam/resource_groups"),
    (
        "get",
        "/v1/accounts/{account_id}/iam/resource_groups/{resource_group_id}",
    ),
    (
        "put",
        "/v1/accounts/{account_id}/iam/resource_groups/{resource_group_id}",
    ),
    (
        "delete",
        "/v1/accounts/{account_id}/iam/resource_groups/{resource_group_id}",
    ),
    ("get", "/v1/accounts/{account_id}/iam/user_groups"),
    ("post", "/v1/accounts/{account_id}/iam/user_groups"),
    (
        "get",
        "/v1/accounts/{account_id}/iam/user_groups/{user_group_id}",
    ),
    (
        "put",
        "/v1/accounts/{account_id}/iam/user_groups/{user_group_id}",
    ),
    (
        "delete",
        "/v1/accounts/{account_id}/iam/user_groups/{user_group_id}",
    ),
    (
        "get",
        "/v1/accounts/{account_id}/iam/user_groups/{user_group_id}/members",
    ),
    (
        "post",
        "/v1/accounts/{account_id}/iam/user_groups/{user_group_id}/members",
    ),
    (
        "put",
        "/v1/accounts/{account_id}/iam/user_groups/{user_group_id}/members",
    ),
    (
        "delete",
        "/v1/accounts/{account_id}/iam/user_groups/{user_group_id}/members/{member_id}",
    ),
    ("get", "/v1/accounts/{account_id}/sso_connectors"),
    ("post", "/v1/accounts/{account_id}/sso_connectors"),
    (
        "get",
        "/v1/accounts/{account_id}/sso_connectors/{sso_connector_id}",
    ),
    (
        "patch",
        "/v1/accounts/{account_id}/sso_connectors/{sso_connector_id}",
    ),
    (
        "delete",
        "/v1/accounts/{account_id}/sso_connectors/{sso_connector_id}",
    ),
    (
        "post",
        "/v1/accounts/{account_id}/sso_connectors/{sso_connector_id}/begin_verification",
    ),
    ("get", "/v1/accounts/{account_id}/authorized_ips"),
    ("post", "/v1/accounts/{account_id}/authorized_ips"),
    ("delete", "/v1/accounts/{account_id}/authorized_ips"),
    ("get", "/v1/accounts/{account_id}/authorized_ips/check"),
    ("post", "/v1/accounts/{account_id}/iam/authorize"),
    (
        "get",
        "/v1/accounts/{account_id}/users/{user_id}/effective_permissions",
    ),
    ("get", "/v1/accounts/{account_id}/audit_logs"),
    ("get", "/v1/accounts/{account_id}/credential_report"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
];

const METHODS: &[&str] = &[
    "AddSubUser",
    "DelSubUser",
    "GetSubUsers",
    "SetSubUserInfo",
    "SetSubUserRoles",
    "RemoveSubUserRoles",
    "GetSubUserRoles",
    "CreateKey",
    "DeleteKey",
    "UpdateKey",
    "GetKeys",
    "SetKeyRoles",
    "RemoveKeyRoles",
    "GetKeyRoles",
    "GetRoles",
    "GetRoleGroups",
    "AddAuthorizedAccountIP",
    "DelAuthorizedAccountIP",
    "GetAuthorizedAccountIPs",
    "CheckAuthorizedAccountIP",
    "GetAccountInfo",
];

async fn document(app: &TestApp) -> Value {
    let (status, doc) = app.get_json("/openapi.json").await;
    assert_eq!(status, 200);
    doc
}

async fn the_document_is_openapi_3_1_and_names_every_spec_route_and_method(app: TestApp) {
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    for (method, path) in SPEC_ROUTES {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is missing from the document"
        );
    }
    for m in METHODS {
        let op = &doc["paths"][format!("/platform_api/{m}")]["post"];
        assert!(op.is_object(), "{m} is missing");
        assert!(
            op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"].is_object(),
            "{m} has no form schema"
        );
    }
    for scheme in ["bearer", "basic", "x_auth_email", "x_auth_key"] {
        assert!(
            doc["components"]["securitySchemes"][scheme].is_object(),
            "{scheme}"
        );
    }
}

/// Every operation the document names is routed (it answers something other than "no such
/// route"), so document and router cannot drift apart.
async fn every_documented_operation_is_routed(app: TestApp) {
    let doc = document(&app).await;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let concrete = path
                .replace("{account_id}", "1")
                .replace("{user_id}", "1")
                .replace("{member_id}", "1")
                .replace("{key_id}", "00000000-0000-0000-0000-000000000000")
                .split('/')
                .map(|seg| {
                    if seg.starts_with('{') {
                        "00000000000000000000000000000000"
                    } else {
                        seg
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = app
                .client
                .request(m, app.url(&concrete))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            assert_ne!(status, 405, "{method} {path}");
            assert!(
                !(status == 404 && body["errors"][0]["message"] == "no such route"),
                "{method} {path} is documented but not routed"
            );
            checked += 1;
        }
    }
    assert!(checked >= SPEC_ROUTES.len() + METHODS.len(), "{checked}");
}

/// Every `/v1` operation documents the answers any request can get, each error in the envelope.
async fn every_rest_operation_documents_its_errors_in_the_envelope(app: TestApp) {
    let doc = document(&app).await;
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/v1") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            for status in ["400", "401", "429", "503"] {
                assert!(responses.contains_key(status), "{method} {path}: {status}");
            }
            if op.get("requestBody").is_some() {
                assert!(responses.contains_key("415"), "{method} {path}: 415");
            }
            for (status, response) in responses {
                if status.as_str() >= "400" {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorEnvelope",
                        "{method} {path}: {status}"
                    );
                }
            }
            operations += 1;
        }
    }
    assert!(operations >= SPEC_ROUTES.len() - 3, "{operations}");
    let envelope = &doc["components"]["schemas"]["ErrorEnvelope"];
    assert_eq!(envelope["properties"]["success"]["type"], "boolean");
    assert_eq!(
        doc["components"]["schemas"]["UpdateUserBody"]["minProperties"],
        1
    );
    // Text fields promise no NUL character (the server refuses one everywhere).
    assert_eq!(
        doc["components"]["schemas"]["CreateUserBody"]["properties"]["description"]["pattern"],
        "^[^\\u0000]*$"
    );
}

async fn swagger_ui_is_served_without_the_network(app: TestApp) {
    let res = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    for asset in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-initializer.js",
    ] {
        let res = app.client.get(app.url(asset)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{asset}");
    }
    let init = app.get_text("/docs/swagger-initializer.js").await;
    assert!(init.contains("/openapi.json"), "{init}");
}

e2e!(
    the_document_is_openapi_3_1_and_names_every_spec_route_and_method,
    every_documented_operation_is_routed,
    every_rest_operation_documents_its_errors_in_the_envelope,
    swagger_ui_is_served_without_the_network
);
