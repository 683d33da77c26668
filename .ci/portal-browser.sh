#!/usr/bin/env bash
# The web portal in a real Chromium (headless, driven by chromedp): the browser
# tests and the screenshots, with chromium's absence a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
/usr/bin/chromium --version || true
CSSM_PORTAL_BROWSER=required timeout 600 go test -count=1 -timeout 540s ./cssm/web -run 'Browser|Screenshots' -v
