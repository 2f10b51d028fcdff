#!/usr/bin/env bash
# Headless Chromium for the page's browser test (tests/page/test_browser.py): Debian's
# `chromium` and `chromium-driver`, installed when /usr/bin/chromium is missing.
# Idempotent: does nothing when Chromium is there. Needs root (or passwordless sudo).
# The test drives it with Playwright for Python (a pinned pip package) through
# executable_path=/usr/bin/chromium; nothing downloads a browser of its own.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo -n)
else
    echo "ensure_chromium: /usr/bin/chromium is missing and this user cannot install it;" >&2
    echo "  run as root: apt-get install chromium chromium-driver fonts-dejavu-core" >&2
    exit 1
fi

echo "ensure_chromium: installing chromium and chromium-driver (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq -o Dpkg::Use-Pty=0 chromium chromium-driver fonts-dejavu-core >/dev/null
test -x /usr/bin/chromium
/usr/bin/chromium --version >&2 || true
