#!/usr/bin/env bash
# Integration test: `kpi export` round-trips with `kpi import` in both formats. Seeds database A with
# `kpi demo`, exports it as CSV and as JSON, imports each export into fresh databases that have the
# same KPI definitions (`kpi dump` | `kpi apply -`) and organisation time zone, and requires their
# own exports to be byte-for-byte A's, in both formats. Also: a JSON file with one bad item among
# good ones is refused whole (exit 1, the item named, nothing written), and JSON works from standard
# input.
# Usage: test_roundtrip.sh [path/to/kpi]   (or KPI_BIN=...). Prints "ok - ..." / "not ok - ..." per
# check and ends with "N passed, M failed"; exits non-zero when a check failed.
set -euo pipefail

source "$(dirname "$0")/lib.sh" "$@"

TODAY=2026-11-23

# A database with A's definitions and time zone, its KPIs created in the order A created them.
# Export lists points by the database's internal KPI ids (and dims ids, which an import interns in
# file order), so for byte-identical exports the measured KPIs are created in the order of their
# first point in A's export; the rest follow in dump order (apply still puts parents first).
fresh_db() { # DB
    "$KPI" init --db "$1" >/dev/null
    "$KPI" org --db "$1" --timezone Europe/Berlin >/dev/null
    "$KPI" dump --db a.db | awk -v order="$ORDER" '
        BEGIN { n = split(order, o, "\n") }
        /^- key: / { k = $3 }
        k == "" { print; next }
        { if (!(k in blk)) keys[++nk] = k; blk[k] = blk[k] $0 "\n" }
        END {
            for (i = 1; i <= n; i++) { printf "%s", blk[o[i]]; used[o[i]] = 1 }
            for (i = 1; i <= nk; i++) if (!(keys[i] in used)) printf "%s", blk[keys[i]]
        }' | "$KPI" apply --db "$1" - >/dev/null
}

same_file() { # GOT WANT DESCRIPTION
    if cmp -s "$1" "$2"; then ok "$3"; else not_ok "$3" "$(diff "$2" "$1" | head -6)"; fi
}

# 1. A: the demo data, exported both ways.
expect_rc 0 "demo seeds database A" demo --db a.db --today "$TODAY"
expect_rc 0 "A exports as CSV" export --db a.db --output a.csv
expect_rc 0 "A exports as JSON" export --db a.db --format json --output a.json
points=$(($(wc -l <a.csv) - 1))
check "A's export has points ($points)" [ "$points" -gt 1000 ]
check "the JSON export has one item per point" [ "$(grep -c '^{"kpi":' a.json)" -eq "$points" ]
ORDER=$(tail -n +2 a.csv | cut -d, -f1 | awk '!seen[$0]++')

# 2. B from the CSV, C from the JSON; both exported both ways.
fresh_db b.db
fresh_db c.db
check "B and C have A's definitions" \
    bash -c 'cmp -s <("$1" dump --db a.db) <("$1" dump --db b.db) && cmp -s <("$1" dump --db a.db) <("$1" dump --db c.db)' _ "$KPI"
expect_rc 0 "the CSV export imports into B" import --db b.db --quiet a.csv
expect_rc 0 "the JSON export imports into C" import --db c.db --json a.json
contains "$OUT" "\"rows\": $points, \"written\": $points" "the JSON import reports every point written"
for db in b c; do
    "$KPI" export --db $db.db --output $db.csv
    "$KPI" export --db $db.db --format json --output $db.json
done
same_file b.csv a.csv "CSV -> import -> CSV export is byte-for-byte A's"
same_file b.json a.json "CSV -> import -> JSON export is byte-for-byte A's"
same_file c.json a.json "JSON -> import -> JSON export is byte-for-byte A's"
same_file c.csv a.csv "JSON -> import -> CSV export is byte-for-byte A's"
expect_rc 0 "importing the JSON again is idempotent" import --db c.db --quiet a.json
"$KPI" export --db c.db --format json --output c2.json
same_file c2.json a.json "after a second import the export is unchanged"

# 3. One bad item among good ones: refused whole, the item named, nothing written.
fresh_db d.db
sed '101s/"value":/"valeu":/' a.json >bad.json
expect_rc 1 "a JSON file with one bad item exits 1" import --db d.db bad.json
contains "$ERR" "item 100: unknown field 'valeu'" "the bad item is listed by number and reason"
contains "$ERR" "item 100: missing field 'value'" "the missing field is listed too"
contains "$ERR" "2 bad items; nothing was written" "the summary says nothing was written"
run export --db d.db --format json
equals "$OUT" $'[\n]' "nothing was written"
printf '[{"kpi":"mrr","at":"2026-01-31","value":1}, {"kpi":"mrr","at":"2026-01-31","value":2}' >truncated.json
expect_rc 1 "a truncated JSON array exits 1" import --db d.db truncated.json
contains "$ERR" "unexpected end of input: the array is not closed with ']'" "the truncation is reported"
run export --db d.db --format json
equals "$OUT" $'[\n]' "nothing was written from the truncated array"

# 4. JSON from standard input, through a pipe, with leading whitespace.
fresh_db e.db
capture bash -c '{ printf "\n  \n"; cat a.json; } | "$1" import --db e.db --quiet -' _ "$KPI"
check "JSON from standard input imports" [ "$rc" -eq 0 ]
"$KPI" export --db e.db --format json --output e.json
same_file e.json a.json "JSON from standard input round-trips"
fresh_db f.db
expect_rc 0 "CSV from standard input still imports" import --db f.db --quiet - <a.csv
"$KPI" export --db f.db --output f.csv
same_file f.csv a.csv "CSV from standard input round-trips"
run import --help
contains "$OUT" "JSON" "import --help mentions JSON"

finish
