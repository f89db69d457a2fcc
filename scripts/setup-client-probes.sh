#!/usr/bin/env bash
# Install what the official-client probes need (atlas_suite/probes.py), idempotently:
#
#   clients/node  npm ci (package-lock.json decides every version); skipped when node_modules
#                 already matches the lock file.
#   clients/go    go build -o build/go-probe ./ with GOFLAGS=-mod=readonly (go.sum is honoured;
#                 Go's build cache makes a rebuild with no change near-instant).
#
# A missing toolchain is not an error: the script says so and exits 0, and the scenarios for
# that client skip with the reason (atlas_suite.probes.node_available / go_available).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

# -- Node: the npm `openai` package ------------------------------------------------------------
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    cd "$ROOT/clients/node"
    stamp=node_modules/.atlas-probe-lock.sha256
    want=$(sha256sum < package-lock.json | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f node_modules/openai/package.json ]; then
        echo "client probes: clients/node is up to date (openai $(node -p "require('./node_modules/openai/package.json').version"))"
    else
        t=$(now)
        npm ci --no-audit --no-fund --loglevel=error
        echo "$want" > "$stamp"
        echo "client probes: npm ci in clients/node took $(took "$t") (openai $(node -p "require('./node_modules/openai/package.json').version"), node $(node --version))"
    fi
else
    echo "client probes: node/npm is not installed; the OpenAI Node.js client scenarios will skip"
fi

# -- Go: github.com/openai/openai-go ----------------------------------------------------------
if command -v go >/dev/null 2>&1; then
    cd "$ROOT/clients/go"
    t=$(now)
    GOFLAGS=-mod=readonly go build -o build/go-probe ./
    echo "client probes: go build in clients/go took $(took "$t") ($(go version | cut -d' ' -f3), $(grep -m1 'openai/openai-go' go.mod | xargs))"
else
    echo "client probes: go is not installed; the OpenAI Go client scenarios will skip"
fi
