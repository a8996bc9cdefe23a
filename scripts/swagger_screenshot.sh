#!/usr/bin/env bash
# Loads Swagger UI in headless Chromium against a fresh local server (no network needed: the
# UI's assets are compiled into the binary) and saves a full-page screenshot.
#
#   cargo build --release
#   scripts/swagger_screenshot.sh [out.png]      # default docs/swagger-ui.png
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/docs/swagger-ui.png}"
chromium="$(command -v chromium || command -v chromium-browser || command -v google-chrome)"
tmp="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
TESSERA__DATA_DIR="$tmp/data" TESSERA__SERVER__BIND="127.0.0.1:$port" TESSERA__LOG__LEVEL=warn \
  "$root/target/release/tessera" &
server=$!
trap 'kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.2
done
"$chromium" --headless=new --no-sandbox --disable-gpu --disable-background-networking \
  --disable-dev-shm-usage --hide-scrollbars --window-size=1280,5250 --virtual-time-budget=15000 \
  --screenshot="$out" "http://127.0.0.1:$port/docs/" 2>/dev/null
echo "saved $out"
