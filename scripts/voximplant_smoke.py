#!/usr/bin/env python3
"""Drives the official Voximplant client (`pip install voximplant-apiclient`) against a local
Tessera over TLS, with a self-signed certificate trusted through REQUESTS_CA_BUNDLE.

    cargo build --release
    pip install voximplant-apiclient
    python3 scripts/voximplant_smoke.py [--binary target/release/tessera]

Starts its own server (fresh SQLite database in a temporary directory, random port), uses the
bootstrap service key (data/credentials.json) exactly as a customer would, and stops the server.
Exits non-zero on the first failure.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys

from voximplant.apiclient import VoximplantAPI, VoximplantException

from tessera_local import DEFAULT_BINARY, local_server


def self_signed(directory):
    cert, key = directory / "server.crt", directory / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def redacted(value):
    if isinstance(value, dict):
        return {k: ("[redacted]" if k == "private_key" else redacted(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(v) for v in value]
    return value


def step(name, call):
    result = call()
    print(f"{name}: {json.dumps(redacted(result), default=str)}")
    if "error" in result:
        sys.exit(f"{name} failed")
    return result["result"]


def authorized_ips(api):
    """The four authorized-IP methods, as the client calls them. The script connects from the
    loopback, so its allow entries keep 127.0.0.1 admitted (the client cannot send `force`)."""
    step("AddAuthorizedAccountIP", lambda: api.add_authorized_account_ip(
        "127.0.0.0/8", description="the smoke test's own address"))
    step("AddAuthorizedAccountIP (deny)", lambda: api.add_authorized_account_ip(
        "192.0.2.66", allowed=False))
    step("AddAuthorizedAccountIP (another network)", lambda: api.add_authorized_account_ip(
        "198.51.100.0/24", allowed=True))
    listed = step("GetAuthorizedAccountIPs", lambda: api.get_authorized_account_ips())
    assert [e["authorized_ip"] for e in listed] == [
        "127.0.0.0/8", "192.0.2.66", "198.51.100.0/24"], listed
    assert all(isinstance(e["created"], datetime.datetime) for e in listed), listed
    denied = step("GetAuthorizedAccountIPs (deny entries)",
                  lambda: api.get_authorized_account_ips(allowed=False, count=10, offset=0))
    assert [e["authorized_ip"] for e in denied] == ["192.0.2.66"], denied
    containing = step("GetAuthorizedAccountIPs (containing)",
                      lambda: api.get_authorized_account_ips(contains_ip="127.0.0.1"))
    assert [e["description"] for e in containing] == ["the smoke test's own address"], containing
    answer = api.check_authorized_account_ip("127.0.0.1")
    print(f"CheckAuthorizedAccountIP: {answer}")
    assert answer == {"result": True, "authorized_ip": "127.0.0.0/8"}, answer
    answer = api.check_authorized_account_ip("192.0.2.66")
    print(f"CheckAuthorizedAccountIP (denied): {answer}")
    assert answer == {"result": False, "authorized_ip": "192.0.2.66"}, answer
    assert api.check_authorized_account_ip("203.0.113.1")["result"] is False
    try:
        api.del_authorized_account_ip(authorized_ip="127.0.0.0/8")
        sys.exit("removing the entry that admits the caller was accepted without force")
    except VoximplantException as e:
        print(f"DelAuthorizedAccountIP (own address): VoximplantException code={e.code} msg={e}")
        assert e.code == 101, e.code
    removed = step("DelAuthorizedAccountIP (containing)",
                   lambda: api.del_authorized_account_ip(contains_ip="192.0.2.66", allowed=False))
    assert removed == 1, removed
    removed = step("DelAuthorizedAccountIP (all)",
                   lambda: api.del_authorized_account_ip(authorized_ip="all"))
    assert removed == 2, removed
    assert step("GetAuthorizedAccountIPs (empty)", lambda: api.get_authorized_account_ips()) == []


def account_info(api, tmp, endpoint):
    """GetAccountInfo, a basic method: the bootstrap key and a key without roles both read
    their account, and the client turns `created` into an aware datetime."""
    info = step("GetAccountInfo", lambda: api.get_account_info())
    assert info["account_id"] == 1 and info["active"] is True, info
    assert isinstance(info["created"], datetime.datetime), info["created"]
    assert info["created"].tzinfo is not None, info["created"]
    bare = step("CreateKey (no roles)", lambda: api.create_key(key_name="bare key"))
    bare_file = tmp / "bare-key.json"
    bare_file.write_text(json.dumps(bare[0]))
    bare_api = VoximplantAPI(credentials_file_path=str(bare_file), endpoint=endpoint)
    same = step("GetAccountInfo (a key without roles)",
                lambda: bare_api.get_account_info(return_live_balance=False))
    assert same == info, (same, info)
    step("DeleteKey (no roles)", lambda: api.delete_key(bare[0]["key_id"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=DEFAULT_BINARY)
    args = parser.parse_args()

    with local_server(args.binary, tls=self_signed) as server:
        tmp = server.tmp
        endpoint = server.base.removeprefix("https://")
        os.environ["REQUESTS_CA_BUNDLE"] = str(tmp / "server.crt")
        credentials = server.data_dir / "credentials.json"
        print(f"server: {server.base}  credentials: {credentials}")
        api = VoximplantAPI(credentials_file_path=str(credentials), endpoint=endpoint)

        subuser = step("AddSubUser", lambda: api.add_sub_user(
            "smoke.user", "Str0ng-Pass!", role_name=["Developer"], description="smoke test"))
        subuser_id = subuser["subuser_id"]
        created = step("CreateKey", lambda: api.create_key(
            key_name="smoke key", description="made by the smoke test", role_name=["Developer"]))
        key_id = created[0]["key_id"]
        step("SetKeyRoles", lambda: api.set_key_roles(key_id, role_name=["Developer", "Support"]))
        roles = step("GetKeyRoles", lambda: api.get_key_roles(key_id))
        assert sorted(r["role_name"] for r in roles) == ["Developer", "Support"], roles
        step("RemoveKeyRoles", lambda: api.remove_key_roles(key_id, role_name=["Support"]))
        roles = step("GetKeyRoles", lambda: api.get_key_roles(key_id, with_expanded_roles=True))
        assert [r["role_name"] for r in roles] == ["Developer"], roles
        keys = step("GetKeys", lambda: api.get_keys(with_roles=True))
        assert any(k["key_id"] == key_id for k in keys), keys
        users = step("GetSubUsers", lambda: api.get_sub_users(with_roles=True))
        assert any(u["subuser_id"] == subuser_id for u in users), users
        step("GetRoles", lambda: api.get_roles(group_name="Restcomm"))
        step("GetRoleGroups", api.get_role_groups)
        account_info(api, tmp, endpoint)

        # The new key's own credentials file works with the same client.
        new_credentials = tmp / "new-key.json"
        new_credentials.write_text(json.dumps(created[0]))
        own = VoximplantAPI(credentials_file_path=str(new_credentials), endpoint=endpoint)
        step("GetKeys (with the new key)", lambda: own.get_keys())

        try:
            api.add_sub_user("smoke.user", "Str0ng-Pass!")
            sys.exit("a duplicate login was accepted")
        except VoximplantException as e:
            print(f"AddSubUser (duplicate): VoximplantException code={e.code} msg={e}")
            assert e.code == 436, e.code

        step("DeleteKey", lambda: api.delete_key(key_id))
        try:
            own.get_keys()
            sys.exit("a deleted key still works")
        except VoximplantException as e:
            print(f"GetKeys (deleted key): VoximplantException code={e.code}")
            assert e.code == 100, e.code
        step("DelSubUser", lambda: api.del_sub_user(subuser_id))
        authorized_ips(api)
        print("voximplant smoke test: OK")


if __name__ == "__main__":
    main()
