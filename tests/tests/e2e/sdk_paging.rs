//! Official clients never loop or miss: every `/v1` list route of the OpenAPI document (derived
//! from the document, so a new one cannot be left out) is paged with the official Cloudflare
//! SDK's rules, and each walk must end after the right number of requests and see every object
//! exactly once.
//!
//! The rules, from the `cloudflare` package on PyPI (5.9.0, `cloudflare/pagination.py` and
//! `_base_client.py`):
//!
//! - `V4PagePaginationArray` (`accounts.list`, `iam.permission_groups.list`,
//!   `iam.user_groups.list`, `iam.user_groups.members.list`, `audit_logs.list`, and the rule of
//!   Cloudflare's paged lists generally): request the same query with `page` = the last page
//!   + 1 while the last page's `result` is non-empty;
//! - `SinglePage` (`iam.resource_groups.list`, `iam.sso.list`, `iam.oauth_clients.list`,
//!   `iam.oauth_scopes.list`): one request, no paging
//!   parameters: it must hold every object;
//! - `CursorPagination`: request with `cursor` = `result_info.cursor` while the page is
//!   non-empty and the cursor is present (for the routes that take `cursor`).

use std::collections::BTreeSet;

use serde_json::{Value, json};
use tessera_tests::{TestApp, e2e};

/// The list routes the SDK reads as a single page (`SyncSinglePage`).
const SINGLE_PAGE: &[&str] = &[
    "/v1/accounts/{account_id}/iam/resource_groups",
    "/v1/accounts/{account_id}/sso_connectors",
    "/v1/accounts/{account_id}/oauth_clients",
    "/v1/oauth/scopes",
];

/// The most requests any walk may take before the test calls it a loop.
const LOOP: usize = 500;

/// The objects the fixture gives every list: at least this many, so that small pages make
/// several of them.
const AT_LEAST: usize = 2;

/// Every `GET` under `/v1` whose answer's `result` is an array, with whether it takes `cursor`.
fn list_routes(doc: &Value) -> Vec<(String, bool)> {
    let schemas = &doc["components"]["schemas"];
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let Some(get) = item.get("get") else { continue };
        if !path.starts_with("/v1") {
            continue;
        }
        let schema = &get["responses"]["200"]["content"]["application/json"]["schema"];
        let schema = match schema["$ref"].as_str() {
            Some(r) => &schemas[r.trim_start_matches("#/components/schemas/")],
            None => schema,
        };
        if schema["properties"]["result"]["type"] == "array" {
            let cursor = get["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "cursor"));
            routes.push((path.clone(), cursor));
        }
    }
    routes
}

/// What identifies an item: its `id`, or the whole item for objects without one.
fn identity(item: &Value) -> String {
    match item.get("id") {
        Some(id) => id.to_string(),
        None => item.to_string(),
    }
}

/// One page: its items and `result_info`.
async fn page(app: &TestApp, token: &str, path: &str, query: &[String]) -> (Vec<Value>, Value) {
    let url = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    };
    let (status, body) = app.call("GET", &url, Some(token), None).await;
    assert_eq!(status, 200, "GET {url}: {body}");
    let items = body["result"].as_array().expect("a list").clone();
    (items, body["result_info"].clone())
}

/// The identities seen, checking that none is seen twice.
fn once(route: &str, rule: &str, items: &[Value]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for item in items {
        assert!(
            seen.insert(identity(item)),
            "{route} ({rule}): {item} seen twice"
        );
    }
    seen
}

/// `V4PagePaginationArray`: page + 1 while the page is non-empty. Returns the items and the
/// number of requests.
async fn walk_pages(
    app: &TestApp,
    token: &str,
    path: &str,
    per_page: Option<u32>,
) -> (Vec<Value>, usize, u64) {
    let mut all = Vec::new();
    let mut size = 0;
    for requests in 1..=LOOP {
        let mut query = vec![format!("page={requests}")];
        query.extend(per_page.map(|p| format!("per_page={p}")));
        // The SDK's first request carries no `page`: the server's default must be page 1.
        if requests == 1 {
            query.remove(0);
        }
        let (items, info) = page(app, token, path, &query).await;
        assert_eq!(info["page"], json!(requests), "{path}: result_info {info}");
        assert_eq!(
            info["count"],
            json!(items.len()),
            "{path}: result_info {info}"
        );
        if requests == 1 {
            size = info["per_page"].as_u64().expect("result_info.per_page");
        }
        assert!(items.len() as u64 <= size, "{path}: a page over per_page");
        if items.is_empty() {
            return (all, requests, size);
        }
        all.extend(items);
    }
    panic!("{path}: page numbers never ran out after {LOOP} requests (per_page {per_page:?})");
}

