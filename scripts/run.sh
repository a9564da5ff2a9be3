#!/usr/bin/env bash
# run.sh [flowscope options] - installs what is missing, builds, and starts flowscope with its
# defaults (proxy on 127.0.0.1:8080, UI on 127.0.0.1:8081).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh run
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target flowscope
exec ./build/proxy/flowscope "$@"
