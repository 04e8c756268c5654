#!/usr/bin/env bash
# Integration test of definitions as code (`kpi apply`, `kpi dump`): create from a file, re-apply
# (no changes), a dry run of an edit (diff shown, nothing written), the edit itself, dump -> apply
# as a no-op, bad files (file:line:col, exit 1, nothing written even when the bad KPI is the last
# one), parents listed after their children, standard input, --json, the limits, and targets (a
# file without `targets` keeps the stored ones, `targets: []` removes them, dump -> apply no-op).
# Usage: test_apply.sh [path/to/kpi]   (or KPI_BIN=...). Prints "ok - ..." / "not ok - ..." per
# check and ends with "N passed, M failed"; exits non-zero when a check failed.
set -euo pipefail

source "$(dirname "$0")/lib.sh" "$@"
work=$WORK
export KPI_DB="$WORK/kpi.db"

snapshot() { # the full definitions, archived included
    "$KPI" dump --all
}

capture "$KPI" init
check "init exits 0" [ "$rc" -eq 0 ]

# 1. Create from a file. churn_rate names mrr as its parent before mrr is listed.
cat >kpis.yaml <<'EOF'
# Finance KPIs
kpis:
  - key: churn_rate
    name: Churn rate
    unit: '%'
    format: percent
    decimals: 1
    direction: down
    parent: mrr
    weight: 0.5
  - key: mrr
    name: Monthly recurring revenue
    unit: EUR
    format: currency
    aggregation: last
    tier: north_star
    owner: ana@example.com
    team: finance
    tags: [saas, revenue]
  - key: nps
    name: Net promoter score
    description: |
      Promoters minus detractors,
      over all responses.
    direction: up
    granularity: quarter
EOF
capture "$KPI" apply kpis.yaml
check "apply creates: exit 0" [ "$rc" -eq 0 ]
check "apply prints '+ mrr (created)'" has "$out" "+ mrr (created)"
check "apply prints the summary" has "$out" "3 created, 0 updated, 0 unchanged"
check "the parent is created before its child" [ "$(grep -n '^+ mrr' <<<"$out" | cut -d: -f1)" -lt "$(grep -n '^+ churn_rate' <<<"$out" | cut -d: -f1)" ]
capture "$KPI" show churn_rate
check "the child has its parent" grep -qE '^ +parent +mrr$' <<<"$out"
created_before=$("$KPI" show mrr --json | grep '"created_at"')

# 2. Applying the same file again changes nothing.
before=$(snapshot)
capture "$KPI" apply kpis.yaml
check "re-apply exits 0" [ "$rc" -eq 0 ]
check "re-apply prints 'no changes'" has "$out" "no changes"
check "re-apply writes nothing" [ "$(snapshot)" = "$before" ]

# 3. An edit, dry run first: the diff is shown, nothing is written.
sed -i "s/unit: '%'/unit: pct/; s/direction: down/direction: down\n    tier: strategic/" kpis.yaml
capture "$KPI" apply --dry-run kpis.yaml
check "dry run exits 0" [ "$rc" -eq 0 ]
check "dry run shows the diff" has "$out" "~ churn_rate: unit '%' -> 'pct', tier operational -> strategic"
check "dry run says nothing was written" has "$out" "nothing written"
check "dry run writes nothing" [ "$(snapshot)" = "$before" ]

# 4. The edit itself.
capture "$KPI" apply kpis.yaml
check "apply of the edit exits 0" [ "$rc" -eq 0 ]
check "apply of the edit shows the diff" has "$out" "~ churn_rate: unit '%' -> 'pct', tier operational -> strategic"
check "apply of the edit prints the summary" has "$out" "0 created, 1 updated, 2 unchanged"
capture "$KPI" show churn_rate
check "the update is stored" grep -qE '^ +unit +pct$' <<<"$out"
capture "$KPI" apply kpis.yaml
check "applying the edited file again: no changes" has "$out" "no changes"

# 5. An update keeps the creation time.
sed -i 's/team: finance/team: revenue_ops/' kpis.yaml
capture "$KPI" apply kpis.yaml
check "update of mrr exits 0" [ "$rc" -eq 0 ]
check "an update keeps created_at" [ "$("$KPI" show mrr --json | grep '"created_at"')" = "$created_before" ]

# 6. dump -> apply is a no-op, also on a fresh database.
"$KPI" dump >dump.yaml
capture "$KPI" apply dump.yaml
check "dump -> apply: no changes" has "$out" "no changes (3 unchanged)"
capture "$KPI" --db fresh.db init
capture "$KPI" --db fresh.db apply dump.yaml
check "dump applied to a fresh database creates everything" has "$out" "3 created, 0 updated, 0 unchanged"
check "the fresh database dumps the same YAML" [ "$("$KPI" --db fresh.db dump)" = "$(cat dump.yaml)" ]
capture "$KPI" dump --output out.yaml
check "dump --output writes the file" cmp -s out.yaml dump.yaml