/// `CursorPagination`: follow `result_info.cursor` while the page is non-empty.
async fn walk_cursors(
    app: &TestApp,
    token: &str,
    path: &str,
    per_page: u32,
) -> (Vec<Value>, usize) {
    let mut all = Vec::new();
    let mut query = vec![format!("per_page={per_page}")];
    for requests in 1..=LOOP {
        let (items, info) = page(app, token, path, &query).await;
        let empty = items.is_empty();
        all.extend(items);
        match info["cursor"].as_str() {
            Some(cursor) if !empty => {
                query = vec![format!("per_page={per_page}"), format!("cursor={cursor}")];
            }
            _ => return (all, requests),
        }
    }
    panic!("{path}: cursors never ran out after {LOOP} requests");
}

/// Creates `body` at `path`; returns the `result`.
async fn create(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (status, answer) = app.call("POST", path, Some(token), Some(body)).await;
    assert_eq!(status, 200, "POST {path}: {answer}");
    answer["result"].clone()
}

async fn every_list_route_ends_and_misses_nothing_under_the_sdk_rules(app: TestApp) {
    let owner = app.owner().await;
    // At least a few objects in every list.
    for _ in 0..3 {
        app.child_account(&owner).await;
    }
    let mut users = Vec::new();
    for i in 0..3 {
        users.push(
            app.create_user(&owner, &format!("pager{i}"), &["Developer"])
                .await,
        );
    }
    let user = users[0];
    // Sessions: the user's (listed by the owner) and the owner's own (another besides its own).
    for _ in 0..3 {
        app.login(1, "pager0", tessera_tests::PASSWORD).await;
    }
    app.owner().await;
    for _ in 0..2 {
        create(
            &app,
            &owner,
            &format!("/v1/accounts/1/users/{user}/access_keys"),
            json!({}),
        )
        .await;
    }
    for i in 0..2 {
        create(
            &app,
            &owner,
            "/v1/accounts/1/keys",
            json!({"name": format!("pager{i}"), "roles": ["Developer"]}),
        )
        .await;
    }
    let pg = app.permission_group(&owner, "Usage Read").await;
    let mut rg = String::new();
    for i in 0..3 {
        let created = create(
            &app,
            &owner,
            "/v1/accounts/1/iam/resource_groups",
            json!({"name": format!("pager rg {i}"),
                   "scope": {"key": "com.tessera.api.account.1", "objects": [{"key": "*"}]}}),
        )
        .await;
        rg = created["id"].as_str().expect("id").to_owned();
    }
    let mut group = String::new();
    for i in 0..3 {
        let created = create(
            &app,
            &owner,
            "/v1/accounts/1/iam/user_groups",
            json!({"name": format!("pager ug {i}"),
                   "policies": [{"access": "allow", "permission_groups": [{"id": pg}],
                                 "resource_groups": [{"id": rg}]}]}),
        )
        .await;
        group = created["id"].as_str().expect("id").to_owned();
    }
    let members: Vec<Value> = users.iter().map(|u| json!({"id": u.to_string()})).collect();
    create(
        &app,
        &owner,
        &format!("/v1/accounts/1/iam/user_groups/{group}/members"),
        Value::Array(members),
    )
    .await;
    for i in 0..3 {
        create(
            &app,
            &owner,
            "/v1/accounts/1/sso_connectors",
            json!({"email_domain": format!("pager{i}.example")}),
        )
        .await;
    }
    for i in 0..3 {
        create(
            &app,
            &owner,
            "/v1/accounts/1/oauth_clients",
            json!({"client_name": format!("pager {i}"), "grant_types": ["authorization_code"],
                   "redirect_uris": ["https://pager.example/cb"], "response_types": ["code"],
                   "scopes": ["usage.read"], "token_endpoint_auth_method": "none"}),
        )
        .await;
    }
    // Authorized IPs that keep the harness's own address (the loopback) admitted.
    for (network, allowed) in [
        ("127.0.0.0/8", true),
        ("192.0.2.66", false),
        ("2001:db8::/32", true),
    ] {
        create(
            &app,
            &owner,
            "/v1/accounts/1/authorized_ips",
            json!({"authorized_ip": network, "allowed": allowed}),
        )
        .await;
    }

    let (status, doc) = app.get_json("/openapi.json").await;
    assert_eq!(status, 200);
    let routes = list_routes(&doc);
    assert!(routes.len() >= 13, "the list routes: {routes:?}");
    for (route, takes_cursor) in routes {
        let mut path = route.clone();
        for (param, value) in [
            ("{account_id}", "1".to_owned()),
            ("{user_id}", user.to_string()),
            ("{user_group_id}", group.clone()),
        ] {
            path = path.replace(param, &value);
        }
        assert!(
            !path.contains('{'),
            "{route}: give the fixture a value for its path parameters"
        );
        // Every object, in one page of the largest size.
        let (whole, _) = page(&app, &owner, &path, &["per_page=1000".to_owned()]).await;
        let everything = once(&route, "one page", &whole);
        let n = everything.len();
        assert!(
            n >= AT_LEAST,
            "{route}: the fixture must give this list at least {AT_LEAST} objects, it has {n}"
        );

        for per_page in [None, Some(1), Some(2), Some(3)] {
            let (seen, requests, size) = walk_pages(&app, &owner, &path, per_page).await;
            let rule = format!("V4PagePaginationArray, per_page {per_page:?}");
            assert_eq!(once(&route, &rule, &seen), everything, "{route} ({rule})");
            let size = usize::try_from(size).expect("a size");
            assert_eq!(requests, n.div_ceil(size) + 1, "{route} ({rule})");
        }

        if SINGLE_PAGE.contains(&route.as_str()) {
            let (seen, _) = page(&app, &owner, &path, &[]).await;
            assert_eq!(
                once(&route, "SinglePage", &seen),
                everything,
                "{route} (SinglePage)"
            );
        }

        if takes_cursor {
            for per_page in [1, 2, 3] {
                let (seen, requests) = walk_cursors(&app, &owner, &path, per_page).await;
                let rule = format!("CursorPagination, per_page {per_page}");
                assert_eq!(once(&route, &rule, &seen), everything, "{route} ({rule})");
                let per_page = per_page as usize;
                let expected = n.div_ceil(per_page) + usize::from(n % per_page == 0);
                assert_eq!(requests, expected, "{route} ({rule})");
            }
        }
    }
}

