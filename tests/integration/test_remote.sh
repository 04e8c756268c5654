#!/usr/bin/env bash
# End-to-end tests of the CLI's remote mode (--server URL --token T, $KPI_SERVER and $KPI_TOKEN):
# the CLI talks to a real `kpi serve` over HTTP instead of opening the database file, and must
# give the same answers. Read commands run remotely and locally (--db) on the same database and
# must print the same --json; write commands run remotely on the served database and locally on a
# copy, and must print the same and leave the same data behind (timestamps aside). Also: a CSV
# import of 60,000 points (also into a server that takes only 5,000 per batch: the CLI halves its
# batches on 413), a dry run that changes nothing, a bad token, a missing token, commands that
# work on a file only, an unreachable server, and a graceful stop on SIGTERM.
# usage: tests/integration/test_remote.sh PATH_TO_KPI   (or KPI_BIN=... tests/integration/test_remote.sh)
set -uo pipefail
source "$(dirname "$0")/lib.sh" "$@"
DAY=2026-06-30 # the demo's "today" and the as-of day of every judgement: answers are deterministic
unset KPI_SERVER KPI_TOKEN http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

# --- the servers we start, killed (by their own id) whatever happens
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

# start_server NAME DB [SERVE_OPTIONS...]: `kpi serve` on a free port, stderr in NAME.err; sets
# SRV_PID and URL (empty when it did not come up within 20 s).
start_server() {
    local name=$1 db=$2 port=""
    shift 2
    : >"$WORK/$name.err"
    "$KPI" serve --db "$db" --listen 127.0.0.1:0 --access-log off "$@" 2>"$WORK/$name.err" &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    for _ in $(seq 1 2000); do
        port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$WORK/$name.err")
        [ -n "$port" ] && break
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.01
    done
    URL=""
    [ -n "$port" ] && URL=http://127.0.0.1:$port
}

# --- a served database with the demo organisation, a token, and a copy for local twins of writes
run demo --db served.db --today "$DAY" --years 2
check "demo seeds the database to serve" [ "$RC" -eq 0 ]
TOKEN=$("$KPI" token create cli --db served.db 2>/dev/null)
check "token create prints a token" [ -n "$TOKEN" ]
cp served.db copy.db

start_server main served.db
if [ -z "$URL" ]; then
    not_ok "kpi serve starts and prints its port" "$(cat "$WORK/main.err")"
    finish
    exit 1
fi
ok "kpi serve starts and prints its port"
MAIN_PID=$SRV_PID
MAIN_URL=$URL

# remote ARGS...: kpi with --server and --token (after the command, like --db).
remote() { run "$@" --server "$URL" --token "$TOKEN"; }
# Lines that carry the time of a write differ between two databases written at different times.
untimed() { grep -vE '"(created_at|updated_at|done_at|created|seconds)"' <<<"$1"; }

# same_read DESCRIPTION ARGS...: the command prints the same, with the same exit code, remotely and
# locally on the served database.
same_read() {
    local desc=$1
    shift
    run "$@" --db served.db
    local lout=$OUT lrc=$RC lerr=$ERR
    remote "$@"
    if [ "$RC" -ne "$lrc" ]; then
        not_ok "$desc (remote exit $RC, local exit $lrc)" "$ERR$lerr"
    elif [ "$OUT" != "$lout" ]; then
        not_ok "$desc (outputs differ)" "$(diff <(echo "$lout") <(echo "$OUT") | head -10)"
    elif [ "$lrc" -ne 0 ]; then
        not_ok "$desc (both exit $lrc)" "$lerr"
    else
        ok "$desc"
    fi
}

