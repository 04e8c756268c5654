#!/usr/bin/env bash
# Runs the Node tests of the HTTP API (tests/api/*.test.mjs) with node:test. KPI_BIN, the kpi binary
# whose `serve` the tests start, defaults to build/src/cli/kpi when that exists; set KPI_BIN= (empty)
# to check only the OpenAPI document against src/api/routes.c. Installs the npm packages of
# package-lock.json first when node_modules is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -d node_modules ]; then
    npm ci --no-audit --no-fund
fi

if [ -z "${KPI_BIN+set}" ] && [ -x build/src/cli/kpi ]; then
    KPI_BIN="$PWD/build/src/cli/kpi"
fi
if [ -n "${KPI_BIN:-}" ]; then
    case "$KPI_BIN" in
    /*) ;;
    *) KPI_BIN="$PWD/$KPI_BIN" ;;
    esac
fi
export KPI_BIN="${KPI_BIN:-}"

exec node --test tests/api/
