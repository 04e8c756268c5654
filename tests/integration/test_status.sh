#!/usr/bin/env bash
# End-to-end tests of judging KPIs from the command line: targets, the status of one KPI and of
# the scorecard to the decimal (with pacing and as-of), derived KPIs, the cascade and its health,
# reviews with action items, and annotations.
# usage: tests/integration/test_status.sh PATH_TO_KPI
set -uo pipefail
source "$(dirname "$0")/lib.sh" "$@"

# json_field JSON NAME: the raw value of the first "NAME": in pretty-printed JSON.
json_field() {
    printf '%s\n' "$1" | sed -n "s/^ *\"$2\": \(.*\)$/\1/p" | head -1 | sed 's/,$//'
}

"$KPI" init >/dev/null
"$KPI" add sales --name "Sales" --unit EUR --format currency --aggregation sum --tier strategic --team growth >/dev/null
"$KPI" add churn --name "Churn" --format percent --decimals 1 --direction down --aggregation avg --parent sales \
    --weight 2 --team growth >/dev/null
"$KPI" add inventory --name "Inventory days" --direction range --aggregation last --team ops >/dev/null

# --- targets
expect_rc 0 "target set" target set sales --baseline 100 --baseline-date 2026-01-01 --value 200 --date 2026-12-31
expect_rc 1 "target date before baseline" target set sales --baseline 1 --baseline-date 2026-06-01 --value 2 --date 2026-05-01
contains "$ERR" "date: must be after baseline_date (2026-06-01)" "the date error names the field"
expect_rc 2 "a range KPI needs low and high" target set inventory --baseline 40 --baseline-date 2026-01-01 --value 3 --date 2026-12-31
expect_rc 1 "low above high" target set inventory --baseline 40 --baseline-date 2026-01-01 --low 50 --high 30 --date 2026-12-31
contains "$ERR" "low: must not be greater than high" "the range error names the field"
expect_rc 0 "range target" target set inventory --baseline 40 --baseline-date 2026-01-01 --low 30 --high 45 --date 2026-12-31
expect_rc 0 "down target" target set churn --baseline 5 --baseline-date 2026-01-01 --value 3 --date 2026-12-31 --at-risk-pct 20
run target list sales --json
contains "$OUT" '"baseline_date": "2026-01-01"' "target list --json"
expect_rc 0 "a second target of the same KPI" target set sales --baseline 200 --baseline-date 2027-01-01 --value 300 --date 2027-12-31
run show sales --json
equals "$(printf '%s' "$OUT" | grep -c '"baseline":')" 2 "successive targets are kept"
expect_rc 0 "target rm" target rm sales --date 2027-12-31
expect_rc 1 "target rm of a missing date" target rm sales --date 2030-01-01

# --- status to the decimal
# Sales (sum): March 2026 = 150. Expected at te = 2026-03-31: 100 + 100 * 89/364.
"$KPI" push sales 100 --at 2026-02-10 >/dev/null
"$KPI" push sales 150 --at 2026-03-15 >/dev/null
expect_rc 0 "status --json exits 0" status sales --as-of 2026-04-05 --json
equals "$(json_field "$OUT" period)" '"2026-03"' "judged period: the latest with data (April has none yet)"
equals "$(json_field "$OUT" value)" 150 "value of the judged period"
near "$(json_field "$OUT" expected)" 124.45054945054945 "expected = b + (T - b) * (te - t0) / (t1 - t0)"
equals "$(json_field "$OUT" status)" '"on_track"' "up: v >= e is on track"
equals "$(json_field "$OUT" progress)" 50 "progress = (v - b) / (T - b) * 100"
equals "$(json_field "$OUT" change_abs)" 50 "change against the previous period"
equals "$(json_field "$OUT" change_pct)" 50 "change in percent"
equals "$(json_field "$OUT" stale)" false "March is the last complete period and has data"
equals "$(json_field "$OUT" paced)" false "a complete period is not paced"
# Pacing: on 2026-04-10 April (30 days) has 10 elapsed days; e(April) = 100 + 100 * 119/364.
"$KPI" push sales 40 --at 2026-04-08 >/dev/null
run status sales --as-of 2026-04-10 --json
equals "$(json_field "$OUT" period)" '"2026-04"' "the current period is judged once it has data"
equals "$(json_field "$OUT" paced)" true "sum KPI: the unfinished period is paced"
near "$(json_field "$OUT" expected)" 44.230769230769231 "paced expected = e * 10 / 30"
equals "$(json_field "$OUT" status)" '"at_risk"' "40 is within tol (10) below 44.23"
run status sales --as-of 2026-03-31 --json
equals "$(json_field "$OUT" value)" 150 "as-of hides later points"
run status sales --as-of 2025-12-31 --json
equals "$(json_field "$OUT" status)" '"no_data"' "no data as of a day before the first point"
# Down KPI with at_risk_pct 20: tol = 0.2 * |3 - 5| = 0.4.
"$KPI" push churn 4.8 --at 2026-02-27 >/dev/null
"$KPI" push churn 4.7 --at 2026-03-30 >/dev/null
run status churn --as-of 2026-04-02 --json
near "$(json_field "$OUT" expected)" 4.510989010989011 "down: expected falls from 5 towards 3"
equals "$(json_field "$OUT" status)" '"at_risk"' "down: v <= e + tol is at risk"
equals "$(json_field "$OUT" improving)" true "down: a decrease is an improvement"
"$KPI" push inventory 46 --at 2026-03-31 >/dev/null
run status inventory --as-of 2026-04-02 --json
equals "$(json_field "$OUT" status)" '"at_risk"' "range: 46 is within 10% of (45 - 30) = 1.5 above high"
equals "$(json_field "$OUT" target)" null "range: no single target value"
equals "$(json_field "$OUT" high)" 45 "range: high is given"

