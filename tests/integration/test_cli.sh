#!/usr/bin/env bash
# End-to-end tests of the kpi command line on real database files: help and exit codes, init and
# schema versions, KPI definitions, push, import (all or nothing), export round trips, series with
# the org calendar, and durability of acknowledged writes across kill -9.
# usage: tests/integration/test_cli.sh PATH_TO_KPI
set -uo pipefail
source "$(dirname "$0")/lib.sh" "$@"

# --- help and exit codes
expect_rc 0 "kpi --help exits 0" --help
overview=$OUT
for cmd in init org add edit show list archive push import export series apply dump demo help; do
    contains "$overview" "  $cmd " "--help lists $cmd"
    expect_rc 0 "kpi help $cmd exits 0" help "$cmd"
done
run help add
for field in name description unit format decimals direction aggregation granularity formula tier indicator owner team \
    parent weight review-cadence visibility tags; do
    contains "$OUT" "--$field" "help add documents --$field"
done
expect_rc 2 "unknown command is a usage error" frobnicate
contains "$ERR" "unknown command 'frobnicate'" "unknown command is named"
expect_rc 2 "unknown option is a usage error" list --colour
expect_rc 0 "kpi add --help exits 0" add --help
expect_rc 0 "--version" --version

# --- init and schema
expect_rc 1 "a command without a database fails" list
contains "$ERR" "run 'kpi init'" "the error says how to create the database"
expect_rc 1 "init refuses an unknown time zone" init --timezone Mars/Olympus
[ ! -e kpi.db ] && ok "no database is left behind by a failed init" || not_ok "failed init created kpi.db"
expect_rc 1 "init refuses fiscal month 13" init --fiscal-year-start 13
expect_rc 0 "init" init --timezone Europe/Berlin --name "Test Org"
expect_rc 0 "init again is harmless" init
run org --json
contains "$OUT" '"timezone": "Europe/Berlin"' "org keeps its time zone"
cp kpi.db newer.db
sqlite3 newer.db 'PRAGMA user_version = 99'
expect_rc 1 "a newer schema is refused" --db newer.db list
contains "$ERR" "schema version 99 is newer than this kpi binary supports" "newer schema message"
KPI_DB=kpi.db expect_rc 0 "KPI_DB selects the database" list

# --- definitions
expect_rc 0 "add a KPI" add revenue --name "Revenue" --unit EUR --format currency --team finance --owner ana@example.com
expect_rc 0 "add a child KPI" add new_revenue --name "New revenue" --parent revenue --tier strategic --tags "sales, growth"
expect_rc 0 "add a weekly KPI" add signups --name "Signups" --granularity week --team marketing
expect_rc 0 "add a derived KPI" add rev_per_signup --name "Revenue per signup" --formula "revenue / signups"
expect_rc 1 "duplicate key" add revenue --name "Again"
contains "$ERR" "key: a KPI with key 'revenue' already exists" "duplicate key message"
expect_rc 1 "bad key" add Revenue --name X
contains "$ERR" "key: 'Revenue' is not a valid key" "bad key message names the field"
expect_rc 1 "bad granularity" add x --name X --granularity fortnight
contains "$ERR" "granularity: unknown value 'fortnight' (expected day, week, month, quarter or year)" "bad granularity message"
expect_rc 1 "bad aggregation" add x --name X --aggregation median
contains "$ERR" "aggregation: unknown value 'median'" "bad aggregation message"
expect_rc 1 "bad format" add x --name X --format money
expect_rc 1 "missing name" add x
contains "$ERR" "name: is required" "missing name message"
expect_rc 1 "unknown parent" add x --name X --parent nothing
contains "$ERR" "parent: no KPI with key 'nothing'" "unknown parent message"
expect_rc 1 "a cascade loop is refused" edit revenue --parent new_revenue
contains "$ERR" "loop" "loop message"
expect_rc 2 "edit without a field" edit revenue
expect_rc 0 "edit a field" edit revenue --decimals 2 --description "Invoiced revenue"
expect_rc 0 "clear a field" edit revenue --owner ""
run show revenue --json
contains "$OUT" '"decimals": 2' "edit is stored"
contains "$OUT" '"owner": null' "an empty value clears the field"
contains "$OUT" '"description": "Invoiced revenue"' "description stored"
run show new_revenue --json
contains "$OUT" '"tags": [' "tags are a JSON array"
contains "$OUT" '"growth"' "tags are split on commas"
expect_rc 1 "show an unknown KPI" show nothing
run list --json
equals "$(printf '%s' "$OUT" | grep -c '"key":')" 4 "list --json has every KPI"
run list --team finance
contains "$OUT" "revenue" "list --team filters"
if printf '%s' "$OUT" | grep -q signups; then not_ok "list --team excludes other teams"; else ok "list --team excludes other teams"; fi
expect_rc 0 "archive" archive signups
run list
if printf '%s' "$OUT" | grep -q signups; then not_ok "archived KPIs are hidden"; else ok "archived KPIs are hidden"; fi
run list --all
contains "$OUT" "signups" "list --all shows archived KPIs"
expect_rc 1 "an archived KPI takes no points" push signups 1 --at 2026-01-05
expect_rc 0 "restore" archive signups --restore

