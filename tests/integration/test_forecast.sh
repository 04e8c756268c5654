#!/usr/bin/env bash
# End-to-end tests of the analysis commands of issue 4 on the seeded demo organisation: forecast
# (rows, nested intervals, p_target, horizon, the naive fallback), anomalies (the outage week),
# drivers (contributions that sum to the change), correlate (a significant pair and the footer),
# and the errors of bad inputs.
# usage: tests/integration/test_forecast.sh PATH_TO_KPI
set -uo pipefail
source "$(dirname "$0")/lib.sh" "$@"

# json_field JSON NAME: the raw value of the first "NAME": in pretty-printed JSON.
json_field() {
    printf '%s\n' "$1" | sed -n "s/^ *\"$2\": \(.*\)$/\1/p" | head -1 | sed 's/,$//'
}

"$KPI" init >/dev/null
"$KPI" demo --today 2026-11-23 >/dev/null

# --- forecast
expect_rc 0 "forecast of mrr exits 0" forecast mrr --as-of 2026-11-23
contains "$OUT" "Model: " "the model is named"
contains "$OUT" "95% INTERVAL" "the table of the next periods"
contains "$OUT" "░" "the chart shows the band"
width=$(printf '%s\n' "$OUT" | LC_ALL=C.UTF-8 wc -L)
check "no line wider than 100 columns ($width)" test "$width" -le 100
expect_rc 0 "forecast --json exits 0" forecast mrr --as-of 2026-11-23 --json
equals "$(printf '%s\n' "$OUT" | grep -c '"lo95":')" 12 "12 rows by default"
equals "$(json_field "$OUT" method)" '"ets"' "36 monthly periods: an ETS model"
nested=$(printf '%s\n' "$OUT" | awk -F': ' '
    /"mean":/ { m = $2 + 0 } /"lo80":/ { a = $2 + 0 } /"hi80":/ { b = $2 + 0 } /"lo95":/ { c = $2 + 0 }
    /"hi95":/ { d = $2 + 0; n++; if (!(c <= a && a <= m && m <= b && b <= d)) bad++ }
    END { print n, bad + 0 }')
equals "$nested" "12 0" "lo95 <= lo80 <= mean <= hi80 <= hi95 in every row"
run target list mrr
contains "$OUT" "2026-12-31" "the demo sets a target of mrr for 2026-12-31"
run forecast mrr --as-of 2026-11-23 --json
contains "$OUT" '"date": "2026-12-31"' "p_target is given for the future target"
p=$(printf '%s\n' "$OUT" | sed -n 's/^ *"probability": \(.*\)$/\1/p')
check "p_target is a probability ($p)" awk -v p="$p" 'BEGIN { exit !(p != "" && p >= 0 && p <= 1) }'
run forecast mrr --as-of 2026-11-23
contains "$OUT" "p_target:" "the text gives p_target"
run forecast mrr --as-of 2026-11-23 --horizon 3 --json
equals "$(printf '%s\n' "$OUT" | grep -c '"lo95":')" 3 "--horizon 3 gives 3 rows"
run forecast support_tickets --as-of 2026-11-23 --json
equals "$(json_field "$OUT" p_target)" null "no target: p_target null"
"$KPI" add lonely --name "One point" >/dev/null
"$KPI" push lonely 42 --at 2026-10-15 >/dev/null
expect_rc 0 "forecast of a KPI with one point" forecast lonely --as-of 2026-11-23 --json
equals "$(json_field "$OUT" method)" '"naive"' "one point falls back to naive"
check "the note says why" test "$(json_field "$OUT" note)" != '""'
near "$(printf '%s\n' "$OUT" | sed -n 's/^ *"mean": \(.*\)$/\1/p' | head -1 | sed 's/,$//')" 42 "naive forecast is the last value"
run forecast lonely --as-of 2026-11-23
contains "$OUT" "Note: " "the text shows the fallback note"

# --- anomalies
expect_rc 0 "anomalies of support_tickets" anomalies support_tickets --as-of 2026-11-23
spike=$(printf '%s\n' "$OUT" | grep -E '^2026-W0[4-7] .* spike' | head -1)
check "a spike flagged in the outage week ($spike)" test -n "$spike"
run anomalies support_tickets --as-of 2026-11-23 --json
contains "$OUT" '"direction": "spike"' "anomalies --json gives the direction"
run anomalies support_tickets --as-of 2026-11-23 --sensitivity 1000 --json
contains "$OUT" '"anomalies": []' "a huge sensitivity flags nothing"

# --- drivers
expect_rc 0 "drivers of revenue by region" drivers revenue --from 2026-09 --to 2026-10 --dim region --json
total=$(json_field "$OUT" total_change)
sum=$(printf '%s\n' "$OUT" | sed -n 's/^ *"contribution": \(.*\)$/\1/p' | sed 's/,$//' | awk '{ s += $1 } END { printf "%.6f", s }')
check "contributions sum to the change ($sum vs $total)" awk -v a="$sum" -v b="$total" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b != "" && d <= 1e-6 * (b < 0 ? -b : b) + 1e-6) }'
run series revenue --from 2026-09 --to 2026-10 --json
v1=$(printf '%s\n' "$OUT" | sed -n 's/^ *"value": \(.*\)$/\1/p' | sed 's/,$//' | head -1)
v2=$(printf '%s\n' "$OUT" | sed -n 's/^ *"value": \(.*\)$/\1/p' | sed 's/,$//' | sed -n 2p)
run drivers revenue --from 2026-09 --to 2026-10 --dim region --json
near "$(json_field "$OUT" total_change)" "$(awk -v a="$v1" -v b="$v2" 'BEGIN { printf "%.10g", b - a }')" "the total change is the series' change"
run drivers revenue --from 2026-09 --to 2026-10 --dim region
contains "$OUT" "contributions sum to the total change" "the text says the contributions sum to the change"
contains "$OUT" "eu" "segments are listed"
run drivers revenue --from 2026-09 --to 2026-10 --json
equals "$(json_field "$OUT" dim)" '"plan"' "default dim: the first the points carry"

