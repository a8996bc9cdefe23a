"""Starts a throwaway Tessera for the scripts in this folder: a fresh SQLite database in a
temporary directory, a random port, stopped when the `with` block ends.

    with local_server(binary) as server:
        server.base              # http://127.0.0.1:PORT (https://localhost:PORT with tls=)
        server.data_dir          # where the bootstrap wrote its credentials
"""

import contextlib
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Where `cargo build --release` put the binary (CARGO_TARGET_DIR is honoured, as cargo does).
DEFAULT_BINARY = str(Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "tessera")


@dataclass
class Server:
    base: str
    data_dir: Path
    tmp: Path

    def credentials(self, name):
        """A JSON file the bootstrap wrote into the data directory, parsed."""
        return json.loads((self.data_dir / name).read_text())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base, process=None, cafile=None):
    """Polls `{base}/readyz` for up to 30 s; exits if the process dies or never gets ready."""
    context = ssl.create_default_context(cafile=str(cafile)) if cafile else None
    for _ in range(150):
        if process is not None and process.poll() is not None:
            sys.exit(f"tessera exited early with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=1, context=context) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    sys.exit("tessera did not become ready")


@contextlib.contextmanager
def local_server(binary=DEFAULT_BINARY, env=None, tls=None):
    """Runs `binary` with its data in a temporary directory. `env` adds settings
    (`TESSERA__…`); `tls(tmp) -> (cert, key)` makes it serve HTTPS on `localhost`."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        port = free_port()
        settings = dict(os.environ,
                        TESSERA__DATA_DIR=str(tmp / "data"),
                        TESSERA__SERVER__BIND=f"127.0.0.1:{port}",
                        TESSERA__LOG__LEVEL="warn")
        settings.update(env or {})
        cert = None
        if tls is not None:
            cert, key = tls(tmp)
            settings.update(TESSERA__TLS__CERT=str(cert), TESSERA__TLS__KEY=str(key))
            base = f"https://localhost:{port}"
        else:
            base = f"http://127.0.0.1:{port}"
        process = subprocess.Popen([binary], cwd=tmp, env=settings)
        try:
            wait_ready(base, process, cafile=cert)
            yield Server(base=base, data_dir=tmp / "data", tmp=tmp)
        finally:
            process.terminate()
            process.wait(timeout=10)