# --- push
expect_rc 0 "push a date" push revenue 100 --at 2026-01-15
expect_rc 0 "push an instant with an offset" push revenue 50.5 --at 2026-01-20T10:00:00+01:00
expect_rc 0 "push a negative value" push revenue -20 --at 2026-02-03
expect_rc 0 "push with dims" push signups 3 --at 2026-01-05 --dim channel=paid --dim region=eu
expect_rc 0 "push again replaces" push revenue 120 --at 2026-01-15
run series revenue --json
contains "$OUT" '"value": 170.5' "January = 120 + 50.5 (the second push replaced the first 100)"
contains "$OUT" '"value": -20' "February holds the negative value"
expect_rc 1 "push to a derived KPI" push rev_per_signup 3
contains "$ERR" "derived" "derived push message"
expect_rc 1 "push an unknown KPI" push nothing 1
expect_rc 1 "push a non-number" push revenue 12,5
contains "$ERR" "value: '12,5' is not a finite number" "non-number message"
expect_rc 1 "push a bad date" push revenue 1 --at 2026-02-30
expect_rc 1 "an instant needs an offset" push revenue 1 --at 2026-02-03T10:00:00
expect_rc 2 "push without a value" push revenue
expect_rc 2 "push with a bad dim" push revenue 1 --dim region
run push signups 1 --json --at 2026-01-06
contains "$OUT" '"written": 1' "push --json"

# --- import
cat >good.csv <<'CSV'
kpi,at,value,channel,region
revenue,2026-03-01,10,,
revenue,2026-03-02,20,,
"signups",2026-03-02,5,"paid",eu
signups,2026-03-03T08:00:00Z,7,organic,
CSV
expect_rc 0 "import a CSV file" import good.csv
contains "$OUT" "imported 4 points" "import reports the count"
expect_rc 0 "import the same file again (idempotent)" import good.csv --json
contains "$OUT" '"written": 4' "import --json reports counts"
run show revenue --json
printf 'kpi,at,value\r\nrevenue,2026-03-04,1\r\n' | "$KPI" import - >/dev/null 2>&1 && ok "import from standard input with CRLF" || not_ok "import from stdin"
cat >bad.csv <<'CSV'
kpi,at,value
revenue,2026-04-01,1
revenu,2026-04-02,1
revenue,2026-04-31,1
revenue,2026-04-03,abc
rev_per_signup,2026-04-03,1
revenue,2026-04-04
revenue,2026-04-05,2
CSV
before=$("$KPI" export --kpi revenue | wc -l)
expect_rc 1 "a bad file is rejected" import bad.csv
contains "$ERR" "5 bad rows; nothing was written" "the rejection counts the bad rows"
contains "$ERR" "line 3: column 1 (kpi): KPI 'revenu' does not exist" "unknown KPI is listed with line and column"
contains "$ERR" "line 4: column 2 (at): '2026-04-31' is not a date" "bad date is listed"
contains "$ERR" "line 5: column 3 (value): 'abc' is not a number" "bad value is listed"
contains "$ERR" "line 6: column 1 (kpi): KPI 'rev_per_signup' is derived" "derived KPI is listed"
contains "$ERR" "line 7: expected 3 columns, found 2" "short row is listed"
after=$("$KPI" export --kpi revenue | wc -l)
equals "$after" "$before" "nothing of a rejected file is written"
{
    echo "kpi,at,value"
    for i in $(seq 1 120); do echo "nope,2026-01-01,$i"; done
} >many.csv
expect_rc 1 "a file with 120 bad rows" import many.csv
equals "$(printf '%s\n' "$ERR" | grep -c '^  line')" 50 "the first 50 bad rows are listed"
contains "$ERR" "... and 70 more" "the rest are counted"
printf 'kpi,at,value\nrevenue,2026-01-01,"1\n' >unterminated.csv
expect_rc 1 "an unterminated quote is rejected" import unterminated.csv
contains "$ERR" "line 2" "the unterminated quote names its line"
expect_rc 1 "a wrong header is rejected" import <(printf 'key,at,value\nrevenue,2026-01-01,1\n')
contains "$ERR" "header: expected 'kpi,at,value'" "wrong header message"
expect_rc 1 "a missing file" import nothere.csv
expect_rc 2 "import without a file" import

# --- export round trip
expect_rc 0 "export CSV" export --output all.csv
"$KPI" --db copy.db init --timezone Europe/Berlin >/dev/null
for k in revenue:"Revenue" new_revenue:"New revenue" signups:"Signups"; do
    "$KPI" --db copy.db add "${k%%:*}" --name "${k#*:}" >/dev/null