# --- correlate
expect_rc 0 "correlate mrr" correlate mrr
contains "$OUT" "correlation is not causation" "the footer"
check "never says cause" bash -c '! grep -qiwE "cause|causes|caused" <<<"$1"' _ "$OUT"
run correlate mrr --json
n=$(printf '%s\n' "$OUT" | grep -c '"n_pairs":')
check "at least one significant pair ($n)" test "$n" -ge 1
run correlate support_tickets --with first_response_time --max-lag 4 --json
contains "$OUT" '"kpi": "first_response_time"' "--with OTHER"

# --- bad inputs
expect_rc 1 "forecast of an unknown KPI" forecast nosuch
contains "$ERR" "no KPI with key 'nosuch'" "the unknown key is named"
expect_rc 2 "horizon 0" forecast mrr --horizon 0
contains "$ERR" "horizon" "the horizon error names the option"
expect_rc 2 "horizon not a number" forecast mrr --horizon abc
expect_rc 2 "horizon above 1000" forecast mrr --horizon 1001
expect_rc 2 "bad sensitivity" anomalies support_tickets --sensitivity -1
expect_rc 1 "anomalies of an unknown KPI" anomalies nosuch
expect_rc 2 "drivers: from after to" drivers revenue --from 2026-10 --to 2026-09
contains "$ERR" "is after" "the order error"
expect_rc 2 "drivers: missing --to" drivers revenue --from 2026-10
expect_rc 2 "drivers: bad period" drivers revenue --from 2026-13 --to 2026-10
expect_rc 1 "drivers of an unknown KPI" drivers nosuch --from 2026-09 --to 2026-10
expect_rc 1 "correlate of an unknown KPI" correlate nosuch
expect_rc 2 "correlate: bad max-lag" correlate mrr --max-lag 99
# --- insights
expect_rc 0 "insights" insights --as-of 2026-11-23
contains "$OUT" " KPIs: " "insights starts with the scorecard summary"
contains "$OUT" "Customer acquisition cost is off track (8,993 EUR against" "a sentence per KPI with value and expectation"
contains "$OUT" "at this pace the 2026-12-31 target of" "sentences carry the forecast of the next target"
first=$(printf '%s\n' "$OUT" | sed -n 3p)
contains "$first" "off track" "the most urgent KPIs come first"
expect_rc 0 "insights --json" insights --as-of 2026-11-23 --json --team finance
contains "$OUT" '"p_target": 0.' "insights --json gives p_target"
if printf '%s' "$OUT" | grep -q '"kpi": "cac"'; then not_ok "insights --team filters"; else ok "insights --team filters"; fi
run insights --as-of 2026-11-23
again=$OUT
run insights --as-of 2026-11-23
equals "$OUT" "$again" "insights are deterministic"
expect_rc 0 "help forecast" help forecast
contains "$OUT" "--horizon" "the help mentions --horizon"

finish