async fn accounts_page_and_filter_like_any_list(app: TestApp) {
    let owner = app.owner().await;
    let mut children = Vec::new();
    for _ in 0..3 {
        children.push(app.child_account(&owner).await["account_id"].clone());
    }
    let (_, body) = app
        .call("GET", "/v1/accounts?per_page=2&page=2", Some(&owner), None)
        .await;
    assert_eq!(body["result"].as_array().map(Vec::len), Some(2), "{body}");
    assert_eq!(body["result"][0]["id"], children[1], "{body}");
    assert_eq!(
        body["result_info"],
        json!({"page": 2, "per_page": 2, "count": 2, "total_count": 4, "cursor": body["result_info"]["cursor"]})
    );
    let (_, past) = app
        .call("GET", "/v1/accounts?per_page=2&page=3", Some(&owner), None)
        .await;
    assert_eq!(past["result"], json!([]), "past the end: {past}");
    let (_, all) = app.call("GET", "/v1/accounts", Some(&owner), None).await;
    assert_eq!(
        all["result_info"]["count"],
        json!(4),
        "all by default: {all}"
    );
    let (_, newest) = app
        .call(
            "GET",
            "/v1/accounts?direction=desc&per_page=1",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(newest["result"][0]["id"], children[2], "{newest}");
    let (_, tessera) = app
        .call("GET", "/v1/accounts?name=Tessera", Some(&owner), None)
        .await;
    assert_eq!(tessera["result"][0]["id"], json!(1), "{tessera}");
    assert_eq!(tessera["result_info"]["count"], json!(1), "{tessera}");
    for (query, message) in [
        ("page=0", "page: must be between 1 and 1000000"),
        ("page=two", "page: expected a positive integer such as 2"),
        ("per_page=1001", "per_page: must be between 1 and 1000"),
        (
            "per_page=-1",
            "per_page: expected a positive integer such as 2",
        ),
        (
            "direction=up",
            "direction: unknown variant `up`, expected `asc` or `desc`",
        ),
    ] {
        let (status, body) = app
            .call("GET", &format!("/v1/accounts?{query}"), Some(&owner), None)
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["errors"][0]["message"], message, "{query}");
    }
}

e2e!(
    every_list_route_ends_and_misses_nothing_under_the_sdk_rules,
    accounts_page_and_filter_like_any_list
);
