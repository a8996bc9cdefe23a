"""SSO sign-ins against a running Tessera and the local IdP (tests/idp), timed per step.

Each sign-in is a new browser (its own cookie jars, so the IdP shows its login form every time,
as for a person signing in for the first time that day), driven the way tests/src/idp/browser.rs
drives it:
  1. GET  <tessera>/v1/sso/login?email=…   302 to the IdP, binding cookie set
  2. the IdP: its redirects, the login form (GET then POST), until the redirect back to Tessera
  3. GET  <tessera>/v1/sso/callback/<id>?code=…&state=…&iss=…   200 with the session token
Step 3 is Tessera's code exchange at the IdP's token endpoint, the ID token's verification
and the session's creation.

  python3 bench/sso_signin.py BASE EMAIL LOGIN PASSWORD N CONCURRENCY

Prints, as JSON on stdout: the first sign-in's timings (cold: discovery and JWKS fetched),
then for the others the p50/p95/max of each step (ms), and the wall time and sign-ins/s.
Standard library only; HTTP/1.1 without keep-alive (urllib), one connection per request.
"""

import collections
import html
import http.cookiejar
import json
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are answered to the caller, never followed."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Answer:
    """A status, its headers and its body."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body


class Browser:
    """A cookie jar (for Tessera's binding cookie and the IdP's cookies), no redirects."""

    def __init__(self):
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect
        )

    def request(self, url, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(urllib.request.Request(url, data=data), timeout=30) as res:
                return Answer(res.status, res.headers, res.read())
        except urllib.error.HTTPError as e:
            return Answer(e.code, e.headers, e.read())


FORM = re.compile(r'<form[^>]* action="([^"]*)"(.*?)</form>', re.S)
INPUT = re.compile(r"<input([^>]*)>")
ATTR = r' {}="([^"]*)"'


def parse_form(body):
    """The action and named inputs of the IdP page's form (tests/idp/lib/interactions.mjs)."""
    m = FORM.search(body)
    if not m:
        return None
    fields = []
    for tag in INPUT.findall(m.group(2)):
        name = re.search(ATTR.format("name"), tag)
        value = re.search(ATTR.format("value"), tag)
        if name:
            fields.append((html.unescape(name.group(1)), html.unescape(value.group(1)) if value else ""))
    return html.unescape(m.group(1)), fields


def at_idp(browser, url, login, password):
    """Follows the IdP's redirects and pages from `url`; the first URL leaving the IdP."""
    origin = urllib.parse.urlsplit(url)[:2]
    res = browser.request(url)
    for _ in range(20):
        if 300 <= res.status < 400:
            nxt = urllib.parse.urljoin(url, res.headers["Location"])
            if urllib.parse.urlsplit(nxt)[:2] != origin:
                return nxt
            url = nxt
            res = browser.request(url)
            continue
        form = parse_form(res.body.decode())
        if res.status != 200 or form is None:
            raise RuntimeError(f"IdP answered {res.status} at {url}: {res.body[:300]!r}")
        action, fields = form
        if any(n == "password" for n, _ in fields):
            fields = [(n, v) for n, v in fields if n not in ("login", "password")]
            fields += [("login", login), ("password", password)]
        url = urllib.parse.urljoin(url, action)
        res = browser.request(url, fields)
    raise RuntimeError("too many IdP pages")


def refusal(step, res):
    """`<step> <status> <Tessera's error code>`, e.g. `callback 502 5020`."""
    try:
        code = json.loads(res.body)["errors"][0]["code"]
    except (ValueError, KeyError, IndexError, TypeError):
        code = res.body[:200]
    return f"{step} {res.status} {code}"


def sign_in(base, email, login, password):
    """One whole sign-in in a new browser: seconds for (login, idp, callback, total)."""
    browser = Browser()
    t0 = time.perf_counter()
    res = browser.request(f"{base}/v1/sso/login?" + urllib.parse.urlencode({"email": email}))
    t1 = time.perf_counter()
    if res.status != 302:
        raise RuntimeError(refusal("/v1/sso/login", res))
    callback = at_idp(browser, res.headers["Location"], login, password)
    t2 = time.perf_counter()
    res = browser.request(callback)
    t3 = time.perf_counter()
    if res.status != 200 or not json.loads(res.body)["result"]["token"].startswith("tss_"):
        raise RuntimeError(refusal("callback", res))
    return t1 - t0, t2 - t1, t3 - t2, t3 - t0


def pct(values, p):
    """The p-th percentile (nearest rank), in ms."""
    s = sorted(values)
    return 1000 * s[max(0, min(len(s) - 1, -(-len(s) * p // 100) - 1))]


def summary(runs):
    names = ("login", "idp", "callback", "total")
    return {
        name: {"p50": pct(col, 50), "p95": pct(col, 95), "max": 1000 * max(col)}
        for name, col in zip(names, zip(*runs))
    }


def main():
    base, email, login, password = sys.argv[1:5]
    n, concurrency = int(sys.argv[5]), int(sys.argv[6])
    out = {"n": n, "concurrency": concurrency}
    if concurrency == 1:
        first = sign_in(base, email, login, password)
        out["first"] = dict(zip(("login", "idp", "callback", "total"), (1000 * t for t in first)))
        n -= 1
    runs, errors, lock = [], [], threading.Lock()
    todo = iter(range(n))

    def worker():
        while True:
            with lock:
                if next(todo, None) is None:
                    return
            try:
                r = sign_in(base, email, login, password)
            except Exception as e:  # noqa: BLE001 - reported, counted
                with lock:
                    errors.append(str(e))
                continue
            with lock:
                runs.append(r)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    out.update(summary(runs) if runs else {})
    out.update(ok=len(runs), errors=len(errors), refusals=dict(collections.Counter(errors)), wall_s=wall,
               per_s=len(runs) / wall)
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