# 7. A bad value in the 3rd of 3 new KPIs: file:line:col, exit 1, nothing written.
before=$(snapshot)
cat >bad.yaml <<'EOF'
kpis:
  - key: leads
    name: Leads
  - key: mql
    name: Marketing-qualified leads
  - key: sql
    name: Sales-qualified leads
    granularity: fortnight
EOF
capture "$KPI" apply bad.yaml
check "bad value: exit 1" [ "$rc" -eq 1 ]
check "bad value: error with file:line:col" has "$err" "bad.yaml:8:5: granularity: unknown value 'fortnight' (expected day, week, month, quarter or year)"
check "bad value: nothing written" [ "$(snapshot)" = "$before" ]

# 8. A KPI the store refuses (unknown parent) as the 3rd of 3: the transaction rolls back.
sed -i 's/    granularity: fortnight/    parent: nowhere/' bad.yaml
capture "$KPI" apply bad.yaml
check "unknown parent: exit 1" [ "$rc" -eq 1 ]
check "unknown parent: error names the KPI" has "$err" "bad.yaml: sql: parent: no KPI with key 'nowhere'"
check "unknown parent: the first two are rolled back" [ "$(snapshot)" = "$before" ]
capture "$KPI" apply --dry-run bad.yaml
check "unknown parent: a dry run reports it too" [ "$rc" -eq 1 ]

# 9. Syntax and schema errors.
printf 'kpis:\n  - key: a\n    name: A\n    name: B\n' >dup.yaml
capture "$KPI" apply dup.yaml
check "duplicate field: exit 1" [ "$rc" -eq 1 ]
check "duplicate field: message with its position" has "$err" "dup.yaml:4:5: duplicate field 'name' (first at 3:5)"
printf 'kpis:\n  - &x {key: a, name: A}\n  - *x\n' >alias.yaml
capture "$KPI" apply alias.yaml
check "anchors are refused" has "$err" "alias.yaml:2:5: anchors (&x) are not allowed"
printf 'kpis:\n  - key: a\n    name: "unterminated\n' >syntax.yaml
capture "$KPI" apply syntax.yaml
check "a YAML syntax error gives its position" has "$err" "syntax.yaml:4:1: invalid YAML:"
check "bad files wrote nothing" [ "$(snapshot)" = "$before" ]

# 10. A cascade listed bottom-up: grandchild, child, parent, all new.
cat >cascade.yaml <<'EOF'
kpis:
  - {key: win_rate, name: Win rate, parent: pipeline}
  - {key: pipeline, name: Pipeline, parent: bookings}
  - {key: bookings, name: Bookings}
EOF
capture "$KPI" apply cascade.yaml
check "cascade listed bottom-up: exit 0" [ "$rc" -eq 0 ]
check "cascade: created top-down" [ "$(grep -o '^+ [a-z_]*' <<<"$out" | tr '\n' ' ')" = "+ bookings + pipeline + win_rate " ]

# 11. Standard input and --json.
capture bash -c "sed 's/name: Bookings/name: Bookings (EUR)/' cascade.yaml | '$KPI' apply --json -"
check "apply - reads standard input" [ "$rc" -eq 0 ]
check "--json lists the update" has "$out" '{"action": "update", "key": "bookings", "fields": [{"field": "name", "old": "Bookings", "new": "Bookings (EUR)"}]}'
check "--json has the counts" has "$out" '"updated": 1,'

# 12. Archived KPIs: dump leaves them out unless --all; naming one in a file updates it.
capture "$KPI" archive win_rate
check "dump leaves archived KPIs out" bash -c "! '$KPI' dump | grep -q 'key: win_rate'"
check "dump --all includes them" bash -c "'$KPI' dump --all | grep -q 'archived: true'"
capture "$KPI" apply cascade.yaml
check "a file naming an archived KPI restores it" has "$out" "~ win_rate: archived true -> false"

