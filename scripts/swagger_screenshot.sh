#!/usr/bin/env bash
# Loads Swagger UI in headless Chromium against a fresh local server (no network needed: the
# UI's assets are compiled into the binary) and saves a full-page screenshot.
#
#   cargo build --release
#   scripts/swagger_screenshot.sh [out.png]      # default docs/swagger-ui.png
set -euo pipefail
out="${1:-$(cd "$(dirname "$0")/.." && pwd)/docs/swagger-ui.png}"
chromium="$(command -v chromium || command -v chromium-browser || command -v google-chrome)"
# shellcheck source=scripts/local_server.sh
source "$(dirname "$0")/local_server.sh"
"$chromium" --headless=new --no-sandbox --disable-gpu --disable-background-networking \
  --disable-dev-shm-usage --hide-scrollbars --window-size=1280,5250 --virtual-time-budget=15000 \
  --screenshot="$out" "$base/docs/" 2>/dev/null
echo "saved $out"
