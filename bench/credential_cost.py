#!/usr/bin/env python3
"""Drives one server with each credential kind on a cache hit (see bench/credential_cost.sh).

    credential_cost.py BASE CREDENTIALS_JSON [--callgrind PID OUT_DIR] [--requests N]
    credential_cost.py BASE CREDENTIALS_JSON --print-tokens

Creates a Developer user (id 2) to read, opens a session for the owner and signs a service-key
JWT, then for each kind (access key, session, service-key JWT) warms the principal cache and
sends N requests of GET /v1/accounts/1/users/2 one after another on one keep-alive connection.
With --callgrind, callgrind's counters are zeroed before and dumped after each kind's N
requests (`callgrind_control`), so each dump holds exactly N cache-hit requests of one kind.
Prints the tokens' kinds and, per kind, the wall time of the N requests.
"""
import argparse
import base64
import http.client
import json
import subprocess
import sys
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def service_jwt(key: dict) -> str:
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "kid": key["key_id"]}
    claims = {"iss": str(key["account_id"]), "iat": now, "exp": now + 3600}
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    private = serialization.load_pem_private_key(key["private_key"].encode(), password=None)
    sig = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64(sig)


def request(conn, method, path, token=None, body=None):
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body)
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, data


def callgrind(*args):
    subprocess.run(["callgrind_control", *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("credentials")
    ap.add_argument("--callgrind", nargs=2, metavar=("PID", "OUT_DIR"))
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--path", default="/v1/accounts/1/users/2")
    ap.add_argument("--print-tokens", action="store_true",
                    help="set up, print `kind token` lines (for wrk) and stop")
    args = ap.parse_args()

    creds = json.load(open(args.credentials))
    url = urllib.parse.urlsplit(args.base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
    access = creds["access_key"]["token"]
    status, _ = request(conn, "POST", "/v1/accounts/1/users", access, {
        "login": "loadtest", "password": "Str0ng-Pass!", "email": "load@example.com",
        "role": "Developer"})
    if status not in (200, 201, 409):
        sys.exit(f"creating the user to read: {status}")
    status, data = request(conn, "POST", "/v1/sessions", None, {
        "account_id": creds["account_id"], "login": creds["owner"]["login"],
        "password": creds["owner"]["password"]})
    if status != 200:
        sys.exit(f"opening a session: {status} {data[:200]!r}")
    session = json.loads(data)["result"]["token"]
    kinds = {
        "access_key": access,
        "session": session,
        "service_key_jwt": service_jwt(creds["service_key"]),
    }
    if args.print_tokens:
        for kind, token in kinds.items():
            print(kind, token)
        return
    for kind, token in kinds.items():
        for _ in range(20):
            status, data = request(conn, "GET", args.path, token)
            if status != 200:
                sys.exit(f"{kind}: {status} {data[:200]!r}")
        # Let the maintenance task write the warm-up's last use before the measured requests.
        time.sleep(1.5)
        if args.callgrind:
            callgrind("--zero", args.callgrind[0])
        start = time.perf_counter()
        for _ in range(args.requests):
            status, _ = request(conn, "GET", args.path, token)
            assert status == 200, (kind, status)
        elapsed = time.perf_counter() - start
        if args.callgrind:
            callgrind(f"--dump={kind}", args.callgrind[0])
        print(f"{kind:16} token {len(token):4} bytes  {args.requests} requests in {elapsed:.2f} s",
              flush=True)


if __name__ == "__main__":
    main()