# same_write DESCRIPTION ARGS...: remotely on the served database and locally on the copy, the
# write prints the same (timestamps aside) with the same exit code.
same_write() {
    local desc=$1
    shift
    run "$@" --db copy.db
    local lout=$OUT lrc=$RC lerr=$ERR
    remote "$@"
    if [ "$RC" -ne "$lrc" ]; then
        not_ok "$desc (remote exit $RC, local exit $lrc)" "$ERR$lerr"
    elif [ "$(untimed "$OUT")" != "$(untimed "$lout")" ]; then
        not_ok "$desc (outputs differ)" "$(diff <(untimed "$lout") <(untimed "$OUT") | head -10)"
    else
        ok "$desc"
    fi
}

# --- reads: the same answers remotely and locally
same_read "list --json" list --json
same_read "list --all --json" list --all --json
same_read "list --latest --json" list --latest --json
same_read "list --team sales --json" list --team sales --json
same_read "show --json" show arr --json
same_read "show (text, with the points count)" show signups
same_read "org --json" org --json
same_read "status --json (scorecard)" status --as-of "$DAY" --json
same_read "status KEY --json" status mrr --as-of "$DAY" --json
same_read "status --team --status (filters)" status --team sales --status on_track --as-of "$DAY" --json
same_read "tree" tree --as-of "$DAY" --no-color
same_read "series --json" series mrr --json
same_read "series by week with a dim filter" series signups --granularity week --dim channel=paid --from 2026-01 --to 2026-Q2 --json
same_read "series --as-of" series signups --as-of 2026-03-15 --json
same_read "export (CSV, every KPI)" export
same_read "export --format json" export --format json
same_read "export --kpi --from --to" export --kpi web_sessions --from 2026-02 --to 2026-03-10
same_read "forecast --json" forecast mrr --as-of "$DAY" --json
same_read "forecast of a daily KPI" forecast web_sessions --horizon 14 --as-of "$DAY" --json
same_read "anomalies --json" anomalies signups --as-of "$DAY" --json
same_read "drivers --json" drivers signups --from 2026-04 --to 2026-05 --dim channel --json
same_read "correlate --json" correlate mrr --json
same_read "insights --json" insights --as-of "$DAY" --json
same_read "target list --json" target list mrr --json
same_read "dump (YAML)" dump
same_read "token list --json" token list --json

# --- the environment: $KPI_SERVER and $KPI_TOKEN, and an explicit --db wins over $KPI_SERVER
run status --as-of "$DAY" --json --db served.db
local_status=$OUT
RC=0
OUT=$(KPI_SERVER=$URL KPI_TOKEN=$TOKEN "$KPI" status --as-of "$DAY" --json 2>"$WORK/.err") || RC=$?
check "KPI_SERVER and KPI_TOKEN select the server" [ "$RC" -eq 0 ]
equals "$OUT" "$local_status" "status via KPI_SERVER/KPI_TOKEN equals the local status"
run --json list --db served.db
local_list=$OUT
RC=0
OUT=$(KPI_SERVER=$URL KPI_TOKEN=$TOKEN "$KPI" --json list 2>"$WORK/.err") || RC=$?
equals "$OUT" "$local_list" "global --json with KPI_SERVER equals the local list"
RC=0
OUT=$(KPI_SERVER=http://127.0.0.1:1 KPI_TOKEN=x "$KPI" --json list --db served.db 2>"$WORK/.err") || RC=$?
equals "$OUT" "$local_list" "an explicit --db wins over KPI_SERVER"
run org --json --db served.db
local_org=$OUT
run --server "$URL" --token "$TOKEN" org --json
equals "$OUT" "$local_org" "--server and --token before the command"

# --- writes: the same outputs remotely (served) and locally (copy)
same_write "add --json" add churn_cost --name "Churn cost" --unit EUR --direction down --team finance --json
remote add churn_cost --name "Again"
check "add of a taken key fails with exit 1" [ "$RC" -eq 1 ]
contains "$ERR" "already exists" "add of a taken key says it exists"
same_write "edit --json" edit churn_cost --owner "Ana" --tags cost,retention --description "What churn costs us" --json
same_write "push a date point" push churn_cost 1200.5 --at 2026-06-01 --dim region=eu --json
same_write "push an instant" push churn_cost 900 --at 2026-06-02T10:30:00.250Z --json
same_write "push replaces the value at the same instant" push churn_cost 1300 --at 2026-06-01 --dim region=eu --json
same_write "push to an unknown KPI fails alike" push no_such_kpi 1 --at 2026-06-01
same_write "add a second KPI" add big_import --name "Big import" --granularity day --aggregation avg --json

# 60,000 points in one CSV file: imported over the API in one transaction (batches of 100,000).
awk 'BEGIN {
    print "kpi,at,value,region"
    split("eu us apac", regions, " ")
    for (i = 0; i < 60000; i++) {
        t = 1735689600 + i * 3600
        printf "big_import,%s,%d.%d,%s\n", strftime("%Y-%m-%dT%H:%M:%SZ", t, 1), i % 997, i % 10, regions[i % 3 + 1]
    }
}' >big.csv
check "the CSV has 60,000 rows" [ "$(($(wc -l <big.csv) - 1))" -eq 60000 ]
same_write "import of 60,000 points (--json)" import big.csv --json --quiet
contains "$OUT" '"written": 60000' "the remote import wrote 60,000 points"
same_read "show counts the imported points" show big_import
same_read "series of the imported KPI" series big_import --granularity month --json
bad=$(printf 'kpi,at,value\nbig_import,2026-01-01,1\nbig_import,not-a-date,2\n')
printf '%s\n' "$bad" >bad.csv
same_write "a bad import fails alike and writes nothing" import bad.csv --quiet
contains "$ERR" "line 3" "the remote import names the bad line"