# --- scorecard, filters, tree
run status --as-of 2026-04-10 --no-color
contains "$OUT" "Scorecard as of 2026-04-10" "scorecard header"
contains "$OUT" "at risk" "scorecard shows statuses"
run status --as-of 2026-04-10 --team ops --json
contains "$OUT" '"kpi": "inventory"' "--team keeps the team's KPIs"
if printf '%s' "$OUT" | grep -q '"kpi": "sales"'; then not_ok "--team drops other teams"; else ok "--team drops other teams"; fi
run status --as-of 2026-04-10 --status at_risk --json
equals "$(printf '%s' "$OUT" | grep -c '"status": "at_risk"')" 3 "--status filters"
contains "$OUT" '"teams": [' "scorecard JSON has team health"
run tree --as-of 2026-04-02 --no-color
contains "$OUT" "└ churn" "tree shows children under parents"
# sales is on track (100) with weight 1, churn at risk (50) with weight 2: (100 + 2 * 50) / 3.
run status sales --as-of 2026-04-02 --json
near "$(json_field "$OUT" health)" 66.666666666666667 "parent health is the weighted mean with its children"
expect_rc 2 "status with a bad --status" status --status great
expect_rc 1 "status of an unknown KPI" status nothing

# --- derived KPIs
"$KPI" add cost --name Cost --aggregation sum >/dev/null
"$KPI" push cost 50 --at 2026-02-11 >/dev/null
"$KPI" push cost 0 --at 2026-03-11 >/dev/null
expect_rc 0 "a derived KPI" add margin --name Margin --formula "(sales - cost) / sales * 100" --format percent
expect_rc 1 "a formula with an unknown KPI" add bad --name Bad --formula "sales / revenu"
contains "$ERR" "formula: column 9: unknown KPI 'revenu'" "the unknown KPI is named with its column"
expect_rc 1 "a formula that does not parse" add bad --name Bad --formula "sales * (cost"
contains "$ERR" "formula: column" "the parse error has a column"
expect_rc 0 "a second derived KPI" add ratio --name Ratio --formula "sales / cost"
expect_rc 1 "a cycle is refused" edit cost --formula "ratio * 2"
contains "$ERR" "cycle" "the cycle is named"
run series margin --json --to 2026-03-31
contains "$OUT" '"value": 50' "February margin: (100 - 50) / 100 * 100"
contains "$OUT" '"value": 100' "March margin: (150 - 0) / 150 * 100"
run series ratio --json --to 2026-03-31
contains "$OUT" 'division by zero' "a division by zero gives no value with its reason"
expect_rc 1 "a derived KPI takes no points" push margin 3

# --- reviews, actions, annotations
expect_rc 0 "review with actions" review add sales --date 2026-04-01 --note "Pipeline thin" \
    --action "Call 10 prospects" --owner ana --due 2026-04-15 --action "Fix lead form" --owner bob
run status sales --as-of 2026-04-05 --json
equals "$(json_field "$OUT" due_for_review)" false "reviewed within its monthly cadence"
run status sales --as-of 2026-05-02 --json
equals "$(json_field "$OUT" due_for_review)" true "due a month after the last review"
run actions --owner ana --json
contains "$OUT" '"text": "Call 10 prospects"' "actions --owner"
id=$(printf '%s' "$OUT" | sed -n 's/^ *"id": \([0-9]*\),$/\1/p' | head -1)
expect_rc 0 "action done" action done "$id"
run actions --open --json
if printf '%s' "$OUT" | grep -q 'Call 10 prospects'; then not_ok "done actions leave --open"; else ok "done actions leave --open"; fi
expect_rc 1 "action done of an unknown id" action done 999
expect_rc 0 "action reopen" action reopen "$id"
run actions --open --json
contains "$OUT" '"text": "Call 10 prospects"' "a reopened action is open again"
expect_rc 1 "action reopen of an unknown id" action reopen 999
expect_rc 2 "action with an unknown verb" action finish "$id"
expect_rc 0 "annotate a KPI" annotate sales --at 2026-03-01 "Price increase"
expect_rc 0 "annotate every KPI" annotate --at 2026-03-20 "Easter campaign"
run annotations sales --json
equals "$(printf '%s' "$OUT" | grep -c '"text":')" 2 "a KPI's annotations include the org-wide ones"

finish
