#!/usr/bin/env python3
"""Revocation across instances: how long after instance A answers a key's deletion does
instance B refuse the key? Each trial creates an access key through A, uses it on B until B has
it cached, deletes it through A, then asks B as fast as one connection can until B answers 401.
Prints p50/p90/p99/max over the trials (milliseconds from A's answer to B's first 401).

    bench/revocation.py A_BASE B_BASE CREDENTIALS_JSON [TRIALS]

Started by bench/revocation.sh, which runs two instances on one database."""

import http.client
import json
import random
import statistics
import sys
import time
from urllib.parse import urlparse


class Client:
    def __init__(self, base):
        u = urlparse(base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)

    def call(self, method, path, token, body=None):
        headers = {"Authorization": f"Bearer {token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        res = self.conn.getresponse()
        payload = res.read()
        return res.status, payload


def main():
    a_base, b_base, creds_path = sys.argv[1:4]
    trials = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    creds = json.load(open(creds_path))
    owner = creds["access_key"]["token"]
    account = creds["account_id"]
    user = creds["owner"]["user_id"]
    a, b = Client(a_base), Client(b_base)
    read = f"/v1/accounts/{account}/users/{user}"
    latencies = []
    polls = []
    for _ in range(trials):
        status, body = a.call("POST", f"/v1/accounts/{account}/users/{user}/access_keys", owner,
                              {"name": "revocation bench"})
        assert status == 200, (status, body)
        made = json.loads(body)["result"]
        token = made["token"]
        # Cached on B (the first use verifies and caches; the next ones are cache hits).
        for _ in range(3):
            status, body = b.call("GET", read, token)
            assert status == 200, (status, body)
        # A random moment: trials must not fall into step with B's poll.
        time.sleep(random.uniform(0, 0.3))
        status, body = a.call("DELETE", f"/v1/accounts/{account}/users/{user}/access_keys/{made['id']}", owner)
        assert status == 200, (status, body)
        deleted = time.perf_counter()
        n = 0
        while True:
            status, _ = b.call("GET", read, token)
            n += 1
            if status == 401:
                break
            assert status == 200, status
            if time.perf_counter() - deleted > 5:
                sys.exit("B still accepts a key deleted 5 s ago")
        latencies.append((time.perf_counter() - deleted) * 1000)
        polls.append(n)
    latencies.sort()
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    print(json.dumps({
        "trials": trials,
        "p50_ms": round(q[49], 2),
        "p90_ms": round(q[89], 2),
        "p99_ms": round(q[98], 2),
        "max_ms": round(latencies[-1], 2),
        "min_ms": round(latencies[0], 2),
        "requests_to_b_per_trial_median": statistics.median(polls),
    }))


if __name__ == "__main__":
    main()
