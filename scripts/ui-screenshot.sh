#!/bin/sh
# SPDX-License-Identifier: MIT
# ui-screenshot.sh - runs the browser test against a built flowscope and refreshes the README's
# screenshot tests/ui/screenshots/main.png (the other views go to $UI_SCREENSHOT_DIR or
# tests/ui/screenshots/out). Needs chromium (apt-get install chromium) and, once,
# `npm install` in tests/ui.
#   scripts/ui-screenshot.sh [path/to/flowscope]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-${FLOWSCOPE_BIN:-$root/build/proxy/flowscope}}
[ -x "$bin" ] || { echo "no flowscope binary at $bin (build first, or pass its path)" >&2; exit 1; }
[ -d "$root/tests/ui/node_modules/playwright-core" ] || (cd "$root/tests/ui" && npm install --no-audit --no-fund)
FLOWSCOPE_BIN=$bin FLOWSCOPE_UPDATE_SCREENSHOT=1 node --test "$root/tests/ui/browser.test.mjs"
echo "updated $root/tests/ui/screenshots/main.png"
