#!/usr/bin/env python3
"""The client side of bench/scale_out.sh: every request goes through the balancer.

    scale_out.py checks --base URL --creds FILE --rounds N --upstreams HOST:PORT...
        the cross-instance checks; writes their rows (JSON) to stdout, exits 1 when one fails
    scale_out.py load --base URL --token T --rate R --stop FILE --out FILE
        authenticated GETs at R a second until FILE exists (at most 600 s); writes the counts
    scale_out.py report --checks FILE --load FILE --upstreams HOST:PORT...
        the table; exits 1 when a check failed or the load saw an error

The balancer names the instance that answered in `X-Upstream` (the bench's nginx adds it).
Standard library only.
"""

import argparse
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
from collections import Counter

ACCOUNT = 1
PASSWORD = "Str0ng-Pass!"


class Balancer:
    def __init__(self, base):
        url = urllib.parse.urlsplit(base)
        self.host, self.port = url.hostname, url.port
        self.upstreams = []

    def call(self, method, path, token=None, body=None, source="127.0.0.1", headers=None):
        """One request on a new connection from `source`: (status, parsed JSON or None, upstream)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30,
                                          source_address=(source, 0))
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body)
            h["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=h)
            res = conn.getresponse()
            raw = res.read()
            upstream = res.getheader("X-Upstream", "?")
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            return res.status, parsed, upstream
        finally:
            conn.close()

    def ok(self, method, path, token, body=None):
        """A request that must succeed: its `result`."""
        status, parsed, _ = self.call(method, path, token, body)
        if status // 100 != 2:
            sys.exit(f"{method} {path}: {status} {parsed}")
        return parsed["result"] if parsed else None


class Tally:
    """Expected answers against what came, by instance."""

    def __init__(self, name):
        self.name = name
        self.total = 0
        self.violations = []
        self.by_upstream = Counter()

    def expect(self, what, got, upstream, expected):
        self.total += 1
        self.by_upstream[upstream] += 1
        if got not in expected:
            self.violations.append(f"{what}: {got} from {upstream}, expected {'/'.join(map(str, expected))}")

    def row(self, upstreams, extra=""):
        reached = sorted(set(self.by_upstream) & set(upstreams))
        missing = sorted(set(upstreams) - set(self.by_upstream))
        ok = not self.violations and not missing and self.total > 0
        result = f"{len(self.violations)} violations in {self.total} requests"
        if missing:
            result += f"; never answered by {', '.join(missing)}"
        return {"check": self.name, "result": result + extra, "ok": ok,
                "instances": len(reached), "violations": self.violations[:10]}


def new_user(lb, owner, login, role):
    user = lb.ok("POST", f"/v1/accounts/{ACCOUNT}/users", owner,
                 {"login": login, "password": PASSWORD, "role": role})
    return user["id"]


def new_key(lb, owner, user_id):
    return lb.ok("POST", f"/v1/accounts/{ACCOUNT}/users/{user_id}/access_keys", owner,
                 {"name": "scale-out"})


def check_client_address(lb, owner, user_id, n):
    """A key that admits only 127.0.0.1: from there it works; from 127.0.0.2 claiming
    127.0.0.1 in its own X-Forwarded-For it is refused, on every instance."""
    t = Tally("client address from the balancer's X-Forwarded-For")
    key = new_key(lb, owner, user_id)
    keys = f"/v1/accounts/{ACCOUNT}/users/{user_id}/access_keys/{key['id']}"
    lb.ok("PATCH", keys, owner, {"allowed_ips": ["127.0.0.1/32"]})
    path = f"/v1/accounts/{ACCOUNT}/users/{user_id}"
    for _ in range(2 * n):
        status, _, up = lb.call("GET", path, key["token"])
        t.expect("from 127.0.0.1", status, up, [200])
        status, _, up = lb.call("GET", path, key["token"], source="127.0.0.2",
                                headers={"X-Forwarded-For": "127.0.0.1"})
        t.expect("from 127.0.0.2 claiming 127.0.0.1", status, up, [403])
    lb.ok("DELETE", keys, owner)
    return t


# The bound within which every instance must follow a change made through another: cached
# principals of an account are evicted when a change there is pushed (Postgres NOTIFY) or read
# from the authorization versions (every 250 ms), and never trusted once the versions were last
# read more than a second ago (docs/authorization.md).
BOUND_S = 1.0


class Convergence:
    """After a change through the balancer: whether the very next request (whichever instance
    answered it) already saw it, how long each instance served the old answer, and violations:
    an old answer later than BOUND_S after the change, an instance that went back to the old
    answer, or one that never saw the change within 2 * BOUND_S."""

    def __init__(self, name):
        self.name = name
        self.changes = 0
        self.next_stale = 0
        self.requests = 0
        self.stale_s = []
        self.violations = []
        self.by_upstream = Counter()

    def follow(self, what, request, expected, n):
        """Sends `request()` (-> status, upstream) until every one of the n instances has given
        the `expected` status twice, right after a change."""
        self.changes += 1
        changed = time.monotonic()
        seen = Counter()
        first = True
        while len(seen) < n or min(seen.values()) < 2:
            status, up = request()
            t = time.monotonic() - changed
            self.requests += 1
            self.by_upstream[up] += 1
            if status == expected:
                seen[up] += 1
            else:
                if first:
                    self.next_stale += 1
                if seen[up]:
                    self.violations.append(f"{what}: {up} answered {status} again {t * 1000:.0f} ms after the change")
                elif t > BOUND_S:
                    self.violations.append(f"{what}: {status} from {up} {t * 1000:.0f} ms after the change")
                self.stale_s.append(t)
            first = False
            if t > 2 * BOUND_S:
                self.violations.append(f"{what}: not every instance answers {expected} after {t:.1f} s")
                return

    def rows(self, upstreams):
        missing = sorted(set(upstreams) - set(self.by_upstream))
        stale = sorted(self.stale_s)
        longest = f"{1000 * stale[-1]:.0f} ms" if stale else "none"
        result = (f"{len(self.violations)} violations in {self.changes} changes ({self.requests} requests); "
                  f"old answers until at most {longest} after the change")
        if missing:
            result += f"; never answered by {', '.join(missing)}"
        within = {"check": f"{self.name}: every instance within {BOUND_S:.0f} s", "result": result,
                  "ok": not self.violations and not missing and self.changes > 0,
                  "instances": len(set(upstreams) & set(self.by_upstream)),
                  "violations": self.violations[:10]}
        strict = {"check": f"{self.name}: the very next request", "ok": None,
                  "result": f"{self.next_stale} of {self.changes} answered by an instance that had not "
                            f"seen the change yet (allowed within {BOUND_S:.0f} s)",
                  "instances": len(set(upstreams) & set(self.by_upstream)), "violations": []}
        return [strict, within]


def check_revocations(lb, owner, user_id, rounds, n):
    """Each round: a new key used on every instance, then deleted (even rounds) or deactivated
    (odd ones) through the balancer; then every instance must refuse it (401)."""
    created = Tally("new key: accepted by every instance at once")
    revoked = Convergence("revoked key is 401")
    path = f"/v1/accounts/{ACCOUNT}/users/{user_id}"
    for r in range(rounds):
        key = new_key(lb, owner, user_id)
        keys = f"/v1/accounts/{ACCOUNT}/users/{user_id}/access_keys/{key['id']}"
        for _ in range(n):
            status, _, up = lb.call("GET", path, key["token"])
            created.expect(f"round {r}: new key", status, up, [200])
        if r % 2 == 0:
            what = "deleted"
            lb.ok("DELETE", keys, owner)
        else:
            what = "deactivated"
            lb.ok("PATCH", keys, owner, {"status": "inactive"})
        revoked.follow(f"round {r}: {what} key", lambda: get(lb, path, key["token"]), 401, n)
        if what == "deactivated":
            lb.ok("DELETE", keys, owner)
    return [created.row(lb.upstreams)] + revoked.rows(lb.upstreams)


def get(lb, path, token):
    status, _, up = lb.call("GET", path, token)
    return status, up


def check_roles(lb, owner, user_id, rounds, n):
    """Each round: the user's key lists users (Admin) until every instance answers 200, its role
    is narrowed to Accountant (no User Management) through the balancer, until every instance
    answers 403; then widened back."""
    narrowed = Convergence("narrowed role is 403")
    widened = Convergence("widened role is 200")
    key = new_key(lb, owner, user_id)
    user = f"/v1/accounts/{ACCOUNT}/users/{user_id}"
    path = f"/v1/accounts/{ACCOUNT}/users"
    for _ in range(n):
        get(lb, path, key["token"])
    for r in range(rounds):
        lb.ok("PATCH", user, owner, {"roles": ["Accountant"]})
        narrowed.follow(f"round {r}: Admin to Accountant", lambda: get(lb, path, key["token"]), 403, n)
        lb.ok("PATCH", user, owner, {"roles": ["Admin"]})
        widened.follow(f"round {r}: Accountant to Admin", lambda: get(lb, path, key["token"]), 200, n)
    lb.ok("DELETE", f"{user}/access_keys/{key['id']}", owner)
    return narrowed.rows(lb.upstreams) + widened.rows(lb.upstreams)


def check_lockout(lb, owner, n):
    """Five wrong passwords through the balancer lock the login (the fifth still 401); the
    right one is then 429 from every instance; the owner clears the lockout through the
    balancer and the right password works on every instance."""
    login = "lockout.probe"
    user_id = new_user(lb, owner, login, "Developer")
    wrong = Tally("lockout: 5 wrong passwords, then the right one is 429")
    for i in range(5):
        status, _, up = lb.call("POST", "/v1/sessions",
                                body={"account_id": ACCOUNT, "login": login, "password": f"Wr0ng-Pass{i}!"})
        wrong.expect(f"wrong password {i + 1}", status, up, [401])
    for i in range(n):
        status, _, up = lb.call("POST", "/v1/sessions",
                                body={"account_id": ACCOUNT, "login": login, "password": PASSWORD})
        wrong.expect(f"right password {i + 1} while locked", status, up, [429])
    unlocked = Tally("lockout: cleared through the balancer, then 200")
    status, _, up = lb.call("DELETE", f"/v1/accounts/{ACCOUNT}/users/{user_id}/lockout", owner)
    unlocked.expect("DELETE …/lockout", status, up, [200])
    for i in range(n):
        status, _, up = lb.call("POST", "/v1/sessions",
                                body={"account_id": ACCOUNT, "login": login, "password": PASSWORD})
        unlocked.expect(f"right password {i + 1} after the unlock", status, up, [200])
    return [wrong, unlocked]


def checks(args):
    lb = Balancer(args.base)
    creds = json.load(open(args.creds))
    owner = creds["access_key"]["token"]
    n = len(args.upstreams)
    lb.upstreams = args.upstreams
    admin = new_user(lb, owner, "scale.admin", "Admin")
    member = new_user(lb, owner, "scale.member", "Developer")
    rows = [check_client_address(lb, owner, member, n).row(args.upstreams)]
    rows += check_revocations(lb, owner, member, args.rounds, n)
    rows += check_roles(lb, owner, admin, args.rounds, n)
    rows += [t.row(args.upstreams) for t in check_lockout(lb, owner, n)]
    json.dump(rows, sys.stdout)
    return 0 if all(r["ok"] is not False for r in rows) else 1


def load(args):
    """`--rate` GETs a second of the owner's user through the balancer, from 8 threads, each
    on a keep-alive connection (a new one after an error), paced to a fixed schedule."""
    lb = Balancer(args.base)
    path = f"/v1/accounts/{ACCOUNT}/users/1"
    threads = 8
    interval = threads / args.rate
    lock = threading.Lock()
    statuses, upstreams, errors, latencies = Counter(), Counter(), Counter(), []
    failures = []
    start = time.monotonic()
    deadline = start + 600

    def worker(offset):
        conn = None
        k = 0
        while not os.path.exists(args.stop) and time.monotonic() < deadline:
            due = start + offset + k * interval
            k += 1
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            t0 = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(lb.host, lb.port, timeout=30)
                conn.request("GET", path, headers={"Authorization": f"Bearer {args.token}"})
                res = conn.getresponse()
                res.read()
                elapsed = time.monotonic() - t0
                with lock:
                    statuses[res.status] += 1
                    upstreams[res.getheader("X-Upstream", "?")] += 1
                    latencies.append(elapsed)
                    if res.status // 100 != 2:
                        failures.append(f"{t0 - start:.2f}s: {res.status} from {res.getheader('X-Upstream')}")
            except (OSError, http.client.HTTPException) as e:
                with lock:
                    errors[type(e).__name__] += 1
                    failures.append(f"{t0 - start:.2f}s: {type(e).__name__}: {e}")
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    pool = [threading.Thread(target=worker, args=(i * interval / threads,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    latencies.sort()
    out = {
        "seconds": time.monotonic() - start,
        "statuses": {str(k): v for k, v in statuses.items()},
        "upstreams": dict(upstreams),
        "errors": dict(errors),
        "failures": failures[:20],
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else None,
        "max_ms": 1000 * latencies[-1] if latencies else None,
    }
    json.dump(out, open(args.out, "w"))
    return 0


def report(args):
    rows = json.load(open(args.checks)) if os.path.getsize(args.checks) else []
    if not rows:
        rows = [{"check": "cross-instance checks", "result": "did not finish", "ok": False,
                 "instances": 0, "violations": []}]
    lo = json.load(open(args.load))
    requests = sum(lo["statuses"].values())
    non2xx = sum(v for k, v in lo["statuses"].items() if not k.startswith("2"))
    socket_errors = sum(lo["errors"].values())
    missing = sorted(set(args.upstreams) - set(lo["upstreams"]))
    rows.append({
        "check": "rolling restart under load: non-2xx + socket errors",
        "result": f"{non2xx} non-2xx, {socket_errors} socket errors in {requests} requests "
                  f"({requests / lo['seconds']:.0f}/s over {lo['seconds']:.0f} s; p50 {lo['p50_ms']:.1f} ms, "
                  f"p99 {lo['p99_ms']:.1f} ms, max {lo['max_ms']:.0f} ms)",
        "ok": non2xx == 0 and socket_errors == 0 and requests > 0 and not missing,
        "instances": len(set(args.upstreams) & set(lo["upstreams"])),
        "violations": lo["failures"],
    })
    width = max(len(r["check"]) for r in rows)
    print(f"{'check':<{width}}  {'':4}  instances  result")
    for r in rows:
        verdict = {True: "ok", False: "FAIL", None: "info"}[r["ok"]]
        print(f"{r['check']:<{width}}  {verdict:4}  {r['instances']:>9}  {r['result']}")
    per = ", ".join(f"{u} {lo['upstreams'].get(u, 0)}" for u in args.upstreams)
    print(f"\nrequests per instance during the rolling restart: {per}")
    for r in rows:
        if r["ok"] is False and r["violations"]:
            print(f"\n{r['check']}, first violations:")
            for v in r["violations"]:
                print(f"  {v}")
    return 0 if all(r["ok"] is not False for r in rows) else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("checks")
    c.add_argument("--base", required=True)
    c.add_argument("--creds", required=True)
    c.add_argument("--rounds", type=int, default=50)
    c.add_argument("--upstreams", nargs="+", required=True)
    lo = sub.add_parser("load")
    lo.add_argument("--base", required=True)
    lo.add_argument("--token", required=True)
    lo.add_argument("--rate", type=float, default=200)
    lo.add_argument("--stop", required=True)
    lo.add_argument("--out", required=True)
    r = sub.add_parser("report")
    r.add_argument("--checks", required=True)
    r.add_argument("--load", required=True)
    r.add_argument("--upstreams", nargs="+", required=True)
    args = p.parse_args()
    return {"checks": checks, "load": load, "report": report}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
