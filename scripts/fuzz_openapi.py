#!/usr/bin/env python3
"""Runs Schemathesis (`pip install schemathesis`) against a local Tessera's /openapi.json:
every documented operation, REST and method API, with the bootstrap owner's access-key token.

    cargo build --release
    pip install schemathesis
    python3 scripts/fuzz_openapi.py [--binary target/release/tessera] [--max-examples 50]

Starts its own server (fresh SQLite database in a temporary directory, random port), creates
one object of every kind (a user with an access key, a service key, a resource group, a user
group with a member, an SSO connector) so that operations on `{id}` paths reach real objects,
writes a schemathesis.toml naming them, runs `schemathesis run`, and stops the server. Extra
arguments after `--` go to schemathesis. Exits with schemathesis's status.

The method API answers every error as HTTP 200 with `{"error": {"code", "msg"}}` (the Voximplant
wire format its clients expect), so for `/platform_api` the checks that expect a 4xx for a bad
or unauthenticated request (ignored_auth, negative_data_rejection, positive_data_acceptance)
are off, and so are allow_header_conformance and unsupported_method: every method is served by
GET as well as POST (as Voximplant's are), which `Allow` says and the document mentions only in
prose.
not_a_server_error and the response-schema checks stay on everywhere.
"""

import argparse
import json
import subprocess
import sys
import urllib.request

from tessera_local import DEFAULT_BINARY, local_server

CONFIG = """\
[parameters]
account_id = {account}
user_id = {user}
user_group_id = "{user_group}"
resource_group_id = "{resource_group}"
sso_connector_id = "{sso}"
member_id = "{user}"
permission_group_id = "{permission_group}"

[[operations]]
include-path-regex = "access_keys"
parameters = {{ key_id = "{access_key}" }}

[[operations]]
include-path-regex = "/keys"
exclude-path-regex = "access_keys"
parameters = {{ key_id = "{service_key}" }}

[[operations]]
include-path-regex = "^/platform_api"
checks = {{ ignored_auth = {{ enabled = false }}, negative_data_rejection = {{ enabled = false }}, positive_data_acceptance = {{ enabled = false }}, allow_header_conformance = {{ enabled = false }}, unsupported_method = {{ enabled = false }} }}
"""


def call(base, token, method, path, body=None):
    request = urllib.request.Request(
        f"{base}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as r:
        return json.load(r)["result"]


def fixtures(base, token, account):
    """One object of every kind; returns the ids schemathesis.toml names."""
    prefix = f"/v1/accounts/{account}"
    user = call(base, token, "POST", f"{prefix}/users", {
        "login": "fuzzed.user", "password": "Str0ng-Pass!", "email": "fuzzed@example.com",
        "role": "Developer"})["id"]
    access_key = call(base, token, "POST", f"{prefix}/users/{user}/access_keys", {"name": "fuzz"})["id"]
    service_key = call(base, token, "POST", f"{prefix}/keys", {"name": "fuzz", "roles": ["Developer"]})
    groups = call(base, token, "GET", f"{prefix}/iam/permission_groups?per_page=100")
    permission_group = next(g["id"] for g in groups if g["name"] == "Usage Read")
    resource_group = call(base, token, "POST", f"{prefix}/iam/resource_groups", {
        "name": "fuzz", "scope": {"key": f"com.tessera.api.account.{account}", "objects": [{"key": "*"}]}})["id"]
    user_group = call(base, token, "POST", f"{prefix}/iam/user_groups", {
        "name": "fuzz", "policies": [{"access": "allow", "permission_groups": [{"id": permission_group}],
                                       "resource_groups": [{"id": resource_group}]}]})["id"]
    call(base, token, "POST", f"{prefix}/iam/user_groups/{user_group}/members", [{"id": str(user)}])
    sso = call(base, token, "POST", f"{prefix}/sso_connectors", {"email_domain": "fuzz.example"})["id"]
    return {
        "account": account, "user": user, "access_key": access_key,
        "service_key": service_key["id"], "permission_group": permission_group,
        "resource_group": resource_group, "user_group": user_group, "sso": sso,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=DEFAULT_BINARY)
    parser.add_argument("--max-examples", default="50")
    parser.add_argument("extra", nargs="*", help="arguments for schemathesis (after --)")
    args = parser.parse_args()

    # Thousands of generated sign-ins with wrong passwords would otherwise lock the test's
    # address (429 on everything) within the first minute.
    limits = {"TESSERA__AUTH__MAX_FAILURES_PER_ADDRESS": "100000000",
              "TESSERA__AUTH__MAX_FAILURES_PER_LOGIN": "100000000"}
    with local_server(args.binary, env=limits) as server:
        base, tmp = server.base, server.tmp
        credentials = server.credentials("initial-credentials.json")
        token = credentials["access_key"]["token"]
        ids = fixtures(base, token, credentials["account_id"])
        (tmp / "schemathesis.toml").write_text(CONFIG.format(**ids))
        print(f"server: {base}  fixtures: {json.dumps(ids)}", flush=True)
        command = ["schemathesis", "--config-file", str(tmp / "schemathesis.toml"), "run",
                   f"{base}/openapi.json", "-H", f"Authorization: Bearer {token}",
                   "--max-examples", args.max_examples, "--workers", "2", "--no-color",
                   *args.extra]
        return subprocess.run(command, cwd=tmp).returncode


if __name__ == "__main__":
    sys.exit(main())