same_write "target set --json" target set churn_cost --baseline 1500 --baseline-date 2026-01-01 --value 800 --date 2026-12-31 --json
same_write "a second target" target set churn_cost --baseline 800 --baseline-date 2027-01-01 --value 600 --date 2027-06-30
same_read "target list after set" target list churn_cost --json
same_write "target rm" target rm churn_cost --date 2027-06-30
same_read "target list after rm" target list churn_cost --json
same_read "status of the new KPI" status churn_cost --as-of "$DAY" --json

same_write "review add --json" review add mrr --note "On track after the price change" --author "Maria" --date 2026-06-15 \
    --action "Check EU pricing" --owner "Ana" --due 2026-07-15 --action "Write the board note" --json
same_write "a team review" review add --team sales --note "Pipeline review" --author "Chloe" --date 2026-06-20 --action "Call back leads" --owner "Ben"
same_write "a review of an unknown KPI fails alike" review add no_such_kpi --note "x" --author "y"
same_write "review list" review list mrr
same_read "review list --json" review list --json
same_read "review list KEY --json" review list mrr --json
same_read "actions --json" actions --json
same_write "action done" action "done" 1
same_write "action done of an unknown id fails alike" action "done" 999
same_read "actions --open --json after done" actions --open --json
same_write "action reopen" action "reopen" 1
same_read "actions --open --json after reopen" actions --open --json
same_read "actions --owner --json" actions --owner Ben --json
same_write "annotate a KPI" annotate mrr --at 2026-06-10 "Price change"
same_write "annotate every KPI" annotate --at 2026-06-11 "Holiday"
same_read "annotations --json" annotations --json
same_read "annotations KEY --from --to --json" annotations mrr --from 2026-06 --to 2026-06-30 --json
same_read "status after the reviews (last_review)" status mrr --as-of "$DAY" --json

same_write "archive" archive churn_cost
same_read "list --all after archive" list --all --json
same_write "archive --restore" archive churn_cost --restore

cat >defs.yaml <<'EOF'
kpis:
- key: parent_a
  name: Parent A
- key: child_b
  name: Child B
  parent: parent_a
- key: ratio_c
  name: Ratio C
  formula: parent_a / child_b
EOF
same_write "apply --dry-run --json" apply defs.yaml --dry-run --json
remote show parent_a
check "a remote dry run changes nothing" [ "$RC" -eq 1 ]
same_write "apply" apply defs.yaml
same_write "apply again changes nothing" apply defs.yaml
same_read "show a KPI made by apply" show ratio_c --json

