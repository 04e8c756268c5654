#!/usr/bin/env bash
# Integration test of `kpi demo`: seeds fresh databases and checks the promises of its help text:
# ~40 KPIs across the seven teams, deterministic data for a seed and a --today, a refusal to touch
# a database that already has KPIs, the history length, dims, and a stale KPI.
# Usage: test_demo.sh [path/to/kpi]   (or KPI_BIN=...). Prints "ok - ..." / "not ok - ..." per
# check and ends with "N passed, M failed"; exits non-zero when a check failed.
set -euo pipefail

source "$(dirname "$0")/lib.sh" "$@"

# Runs a command and prints its exit code (never fails itself, whatever `set -e` says).
status() {
    local rc=0
    "$@" >/dev/null 2>&1 || rc=$?
    echo "$rc"
}
# Sum of the "value" fields of `kpi series --json` output on stdin.
sum_values() {
    awk -F': ' '/"value":/ { gsub(/,/, "", $2); if ($2 != "null") s += $2 } END { printf "%.0f\n", s }'
}

TODAY=2026-11-23

# 1. A fresh database is created and seeded.
out=$("$KPI" demo --db a.db --today "$TODAY" 2>&1) && rc=0 || rc=$?
check "demo on a fresh database exits 0" [ "$rc" -eq 0 ]
check "demo prints a summary" grep -q '^Seeded Acme Analytics: [0-9]* KPIs in 7 teams, .* points from 2023-12-01 to 2026-11-23' <<<"$out"

# 2. The catalog: at least 35 KPIs covering the seven teams.
"$KPI" list --db a.db --json >list.json
n_kpis=$(grep -c '"key":' list.json || true)
check "kpi list has at least 35 KPIs ($n_kpis)" [ "$n_kpis" -ge 35 ]
teams=$(grep -o '"team": "[a-z_]*"' list.json | sort -u | sed 's/.*: "//; s/"//' | tr '\n' ' ')
for team in sales marketing finance saas customer_success hr operations; do
    check "team $team has KPIs" grep -qw "$team" <<<"$teams"
done
check "the organisation is Acme Analytics in Europe/Berlin" \
    bash -c '"$1" org --db a.db --json | grep -q "\"Acme Analytics\"" && "$1" org --db a.db --json | grep -q "Europe/Berlin"' _ "$KPI"
check "there is exactly one north-star KPI" [ "$(grep -c '"tier": "north_star"' list.json)" -eq 1 ]
check "some KPIs have direction down and range" bash -c 'grep -q "\"direction\": \"down\"" list.json && grep -q "\"direction\": \"range\"" list.json'
check "the derived SaaS ratios are defined" grep -q '"formula": "(prev(mrr) + expansion_mrr - churned_mrr) / prev(mrr) \* 100"' list.json
"$KPI" series nrr --db a.db --from 2026-10 --to 2026-10 --json >nrr.json
check "a derived KPI has values" grep -q '"value": [0-9]' nrr.json
"$KPI" status --db a.db --as-of 2026-11-23 --json >status.json
check "the scorecard judges KPIs against the demo targets" grep -q '"status": "on_track"' status.json
check "some demo KPIs are behind" grep -q '"status": "off_track"' status.json

# 3. Deterministic: same seed and --today give byte-identical points; another seed differs.
"$KPI" demo --db b.db --today "$TODAY" >/dev/null
"$KPI" demo --db c.db --today "$TODAY" --seed 7 >/dev/null
"$KPI" export --db a.db >a.csv
"$KPI" export --db b.db >b.csv
"$KPI" export --db c.db >c.csv
check "same seed gives byte-identical export" cmp -s a.csv b.csv
check "another seed gives different data" bash -c '! cmp -s a.csv c.csv'
points=$(($(wc -l <a.csv) - 1))
check "between 50,000 and 150,000 points ($points)" [ "$points" -ge 50000 -a "$points" -le 150000 ]

