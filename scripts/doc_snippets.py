#!/usr/bin/env python3
"""Runs every code snippet of README.md and docs/*.md exactly as written, in document order.

    python3 scripts/doc_snippets.py            # what .ci/run does
    python3 scripts/doc_snippets.py --list     # what would run, and what is skipped and why

Each fenced snippet must be preceded by a marker comment saying what to do with it:

    <!-- snippet: run -->                 run it (sh: bash -e; python: the venv's python); it must exit 0
    <!-- snippet: server URL -->          start it in the background (it runs a server) and wait
                                          until URL answers 200; it runs until the end, or until
                                          another server snippet names the same host and port
    <!-- snippet: config -->              a TOML configuration file: `tessera migrate` must accept it
                                          (written as config/snippet.toml, TESSERA_ENV=snippet)
    <!-- snippet: nginx -->               an nginx `server`/`upstream` excerpt: `nginx -t` must accept it
    <!-- snippet: skip REASON -->         not run here; REASON says who runs it (CI itself, a
                                          benchmark, a container engine) and is printed

A snippet without a marker fails the run, so a new example cannot go untested.

The snippets run in a scratch copy of the repository's tracked files (so `data/` starts empty),
sharing the repository's `target/` (so `cargo run --release` reuses its build), with a virtual
environment (`target/doc-venv`) holding the pinned official clients of scripts/requirements.txt
first on PATH: a snippet's own `pip install cloudflare` finds it installed.
"""

import argparse
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"^<!--\s*snippet:\s*(\S+)\s*(.*?)\s*-->$")
FENCE = re.compile(r"^```(\S*)\s*$")
RUNNABLE = {"sh", "python", "toml", "nginx"}


@dataclass
class Snippet:
    file: str
    line: int
    lang: str
    code: str
    kind: str
    arg: str

    def where(self):
        return f"{self.file}:{self.line}"


def collect():
    """Every fenced snippet of README.md and docs/*.md, with its marker."""
    files = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
    snippets, problems = [], []
    for path in files:
        lines = path.read_text().splitlines()
        i = 0
        while i < len(lines):
            fence = FENCE.match(lines[i])
            if not fence:
                i += 1
                continue
            start, lang = i, fence.group(1)
            end = start + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            code = "\n".join(lines[start + 1:end]) + "\n"
            prev = start - 1
            while prev >= 0 and not lines[prev].strip():
                prev -= 1
            marker = MARKER.match(lines[prev].strip()) if prev >= 0 else None
            rel = str(path.relative_to(ROOT))
            if marker:
                snippets.append(Snippet(rel, start + 1, lang, code, marker.group(1), marker.group(2)))
            elif lang in RUNNABLE:
                problems.append(f"{rel}:{start + 1}: a ```{lang} snippet without a "
                                "<!-- snippet: … --> marker")
            i = end + 1
    for s in snippets:
        if s.kind not in {"run", "server", "config", "nginx", "skip"}:
            problems.append(f"{s.where()}: unknown marker kind {s.kind!r}")
        elif s.kind in {"run", "server"} and s.lang not in {"sh", "python"}:
            problems.append(f"{s.where()}: only sh and python snippets can be run")
        elif s.kind == "server" and not s.arg.startswith(("http://", "https://")):
            problems.append(f"{s.where()}: a server marker names the URL to wait for")
        elif s.kind == "skip" and not s.arg:
            problems.append(f"{s.where()}: a skip marker says why")
    return snippets, problems


def venv(env):
    """The virtual environment with the pinned clients; its bin directory goes first on PATH."""
    home = ROOT / "target" / "doc-venv"
    requirements = ROOT / "scripts" / "requirements.txt"
    stamp = home / ".requirements"
    if not stamp.exists() or stamp.read_text() != requirements.read_text():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(home)], check=True)
        subprocess.run([str(home / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                        "-r", str(requirements)], check=True)
        stamp.write_text(requirements.read_text())
    env["VIRTUAL_ENV"] = str(home)
    env["PATH"] = f"{home / 'bin'}:{env['PATH']}"
    return home / "bin" / "python"


def scratch_copy(into):
    """The repository's tracked files, as they are in the working tree."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                           capture_output=True).stdout.split(b"\0")
    for name in filter(None, files):
        src = ROOT / name.decode()
        if src.is_file():
            dst = into / name.decode()
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


def wait_ready(url, proc, timeout):
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"exited with {proc.returncode} before {url} answered"
        try:
            with urllib.request.urlopen(url, timeout=2, context=insecure) as r:
                if r.status == 200:
                    return None
        except OSError:
            pass
        time.sleep(0.5)
    return f"{url} did not answer 200 within {timeout} s"


def stop(proc):
    if proc and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def command(snippet, python):
    if snippet.lang == "python":
        return [str(python), "-c", snippet.code]
    return ["bash", "-e", "-o", "pipefail", "-c", snippet.code]


def check_config(snippet, work, env):
    (work / "config").mkdir(exist_ok=True)
    (work / "config" / "snippet.toml").write_text(snippet.code)
    binary = Path(env["CARGO_TARGET_DIR"]) / "release" / "tessera"
    if not binary.exists():
        return f"{binary} is not built (a cargo build --release snippet runs before this one)"
    env = dict(env, TESSERA_ENV="snippet", TESSERA__DATA_DIR=str(work / "config-check"))
    done = subprocess.run([str(binary), "migrate"], cwd=work, env=env, capture_output=True,
                          text=True)
    (work / "config" / "snippet.toml").unlink()
    return None if done.returncode == 0 else done.stderr.strip()


def check_nginx(snippet, work):
    conf = work / "nginx-snippet.conf"
    conf.write_text(f"pid {work}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
                    f"http {{\naccess_log off;\n{snippet.code}}}\n")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    done = subprocess.run([nginx, "-t", "-q", "-p", str(work), "-c", str(conf)],
                          capture_output=True, text=True)
    return None if done.returncode == 0 else done.stderr.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="list the snippets and exit")
    args = parser.parse_args()

    snippets, problems = collect()
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    if args.list:
        for s in snippets:
            print(f"{s.where():32} {s.kind:7} {s.arg}")
        return 0

    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", str(ROOT / "target"))
    python = venv(env)
    failures, servers = [], {}
    with tempfile.TemporaryDirectory(prefix="tessera-snippets-") as tmp:
        work = Path(tmp)
        scratch_copy(work)
        try:
            for s in snippets:
                if s.kind == "skip":
                    print(f"skip    {s.where()}: {s.arg}")
                    continue
                print(f"{s.kind:7} {s.where()}", flush=True)
                if s.kind == "server":
                    where = urllib.parse.urlsplit(s.arg).netloc
                    stop(servers.pop(where, None))
                    servers[where] = subprocess.Popen(command(s, python), cwd=work, env=env,
                                                      start_new_session=True)
                    problem = wait_ready(s.arg, servers[where], timeout=1200)
                elif s.kind == "config":
                    problem = check_config(s, work, env)
                elif s.kind == "nginx":
                    problem = check_nginx(s, work)
                else:
                    done = subprocess.run(command(s, python), cwd=work, env=env, timeout=1800)
                    problem = None if done.returncode == 0 else f"exit code {done.returncode}"
                if problem:
                    print(f"FAIL    {s.where()}: {problem}", file=sys.stderr)
                    failures.append(s.where())
        finally:
            for server in servers.values():
                stop(server)
    ran = sum(1 for s in snippets if s.kind != "skip")
    print(f"{ran} snippets run, {len(snippets) - ran} skipped, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
