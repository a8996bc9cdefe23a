#!/usr/bin/env python3
"""Drives the official Cloudflare Python SDK (`pip install cloudflare`) against a local Tessera's
Cloudflare-compatible IAM API, with the bootstrap owner's access-key token as the API token.

    cargo build --release
    pip install cloudflare==5.9.0
    python3 scripts/cloudflare_smoke.py [--binary target/release/tessera]
    python3 scripts/cloudflare_smoke.py --url http://127.0.0.1:8080 --credentials data/initial-credentials.json
    python3 scripts/cloudflare_smoke.py --url … --credentials … --only oauth   # OAuth clients only

With no --url it starts its own server (fresh SQLite database in a temporary directory, random
port) and stops it at the end; with --url it talks to a running server, using the credentials
file that server's bootstrap wrote. Exits non-zero on the first failure.

Every list is read to its end the way the SDK pages it (page numbers until an empty page, or
one page), with small pages, and must end within a bounded number of pages and see each object
once: an endpoint that ignored `page` would make the SDK page forever.
"""

import argparse
import json
import sys
import urllib.request
import uuid
from pathlib import Path

from cloudflare import Cloudflare, NotFoundError

from tessera_local import DEFAULT_BINARY, local_server, wait_ready


def plain(value):
    # Tessera answers `scope` as a list (SPEC: responses always show the list) where the SDK's
    # models declare one object; pydantic parses it and would only warn when dumping it back.
    return value.model_dump(exclude_none=True, warnings=False) if hasattr(value, "model_dump") else value


def show(name, value):
    value = [plain(v) for v in value] if isinstance(value, list) else plain(value)
    print(f"{name}: {json.dumps(value, default=str)}")
    return value


# The most pages any list may take here; past it, the SDK is looping.
MOST_PAGES = 200


def every(pager, what):
    """Every item of an SDK list, read page by page as the SDK pages it; fails instead of looping
    when the pages never end, and when an object comes twice."""
    items, pages = [], 0
    for page in pager.iter_pages():
        pages += 1
        if pages > MOST_PAGES:
            sys.exit(f"{what}: still paging after {MOST_PAGES} pages")
        items.extend(page.result or [])
    ids = [getattr(i, "id", None) for i in items]
    assert len(ids) == len(set(ids)), f"{what}: an object came twice: {ids}"
    print(f"{what}: {len(items)} in {pages} pages")
    return items