# 4. Never pollutes real data: a database with KPIs is refused and left unchanged.
check "re-running on a filled database exits 1" [ "$(status "$KPI" demo --db a.db --today "$TODAY")" -eq 1 ]
"$KPI" export --db a.db >a2.csv
check "the refused run changed nothing" cmp -s a.csv a2.csv
"$KPI" init --db own.db >/dev/null
"$KPI" add --db own.db my_kpi --name "My KPI" >/dev/null
check "a database with one real KPI is refused" [ "$(status "$KPI" demo --db own.db)" -eq 1 ]
check "the message says why" bash -c '"$1" demo --db own.db 2>&1 | grep -q "already has 1 KPI"' _ "$KPI"

# 5. History: 3 years = 36 months, and --years is honoured.
"$KPI" series --db a.db revenue --granularity month --json >rev.json
rows=$(grep -c '"period":' rev.json)
check "revenue has 36 monthly rows for 3 years ($rows)" [ "$rows" -eq 36 ]
"$KPI" demo --db one.db --years 1 --today "$TODAY" >/dev/null
rows=$("$KPI" series --db one.db mrr --granularity month --json | grep -c '"period":')
check "--years 1 gives 12 monthly rows ($rows)" [ "$rows" -eq 12 ]

# 6. Dims: a region is a part of the whole.
all=$(sum_values <rev.json)
eu=$("$KPI" series --db a.db revenue --granularity month --dim region=eu --json | sum_values)
check "revenue for region=eu ($eu) is smaller than for all regions ($all)" [ "$eu" -gt 0 -a "$eu" -lt "$all" ]
paid=$("$KPI" series --db a.db signups --granularity month --dim channel=paid --json | sum_values)
check "signups by channel=paid are a part of all signups ($paid)" [ "$paid" -gt 0 ]

# 7. MRR moves by exactly new + expansion - churned MRR in a month.
mrr_sep=$("$KPI" series --db a.db mrr --from 2026-09 --to 2026-09 --json | sum_values)
mrr_oct=$("$KPI" series --db a.db mrr --from 2026-10 --to 2026-10 --json | sum_values)
new=$("$KPI" series --db a.db new_mrr --from 2026-10 --to 2026-10 --json | sum_values)
exp=$("$KPI" series --db a.db expansion_mrr --from 2026-10 --to 2026-10 --json | sum_values)
churn=$("$KPI" series --db a.db churned_mrr --from 2026-10 --to 2026-10 --json | sum_values)
check "MRR change in October = new + expansion - churned" [ $((mrr_oct - mrr_sep)) -eq $((new + exp - churn)) ]

# 8. One stale KPI: no data in the last complete month (2026-10 for --today 2026-11-23).
stale_rows=$("$KPI" export --db a.db --kpi feature_adoption --from 2026-10 --to 2026-11 | wc -l)
check "feature_adoption has no data in the last complete month" [ "$stale_rows" -eq 1 ]

# 9. Options and output.
check "--years 0 is a usage error" [ "$(status "$KPI" demo --db bad.db --years 0)" -eq 2 ]
check "--years 11 is a usage error" [ "$(status "$KPI" demo --db bad.db --years 11)" -eq 2 ]
check "a bad --today is a usage error" [ "$(status "$KPI" demo --db bad.db --today 2026-13-01)" -eq 2 ]
check "a usage error creates no database" [ ! -e bad.db ]
"$KPI" demo --db j.db --today "$TODAY" --json >summary.json
check "--json prints the summary" grep -q '"points": [0-9]' summary.json
check "--json lists the targets" grep -q '"kpi": "arr", "baseline": ' summary.json
if command -v jq >/dev/null 2>&1; then
    check "--json output is valid JSON" bash -c 'jq -e ".kpis >= 35 and .teams == 7" summary.json >/dev/null'
fi
check "the default --today works" [ "$(status "$KPI" demo --db now.db)" -eq 0 ]

finish