# 13. Usage errors and limits.
capture "$KPI" apply
check "apply without a file: exit 2" [ "$rc" -eq 2 ]
capture "$KPI" apply missing.yaml
check "missing file: exit 1" [ "$rc" -eq 1 ]
head -c $((16 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >big.yaml
capture "$KPI" apply big.yaml
check "a file over 16 MiB is refused" has "$err" "big.yaml: the file is larger than 16 MiB"

# 14. Targets. A file that does not mention targets leaves the stored ones alone.
cat >targets.yaml <<'EOF'
kpis:
  - key: arr
    name: Annual recurring revenue
  - key: inventory_days
    name: Inventory days
    direction: range
EOF
capture "$KPI" apply targets.yaml
check "targets: KPIs created" has "$out" "2 created, 0 updated, 0 unchanged"
capture "$KPI" target set arr --baseline 100000 --baseline-date 2026-01-01 --value 150000 --date 2026-12-31
check "targets: target set exits 0" [ "$rc" -eq 0 ]
capture "$KPI" apply targets.yaml
check "a file without targets: no changes" has "$out" "no changes (2 unchanged)"
capture "$KPI" target list arr --json
check "a file without targets keeps the stored target" has "$out" '"value": 150000'
sed -i 's/    name: Annual recurring revenue/    name: ARR/' targets.yaml
capture "$KPI" apply targets.yaml
check "an edit without targets shows no target change" [ "$(head -1 <<<"$out")" = "~ arr: name 'Annual recurring revenue' -> 'ARR'" ]
check "an edit without targets keeps the target" has "$("$KPI" target list arr --json)" '"value": 150000'

# Targets given in the file are stored (direction may follow them); the diff shows them.
cat >targets.yaml <<'EOF'
kpis:
  - key: arr
    name: ARR
    targets:
      - {baseline: 100000, baseline_date: 2026-01-01, value: 160000, date: 2026-12-31, at_risk_pct: 5}
      - {baseline: 160000, baseline_date: 2027-01-01, value: 200000, date: 2027-12-31}
  - key: inventory_days
    name: Inventory days
    targets:
      - {baseline: 40, baseline_date: 2026-01-01, low: 30, high: 45, date: 2026-12-31}
    direction: range
EOF
capture "$KPI" apply --dry-run targets.yaml
check "targets: dry run shows the change" has "$out" "~ arr: targets [2026-12-31: 150000 from 100000 on 2026-01-01] -> [2026-12-31: 160000 from 100000 on 2026-01-01 at risk 5%, 2027-12-31: 200000 from 160000 on 2027-01-01]"
check "targets: dry run writes nothing" has "$("$KPI" target list arr --json)" '"value": 150000'
capture "$KPI" apply --json targets.yaml
check "targets: apply exits 0" [ "$rc" -eq 0 ]
check "targets: --json gives target objects" has "$out" '{"action": "update", "key": "inventory_days", "fields": [{"field": "targets", "old": [], "new": [{"baseline":40,"baseline_date":"2026-01-01","low":30,"high":45,"date":"2026-12-31","at_risk_pct":10}]}]}'
capture "$KPI" target list arr --json
check "targets: both targets stored" [ "$(grep -c '"date"' <<<"$out")" -eq 2 ]
check "targets: the new value is stored" has "$out" '"value": 160000'
check "targets: at_risk_pct is stored" has "$out" '"at_risk_pct": 5'
capture "$KPI" target list inventory_days --json
check "targets: the range target is stored" has "$out" '"high": 45'
capture "$KPI" apply targets.yaml
check "targets: re-apply is a no-op" has "$out" "no changes (2 unchanged)"

# dump -> apply with targets is a no-op, also with a range target set with an unused --value.
capture "$KPI" target set inventory_days --baseline 40 --baseline-date 2027-01-01 --low 30 --high 40 --value 7 --date 2027-12-31
"$KPI" dump >dump_targets.yaml
check "dump writes the targets" grep -qF -- "- {baseline: 40, baseline_date: 2027-01-01, low: 30, high: 40, date: 2027-12-31}" dump_targets.yaml
check "dump writes at_risk_pct when not the default" grep -qF -- "- {baseline: 100000, baseline_date: 2026-01-01, value: 160000, date: 2026-12-31, at_risk_pct: 5}" dump_targets.yaml
before=$(snapshot)
capture "$KPI" apply dump_targets.yaml
check "dump -> apply with targets: no changes" has "$out" "no changes"
check "dump -> apply with targets: nothing written" [ "$(snapshot)" = "$before" ]
capture "$KPI" --db fresh_targets.db init
capture "$KPI" --db fresh_targets.db apply dump_targets.yaml
check "dump with targets applied to a fresh database" [ "$rc" -eq 0 ]
check "the fresh database dumps the same targets" [ "$("$KPI" --db fresh_targets.db dump)" = "$(cat dump_targets.yaml)" ]

# A bad target: file:line:col, nothing written.
cat >bad_target.yaml <<'EOF'
kpis:
  - key: arr
    name: ARR
    targets:
      - {baseline: 100000, baseline_date: 2026-01-01, value: 1, date: 2026-12-31}
      - {baseline: 1, baseline_date: 2027-06-01, value: 2, date: 2027-01-01}
EOF
capture "$KPI" apply bad_target.yaml
check "bad target: exit 1" [ "$rc" -eq 1 ]
check "bad target: error with file:line:col" has "$err" "bad_target.yaml:6:9: targets[1]: date: must be after baseline_date (2027-06-01)"
sed -i 's/value: 2, date/low: 2, date/' bad_target.yaml
capture "$KPI" apply bad_target.yaml
check "low on an up KPI is refused" has "$err" "bad_target.yaml:6:50: targets[1]: low: only for a range KPI (direction: range); give value"
check "bad targets wrote nothing" [ "$(snapshot)" = "$before" ]

# `targets: []` removes them.
cat >targets.yaml <<'EOF'
kpis:
  - key: arr
    name: ARR
    targets: []
EOF
capture "$KPI" apply targets.yaml
check "targets: [] shows the removal" has "$out" "~ arr: targets [2026-12-31: 160000 from 100000 on 2026-01-01 at risk 5%, 2027-12-31: 200000 from 160000 on 2027-01-01] -> []"
capture "$KPI" target list arr --json
check "targets: [] removes the stored targets" [ "$out" = "[]" ]
check "targets: [] leaves other KPIs' targets" has "$("$KPI" target list inventory_days --json)" '"high": 45'

finish