def create_child_account(base, token):
    """A child account (plain HTTP, same token): accounts.list then has two to page through."""
    body = json.dumps({"name": "Smoke child", "email": "child@example.com"}).encode()
    request = urllib.request.Request(
        f"{base}/v1/accounts", data=body, method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as r:
        return str(json.load(r)["result"]["account_id"])


def create_user(base, token, account, login):
    """Restcomm-style users are not in the Cloudflare SDK: plain HTTP, same token."""
    body = json.dumps({"login": login, "password": "Str0ng-Pass!" + uuid.uuid4().hex[:6],
                       "email": f"{login}@example.com", "role": "Developer"}).encode()
    request = urllib.request.Request(
        f"{base}/v1/accounts/{account}/users", data=body, method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as r:
        return str(json.load(r)["result"]["id"])


def smoke(base, credentials):
    account = str(credentials["account_id"])
    token = credentials["access_key"]["token"]
    cf = Cloudflare(api_token=token, base_url=f"{base}/v1", max_retries=0)
    suffix = uuid.uuid4().hex[:8]

    child = create_child_account(base, token)
    accounts = every(cf.accounts.list(per_page=1), "accounts.list")
    assert [str(a.id) for a in accounts] == [account, child], accounts
    assert every(cf.accounts.list(), "accounts.list (default page)") == accounts

    groups = every(cf.iam.permission_groups.list(account_id=account, per_page=7),
                   "permission_groups.list")
    show("permission_groups.list", [g.name for g in groups])
    assert len(every(cf.iam.permission_groups.list(account_id=account),
                     "permission_groups.list (default page)")) == len(groups)
    labelled = every(cf.iam.permission_groups.list(account_id=account, label="usage.read"),
                     "permission_groups.list(label=)")
    assert [g.name for g in labelled] == ["Usage Read"], labelled
    by_name = {g.name: g.id for g in groups}
    assert "Usage Read" in by_name and "Recordings Write" in by_name, by_name
    one = cf.iam.permission_groups.get(by_name["Usage Read"], account_id=account)
    assert one.id == by_name["Usage Read"], one

    scope_key = f"com.tessera.api.account.{account}"
    rg = cf.iam.resource_groups.create(
        account_id=account, name=f"smoke-rg-{suffix}",
        scope={"key": scope_key, "objects": [{"key": "*"}]})
    show("resource_groups.create", rg)
    rg = cf.iam.resource_groups.update(
        rg.id, account_id=account, name=f"smoke-rg-{suffix}-renamed",
        scope={"key": scope_key, "objects": [{"key": "*"}]})
    show("resource_groups.update", rg)
    assert rg.name.endswith("-renamed"), rg
    assert any(g.id == rg.id for g in cf.iam.resource_groups.list(account_id=account)), "listed"

    ug = cf.iam.user_groups.create(
        account_id=account, name=f"smoke-ug-{suffix}",
        policies=[
            {"access": "allow", "permission_groups": [{"id": by_name["Usage Read"]}],
             "resource_groups": [{"id": rg.id}]},
            {"access": "deny", "permission_groups": [{"id": by_name["Recordings Write"]}],
             "resource_groups": [{"id": rg.id}]},
        ])
    show("user_groups.create", ug)
    assert [p.access for p in ug.policies] == ["allow", "deny"], ug.policies
    before = [p.id for p in ug.policies]
    ug = cf.iam.user_groups.update(
        ug.id, account_id=account, name=f"smoke-ug-{suffix}-renamed",
        policies=[{"id": p.id, "access": p.access,
                   "permission_groups": [{"id": g.id} for g in p.permission_groups],
                   "resource_groups": [{"id": g.id} for g in p.resource_groups]}
                  for p in ug.policies])
    show("user_groups.update", ug)
    assert ug.name.endswith("-renamed"), ug
    assert [p.id for p in ug.policies] == before, "policy ids survive a read-modify-write"
    page = cf.iam.user_groups.list(account_id=account, fuzzy_name="smoke-ug", per_page=10)
    assert any(g.id == ug.id for g in page), "listed"
    listed = every(cf.iam.user_groups.list(account_id=account, per_page=1), "user_groups.list")
    assert [g.id for g in listed] == [ug.id], listed
    listed = every(cf.iam.resource_groups.list(account_id=account), "resource_groups.list")
    assert [g.id for g in listed] == [rg.id], listed

    alice = create_user(base, token, account, f"alice{suffix}")
    bob = create_user(base, token, account, f"bob{suffix}")
    added = list(cf.iam.user_groups.members.create(ug.id, account_id=account, members=[{"id": alice}]))
    show("members.create", added)
    assert [m.id for m in added] == [alice], added
    replaced = list(cf.iam.user_groups.members.update(ug.id, account_id=account, members=[{"id": bob}]))
    show("members.update", replaced)
    assert [m.id for m in replaced] == [bob], replaced
    listed = every(cf.iam.user_groups.members.list(ug.id, account_id=account, per_page=1),
                   "members.list")
    show("members.list", listed)
    assert [(m.id, m.status) for m in listed] == [(bob, "accepted")], listed
    removed = cf.iam.user_groups.members.delete(bob, account_id=account, user_group_id=ug.id)
    show("members.delete", removed)
    assert list(cf.iam.user_groups.members.list(ug.id, account_id=account)) == []

    show("user_groups.delete", cf.iam.user_groups.delete(ug.id, account_id=account))
    show("resource_groups.delete", cf.iam.resource_groups.delete(rg.id, account_id=account))
    assert all(g.id != rg.id for g in cf.iam.resource_groups.list(account_id=account)), "deleted"

    sso = cf.iam.sso.create(account_id=account, email_domain=f"smoke-{suffix}.example")
    show("sso.create", sso)
    assert sso.verification.status == "awaiting", sso
    started = cf.iam.sso.begin_verification(sso.id, account_id=account)
    show("sso.begin_verification", started)
    sso = cf.iam.sso.get(sso.id, account_id=account)
    show("sso.get", sso)
    assert sso.verification.status == "pending", sso
    assert sso.verification.code == f"tessera_sso={sso.id}", sso
    assert [c.id for c in every(cf.iam.sso.list(account_id=account), "sso.list")] == [sso.id]
    show("sso.delete", cf.iam.sso.delete(sso.id, account_id=account))
    oauth(cf, account)
    events = every(cf.audit_logs.list(account_id=account, per_page=5), "audit_logs.list")
    assert len(events) >= 10, events
    print("cloudflare smoke: ok")


def oauth(cf, account):
    """iam.oauth_scopes.list and every call of iam.oauth_clients, asserting what each answers."""
    scopes = every(cf.iam.oauth_scopes.list(), "oauth_scopes.list")
    ids = [s.id for s in scopes]
    assert ids[:4] == ["openid", "email", "profile", "offline_access"], ids
    assert "user_management.read" in ids and "user_management.write" in ids, ids
    write = next(s for s in scopes if s.id == "user_management.write")
    assert write.name == "User Management Write", write
    assert write.scopes == ["user_management.read", "user_management.write"], write

    client = cf.iam.oauth_clients.create(
        account_id=account,
        client_name="smoke dashboard",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=["https://app.example.com/callback", "http://127.0.0.1:8400/cb"],
        response_types=["code", "id_token"],
        scopes=["user_management.read", "email"],
        token_endpoint_auth_method="client_secret_basic",
        optional_scopes=["email"],
        logo_uri="https://app.example.com/logo.png",
    )
    show("oauth_clients.create", client)
    assert len(client.client_id) == 32, client
    assert client.client_secret and len(client.client_secret) >= 40, "the secret, once"
    assert client.visibility == "private", client
    assert client.has_rotated_secret is False, client
    assert client.scopes == ["openid", "email", "offline_access", "user_management.read"], client
    assert client.grant_types == ["authorization_code", "refresh_token"], client
    assert client.token_endpoint_auth_method == "client_secret_basic", client

    got = cf.iam.oauth_clients.get(client.client_id, account_id=account)
    show("oauth_clients.get", got)
    assert got.client_id == client.client_id and got.client_name == "smoke dashboard", got
    assert "client_secret" not in got.model_dump(exclude_none=True), "never shown again"
    listed = every(cf.iam.oauth_clients.list(account_id=account), "oauth_clients.list")
    assert [c.client_id for c in listed] == [client.client_id], listed

    updated = cf.iam.oauth_clients.update(
        client.client_id, account_id=account, client_name="smoke renamed",
        grant_types=["authorization_code"], token_endpoint_auth_method="client_secret_post")
    show("oauth_clients.update", updated)
    assert updated.client_name == "smoke renamed", updated
    assert updated.scopes == ["openid", "email", "user_management.read"], updated
    assert updated.token_endpoint_auth_method == "client_secret_post", updated
    assert updated.redirect_uris == client.redirect_uris, updated

    rotated = cf.iam.oauth_clients.rotate_secret(client.client_id, account_id=account)
    assert rotated.client_secret and rotated.client_secret != client.client_secret, "a new one"
    print("oauth_clients.rotate_secret: a new secret")
    assert cf.iam.oauth_clients.get(client.client_id, account_id=account).has_rotated_secret
    dropped = cf.iam.oauth_clients.delete_rotated_secret(client.client_id, account_id=account)
    show("oauth_clients.delete_rotated_secret", dropped)
    assert dropped.id == client.client_id, dropped
    assert not cf.iam.oauth_clients.get(client.client_id, account_id=account).has_rotated_secret

    deleted = cf.iam.oauth_clients.delete(client.client_id, account_id=account)
    show("oauth_clients.delete", deleted)
    assert deleted.id == client.client_id, deleted
    assert list(cf.iam.oauth_clients.list(account_id=account)) == [], "deleted"
    try:
        cf.iam.oauth_clients.get(client.client_id, account_id=account)
        sys.exit("oauth_clients.get: a deleted client was found")
    except NotFoundError:
        pass
    print("cloudflare oauth: ok")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=DEFAULT_BINARY)
    parser.add_argument("--url", help="a running server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--credentials", default="data/initial-credentials.json",
                        help="with --url: the bootstrap's initial-credentials.json")
    parser.add_argument("--only", choices=["oauth"],
                        help="drive only this part (oauth: iam.oauth_clients and iam.oauth_scopes)")
    args = parser.parse_args()

    if args.url:
        base = args.url.rstrip("/")
        wait_ready(base)
        credentials = json.loads(Path(args.credentials).read_text())
        if args.only == "oauth":
            cf = Cloudflare(api_token=credentials["access_key"]["token"], base_url=f"{base}/v1",
                            max_retries=0)
            oauth(cf, str(credentials["account_id"]))
        else:
            smoke(base, credentials)
        return

    with local_server(args.binary) as server:
        print(f"server: {server.base}")
        smoke(server.base, server.credentials("initial-credentials.json"))


if __name__ == "__main__":
    main()