done
"$KPI" --db copy.db edit signups --granularity week >/dev/null
expect_rc 0 "the export imports into a fresh database" --db copy.db import all.csv
"$KPI" --db copy.db export --output copy.csv
if cmp -s all.csv copy.csv; then ok "CSV export round-trips byte for byte"; else not_ok "CSV round trip" "$(diff all.csv copy.csv | head)"; fi
run export --kpi signups --format json
contains "$OUT" '{"kpi":"signups","at":"2026-01-05","value":3,"dims":{"channel":"paid","region":"eu"}}' "JSON export keeps dims and dates"
contains "$OUT" '"at":"2026-03-03T08:00:00Z"' "JSON export writes instants in UTC"
run export --kpi revenue --from 2026-03-01 --to 2026-03-02
equals "$(printf '%s\n' "$OUT" | tail -n +2 | wc -l)" 2 "export --from/--to bound the days"
run export --kpi revenue --from 2026-Q1 --to 2026-02
equals "$(printf '%s\n' "$OUT" | tail -n +2 | wc -l)" 3 "export accepts period labels"
expect_rc 2 "export with a bad format" export --format xml
expect_rc 1 "export an unknown KPI" export --kpi nothing

# --- series and the calendar
run series revenue
contains "$OUT" "2026-03" "series prints periods"
contains "$OUT" "170.50 EUR" "series formats values with decimals and unit"
run series signups --json
contains "$OUT" '"period": "2026-W02"' "weekly KPI uses ISO weeks"
run series signups --granularity month --dim channel=paid --json
contains "$OUT" '"value": 3' "series --dim filters (January paid)"
run series revenue --granularity quarter --from 2026-01-01 --to 2026-12-31 --json
equals "$(printf '%s' "$OUT" | grep -c '"period"')" 4 "series lists empty periods in the range"
contains "$OUT" '"value": null' "empty periods have no value"
run series rev_per_signup --json --from 2026-02-01 --to 2026-02-28
contains "$OUT" '"reason": "no value for' "series of a derived KPI gives the reason for a missing value"
expect_rc 2 "series with a bad granularity" series revenue --granularity fortnight
expect_rc 2 "series with from after to" series revenue --from 2026-05-01 --to 2026-01-01
"$KPI" add late --name "Late" >/dev/null
"$KPI" push late 1 --at 2026-01-31T23:30:00Z >/dev/null
run series late --json
contains "$OUT" '"period": "2026-02"' "23:30Z on 31 January is February in Berlin"
"$KPI" --db fy.db init --fiscal-year-start 4 >/dev/null
"$KPI" --db fy.db add sales --name Sales --granularity quarter >/dev/null
"$KPI" --db fy.db push sales 5 --at 2026-03-31 >/dev/null
"$KPI" --db fy.db push sales 7 --at 2026-04-01 >/dev/null
run --db fy.db series sales --json
contains "$OUT" '"period": "2025-Q4"' "fiscal April start: March 2026 is 2025-Q4"
contains "$OUT" '"period": "2026-Q1"' "fiscal April start: April 2026 is 2026-Q1"

# --- durability: acknowledged writes survive kill -9
"$KPI" --db dur.db init >/dev/null
"$KPI" --db dur.db add d --name Durable --granularity day >/dev/null
(
    for i in $(seq 1 400); do
        day=$(date -u -d "2020-01-01 + $i days" +%Y-%m-%d)
        if "$KPI" --db dur.db push d "$i" --at "$day"; then echo "$day $i" >>acked.txt; fi
    done
) &
loop=$!
sleep 1.5
kill -9 "$loop" 2>/dev/null
pkill -9 -f "kpi --db dur.db" 2>/dev/null
wait "$loop" 2>/dev/null
acked=$(wc -l <acked.txt)
missing=0
"$KPI" --db dur.db export --kpi d >dur.csv
while read -r day value; do
    grep -q "^d,$day,$value\$" dur.csv || missing=$((missing + 1))
done <acked.txt
[ "$acked" -gt 0 ] && equals "$missing" 0 "all $acked acknowledged pushes survive kill -9" || not_ok "no push was acknowledged before kill -9"
python3 - <<'PY' >big.csv
print("kpi,at,value")
for i in range(400000):
    print("d,%04d-%02d-%02dT%02d:%02d:%02dZ,%d" % (2021 + i // 200000, 1 + i // 20000 % 10, 1 + i // 700 % 28, i // 60 % 24, i % 60, i // 1440 % 60, i))
PY
before=$("$KPI" --db dur.db show d | awk '/points/ {print $2}')
"$KPI" --db dur.db import big.csv >/dev/null 2>&1 &
imp=$!
sleep 0.3
kill -9 "$imp" 2>/dev/null
wait "$imp" 2>/dev/null
after=$("$KPI" --db dur.db show d | awk '/points/ {print $2}')
if [ "$after" = "$before" ] || [ "$after" -ge $((before + 390000)) ]; then
    ok "an import killed mid-way is all or nothing ($before -> $after points)"
else
    not_ok "an import killed mid-way left a partial write ($before -> $after points)"
fi
equals "$(sqlite3 dur.db 'PRAGMA integrity_check')" "ok" "the database is intact after kill -9"

finish