# The same writes leave the same data: the served database (read locally) equals the copy.
run export --db served.db
served_export=$OUT
run export --db copy.db
equals "$served_export" "$OUT" "after the writes the served database holds the same points as the copy"
run status --as-of "$DAY" --json --db served.db
served_status=$OUT
run status --as-of "$DAY" --json --db copy.db
equals "$served_status" "$OUT" "after the writes the scorecards are the same"
same_read "insights after the writes" insights --as-of "$DAY" --json
same_read "forecast after the writes" forecast churn_cost --as-of "$DAY" --json

# --- tokens over the API
"$KPI" token create spare --db served.db >/dev/null 2>&1
same_read "token list --json (two tokens)" token list --json
remote token revoke spare
check "token revoke works remotely" [ "$RC" -eq 0 ]
remote token revoke spare
check "revoking an unknown token fails with exit 1" [ "$RC" -eq 1 ]

# --- refusals and errors
run list --server "$URL" --token "kpi_0000000000000000000000000000000000000000000000000000000000000000"
check "a bad token fails with exit 1" [ "$RC" -eq 1 ]
contains "$ERR" "token" "the bad-token message mentions the token"
run list --server "$URL"
check "--server without a token is a usage error (exit 2)" [ "$RC" -eq 2 ]
contains "$ERR" "KPI_TOKEN" "the missing-token message says how to give one"
run list --server "$URL" --token "$TOKEN" --db served.db
check "--db with --server is a usage error" [ "$RC" -eq 2 ]
run list --server "ftp://example" --token "$TOKEN"
check "a URL that is not http(s) is a usage error" [ "$RC" -eq 2 ]
run init --server "$URL" --token "$TOKEN"
check "init refuses --server (exit 2)" [ "$RC" -eq 2 ]
contains "$ERR" "database file" "init says it works on a database file"
run serve --server "$URL"
check "serve refuses --server (exit 2)" [ "$RC" -eq 2 ]
run token create other --server "$URL" --token "$TOKEN"
check "token create refuses --server (exit 2)" [ "$RC" -eq 2 ]
RC=0
OUT=$(KPI_SERVER=$URL "$KPI" token create from_env --db served.db 2>/dev/null) || RC=$?
check "token create with --db ignores KPI_SERVER" [ "$RC" -eq 0 ] && [ -n "$OUT" ]

# --- a server that takes smaller batches: the CLI halves its batches on 413 and still imports all
"$KPI" init --db small.db >/dev/null 2>&1
"$KPI" add big_import --name "Big import" --granularity day --aggregation avg --db small.db >/dev/null 2>&1
SMALL_TOKEN=$("$KPI" token create cli --db small.db 2>/dev/null)
start_server small small.db --max-batch 5000
run import big.csv --json --quiet --server "$URL" --token "$SMALL_TOKEN"
check "an import into a server with --max-batch 5000 succeeds" [ "$RC" -eq 0 ]
contains "$OUT" '"written": 60000' "all 60,000 points are written in smaller batches"
run show big_import --db small.db
contains "$OUT" "60000" "the small server's database holds the 60,000 points"
kill -TERM "$SRV_PID" 2>/dev/null
wait "$SRV_PID" 2>/dev/null
URL=$MAIN_URL

# --- graceful stop, then the server is gone
kill -TERM "$MAIN_PID"
SRV_RC=124
for _ in $(seq 1 300); do
    kill -0 "$MAIN_PID" 2>/dev/null || break
    sleep 0.1
done
if ! kill -0 "$MAIN_PID" 2>/dev/null; then
    SRV_RC=0
    wait "$MAIN_PID" || SRV_RC=$?
fi
equals "$SRV_RC" 0 "kpi serve exits 0 on SIGTERM"
remote list --json
check "a stopped server fails with exit 1" [ "$RC" -eq 1 ]
contains "$ERR" "cannot reach" "the message says the server cannot be reached"

finish
