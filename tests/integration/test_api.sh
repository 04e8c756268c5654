#!/usr/bin/env bash
# End-to-end tests of the HTTP API (`kpi serve`) over real HTTP with curl, on real database files:
# every route of `kpi serve --print-routes` with a success; every error class as problem+json;
# ingestion (JSON and CSV, idempotent resend, whole-batch validation); pagination; ETag and 304
# (also after a write by the CLI on the same file); equality with the CLI's --json output;
# /metrics (promtool) and the access log; hostile clients (huge and slow); concurrent writers;
# durability across kill -9; graceful shutdown on SIGTERM; and how fast the server is ready.
# usage: tests/integration/test_api.sh PATH_TO_KPI   (or KPI_BIN=... tests/integration/test_api.sh)
set -uo pipefail
CLIENTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/api_clients.py"
source "$(dirname "$0")/lib.sh" "$@"
T_START=$(date +%s%N)
# The interpreter itself, not a wrapper such as a pyenv shim (which costs ~0.5 s per call).
PY=$(python3 -c 'import sys; print(sys.executable)')
DAY=2026-11-20 # the demo's "today": reads that take as_of use it, so answers are deterministic

# lib.sh's contains pipes printf into grep -q: under pipefail, grep may exit at the match before
# printf has written the rest (SIGPIPE), failing the check. This one does not use a pipe.
contains() { # HAYSTACK NEEDLE DESCRIPTION
    if [[ $1 == *"$2"* ]]; then ok "$3"; else not_ok "$3 (missing '$2')" "$1"; fi
}

# --- servers we start, killed (by their own id) whatever happens
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

# start_server NAME DB [SERVE_OPTIONS...]: starts `kpi serve` on a free port, stderr in NAME.err;
# sets SRV_PID, PORT and BASE (empty PORT when it did not come up within 20 s).
start_server() {
    local name=$1 db=$2
    shift 2
    : >"$WORK/$name.err"
    "$KPI" serve --db "$db" --listen 127.0.0.1:0 "$@" 2>"$WORK/$name.err" &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    PORT=""
    local i
    for i in $(seq 1 2000); do
        PORT=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$WORK/$name.err")
        [ -n "$PORT" ] && break
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.01
    done
    BASE=http://127.0.0.1:$PORT
    [ -n "$PORT" ] || cat "$WORK/$name.err" >&2
}

# stop_server PID [SIGNAL]: SIGTERM (or SIGNAL), then the server's exit code in $SRV_RC (124 when
# it had not stopped within 30 s: it is then killed).
stop_server() {
    local pid=$1 sig=${2:-TERM} i
    kill -"$sig" "$pid" 2>/dev/null
    for i in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        SRV_RC=124
    else
        SRV_RC=0
        wait "$pid" || SRV_RC=$?
    fi
}

# --- requests: the answer's status in $STATUS, body in $WORK/body ($BODY), headers in $WORK/headers

# raw METHOD PATH [CURL_ARGS...]: one request without a token.
raw() {
    local method=$1 path=$2
    shift 2
    rm -f "$WORK/body" "$WORK/headers"
    STATUS=$(curl -sS --max-time 60 -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' -X "$method" "$@" "$BASE$path" \
        2>"$WORK/curl.err") || STATUS=000
    touch "$WORK/body" "$WORK/headers"
    BODY=$(cat "$WORK/body")
    mark_route "$method" "$path" "$STATUS"
}

# req METHOD PATH [CURL_ARGS...]: the same with the bearer token $TOKEN.
req() {
    local method=$1 path=$2
    shift 2
    raw "$method" "$path" -H "Authorization: Bearer $TOKEN" "$@"
}

# send METHOD PATH JSON_TEXT [CURL_ARGS...]: a request with a JSON body.
send() {
    local method=$1 path=$2 body=$3
    shift 3
    req "$method" "$path" -H 'Content-Type: application/json' --data-binary "$body" "$@"
}

# header NAME: the value of a header of the last answer ("" when absent).
header() {
    grep -i "^$1:" "$WORK/headers" | tail -1 | cut -d' ' -f2- | tr -d '\r'
}

# jv EXPR [FILE]: a Python expression over the JSON document d (default: the last body), printed
# as text (strings) or JSON (anything else); "!error" when the file is not JSON.
jv() {
    "$PY" - "$1" "${2:-$WORK/body}" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[2]))
    v = eval(sys.argv[1])
    print(v if isinstance(v, str) else json.dumps(v))
except Exception as e:
    print("!error: %s" % e)
PY
}

# jtrue EXPR [FILE]: whether a Python expression over d is true.
jtrue() {
    [ "$(jv "bool($1)" "${2:-$WORK/body}")" = true ]
}

# expect WANT_STATUS DESCRIPTION [PYTHON_CONDITION]: checks the last answer's status and, when
# given, a condition on its JSON body d.
expect() {
    local want=$1 desc=$2 cond=${3:-}
    if [ "$STATUS" != "$want" ]; then
        not_ok "$desc (status $STATUS, wanted $want)" "$(head -c 600 "$WORK/body")"
    elif [ -n "$cond" ] && ! jtrue "$cond"; then
        not_ok "$desc (condition failed: $cond)" "$(head -c 600 "$WORK/body")"
    else
        ok "$desc"
    fi
}

# problem WANT_STATUS DESCRIPTION [PYTHON_CONDITION]: the last answer is an RFC 9457 problem with
# that status: Content-Type application/problem+json, type/title/status/detail, and the condition.
problem() {
    local want=$1 desc=$2 cond=${3:-True} ct verdict
    ct=$(header Content-Type)
    verdict=$(jv "(('ok' if ($cond) else 'cond') if all(isinstance(d.get(k), str) and d[k] for k in ('type', 'title', 'detail')) \
and d.get('status') == $want else 'shape')")
    if [ "$STATUS" != "$want" ]; then
        not_ok "$desc (status $STATUS, wanted $want)" "$(head -c 600 "$WORK/body")"
    elif [ "$ct" != application/problem+json ]; then
        not_ok "$desc (Content-Type '$ct', wanted application/problem+json)"
    elif [ "$verdict" = cond ]; then
        not_ok "$desc (condition failed: $cond)" "$(head -c 600 "$WORK/body")"
    elif [ "$verdict" != ok ]; then
        not_ok "$desc (not a problem document with type, title, status $want and detail)" "$(head -c 600 "$WORK/body")"
    else
        ok "$desc"
    fi
}

# section TITLE: prints where the script is and how long it has run.
section() {
    echo "# --- $1 ($(elapsed_ms "$T_START") ms)"
}

# elapsed_ms START_NS: milliseconds since START_NS (from date +%s%N).
elapsed_ms() {
    echo $((($(date +%s%N) - $1) / 1000000))
}

# --- route coverage: every route must be answered with a success at least once. ROUTE_CHECK
# names the section that exercises each route; a route missing from the table fails the test.
declare -A ROUTE_CHECK=(
    ["GET /healthz"]="public routes"
    ["GET /readyz"]="public routes"
    ["GET /metrics"]="metrics"
    ["GET /api/v1/openapi.json"]="public routes"
    ["GET /api/v1/org"]="organisation"
    ["PUT /api/v1/org"]="organisation"
    ["GET /api/v1/kpis"]="pagination"
    ["POST /api/v1/kpis"]="KPI definitions"
    ["GET /api/v1/kpis/{key}"]="KPI definitions"
    ["PUT /api/v1/kpis/{key}"]="KPI definitions"
    ["PATCH /api/v1/kpis/{key}"]="KPI definitions"
    ["DELETE /api/v1/kpis/{key}"]="KPI definitions"
    ["GET /api/v1/kpis/{key}/points"]="pagination"
    ["POST /api/v1/kpis/{key}/points"]="ingestion"
    ["POST /api/v1/points"]="ingestion"
    ["GET /api/v1/kpis/{key}/series"]="equality with the CLI"
    ["GET /api/v1/kpis/{key}/status"]="equality with the CLI"
    ["GET /api/v1/scorecard"]="ETag"
    ["GET /api/v1/teams"]="reads"
    ["GET /api/v1/kpis/{key}/targets"]="targets"
    ["PUT /api/v1/kpis/{key}/targets"]="targets"
    ["POST /api/v1/kpis/{key}/targets"]="targets"
    ["DELETE /api/v1/kpis/{key}/targets/{date}"]="targets"
    ["GET /api/v1/kpis/{key}/reviews"]="reviews"
    ["POST /api/v1/kpis/{key}/reviews"]="reviews"
    ["GET /api/v1/reviews"]="reviews"
    ["POST /api/v1/reviews"]="reviews"
    ["GET /api/v1/actions"]="reviews"
    ["PATCH /api/v1/actions/{id}"]="reviews"
    ["GET /api/v1/kpis/{key}/annotations"]="annotations"
    ["POST /api/v1/kpis/{key}/annotations"]="annotations"
    ["GET /api/v1/annotations"]="annotations"
    ["POST /api/v1/annotations"]="annotations"
    ["GET /api/v1/kpis/{key}/forecast"]="analysis"
    ["GET /api/v1/kpis/{key}/anomalies"]="analysis"
    ["GET /api/v1/kpis/{key}/drivers"]="analysis"
    ["GET /api/v1/kpis/{key}/correlations"]="analysis"
    ["GET /api/v1/insights"]="analysis"
    ["GET /api/v1/tokens"]="tokens"
    ["POST /api/v1/tokens"]="tokens"
    ["DELETE /api/v1/tokens/{name}"]="tokens"
)
declare -A ROUTE_HIT=() ROUTE_SET=()
ROUTES=()
ROUTE_RE=()
while read -r method pattern; do
    [ -n "$method" ] || continue
    ROUTES+=("$method $pattern")
    ROUTE_SET["$method $pattern"]=1
    ROUTE_RE+=("^$(sed 's/{[^}]*}/[^\/]+/g' <<<"$pattern")\$")
done < <("$KPI" serve --print-routes)

# mark_route METHOD PATH STATUS: notes a successful answer (2xx or 304) of the route PATH matches.
mark_route() {
    case $3 in 2?? | 304) ;; *) return 0 ;; esac
    local path=${2%%\?*} i
    for i in "${!ROUTES[@]}"; do
        if [ "${ROUTES[$i]%% *}" = "$1" ] && [[ $path =~ ${ROUTE_RE[$i]} ]]; then
            ROUTE_HIT["${ROUTES[$i]}"]=1
            return 0
        fi
    done
}

# count_points KEY [DB]: points of a KPI in the database, read by the CLI.
count_points() {
    "$KPI" export --db "${2:-$DB}" --kpi "$1" | tail -n +2 | wc -l
}

########################################################################################################
# --- setup: the seeded demo database, a token, the main server
section "setup"
DB=$WORK/demo.db
"$KPI" demo --db "$DB" --today $DAY >/dev/null 2>&1 || not_ok "kpi demo seeds a database"
TOKEN=$("$KPI" token create itest --db "$DB" 2>/dev/null)
if [[ $TOKEN =~ ^kpi_[0-9a-f]{64}$ ]]; then ok "kpi token create prints a token"; else not_ok "kpi token create prints a token (got '$TOKEN')"; fi
check "kpi serve --print-routes lists the routes" test "${#ROUTES[@]}" -ge 30

# --- ready time: /healthz answers soon after the start (asserted loosely: < 1 s)
section "ready time"
LOG=$WORK/access.log
t0=$(date +%s%N)
start_server main "$DB" --access-log "$LOG" --max-body 2000000 --max-batch 2000 --threads 4
MAIN_PID=$SRV_PID
if [ -z "$PORT" ]; then
    not_ok "kpi serve starts and prints its address"
    finish
    exit 1
fi
for i in $(seq 1 500); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz")" = 200 ] && break
    sleep 0.002
done
ready_ms=$(elapsed_ms "$t0")
echo "# /healthz answered ${ready_ms} ms after the start ($(grep -o 'ready in [0-9.]* ms' "$WORK/main.err"))"
check "/healthz answers within 1 s of the start (${ready_ms} ms)" test "$ready_ms" -lt 1000
contains "$(cat "$WORK/main.err")" "listening on http://127.0.0.1:$PORT" "the server prints where it listens"

# --- public routes
section "public routes"
raw GET /healthz
expect 200 "GET /healthz" "d == {'status': 'ok'}"
equals "$(header Content-Type)" "application/json" "/healthz is application/json"
equals "$(header X-Content-Type-Options)" "nosniff" "answers carry X-Content-Type-Options: nosniff"
raw GET /readyz
expect 200 "GET /readyz" "d['status'] == 'ready' and d['schema_version'] >= 1"
raw GET /api/v1/openapi.json
expect 200 "GET /api/v1/openapi.json is public" "d['openapi'].startswith('3.1') and '/api/v1/kpis' in d['paths']"
raw GET '/healthz?verbose=1'
problem 400 "/healthz refuses a query parameter"

# --- authentication (401 with WWW-Authenticate: Bearer)
section "authentication"
raw GET /api/v1/kpis
problem 401 "no token: 401" "'Bearer' in d['detail']"
contains "$(header WWW-Authenticate)" "Bearer" "a 401 names the Bearer scheme"
raw GET /api/v1/kpis -H "Authorization: Basic $(printf 'a:b' | base64)"
problem 401 "wrong scheme: 401" "'Bearer' in d['detail']"
raw GET /api/v1/kpis -H "Authorization: Bearer kpi_0000000000000000000000000000000000000000000000000000000000000000"
problem 401 "unknown token: 401" "'not valid' in d['detail']"
raw GET /api/v1/kpis -H "Authorization: Bearer ${TOKEN}x"
problem 401 "a token with one character more: 401"
raw GET /metrics
check "public routes need no token (/metrics)" test "$STATUS" = 200

# --- tokens: create, list, duplicate (409), revoke then reuse (401)
section "tokens"
send POST /api/v1/tokens '{"name": "itest-revoke"}'
expect 201 "POST /api/v1/tokens creates a token" "d['name'] == 'itest-revoke' and d['token'].startswith('kpi_')"
equals "$(header Location)" "/api/v1/tokens/itest-revoke" "the new token's Location"
REVOKE=$(jv "d['token']")
send POST /api/v1/tokens '{"name": "itest-revoke"}'
problem 409 "a duplicate token name: 409" "'itest-revoke' in d['detail']"
send POST /api/v1/tokens '{"name": "bad name!"}'
problem 422 "an invalid token name: 422 naming the field" "d['detail'].startswith('name:')"
req GET /api/v1/tokens
expect 200 "GET /api/v1/tokens lists names, never secrets" \
    "{'itest', 'itest-revoke'} <= {t['name'] for t in d['items']} and all('token' not in t for t in d['items'])"
raw GET /api/v1/org -H "Authorization: Bearer $REVOKE"
expect 200 "the new token works"
req DELETE /api/v1/tokens/itest-revoke
expect 204 "DELETE /api/v1/tokens/{name} revokes"
raw GET /api/v1/org -H "Authorization: Bearer $REVOKE"
problem 401 "a revoked token: 401" "'revoked' in d['detail']"
req DELETE /api/v1/tokens/itest-revoke
problem 404 "revoking an unknown token: 404"

# --- routing errors: 404, 405 with Allow
section "routing errors"
req GET /api/v1/nothing
problem 404 "an unknown path: 404" "'/api/v1/nothing' in d['detail']"
req GET /api/v1/kpis/no_such_kpi
problem 404 "an unknown KPI: 404" "'no_such_kpi' in d['detail']"
req GET /api/v1/kpis/no_such_kpi/status
problem 404 "the status of an unknown KPI: 404"
req PUT /api/v1/scorecard
problem 405 "PUT on a read-only resource: 405"
equals "$(header Allow)" "GET" "a 405 has an Allow header"
req DELETE /api/v1/kpis
problem 405 "DELETE /api/v1/kpis: 405"
equals "$(header Allow)" "GET, POST" "Allow lists every method of the path"

# --- request errors: 400 malformed, 415, 422 invalid, 409 conflict
section "request errors"
send POST /api/v1/kpis $'{\n  "key": "broken",\n  "name": \n}'
problem 400 "malformed JSON: 400" "__import__('re').search(r'line [0-9]+, column [0-9]+', d['detail'])"
contains "$BODY" "line 4, column 1" "the 400 says where the JSON breaks"
# A malformed batch is a 400 (DESIGN.md section 4) that still lists its errors with line and column.
send POST /api/v1/points '[{"kpi": "mrr", "at": "2026-01-01", "value": 1,}]'
problem 400 "a malformed JSON batch is refused with line and column" "'line 1, column 48' in json.dumps(d)"
req GET '/api/v1/kpis?colour=red'
problem 400 "an unknown query parameter: 400" "'colour' in d['detail']"
req GET '/api/v1/kpis?limit=5&limit=6'
problem 400 "a query parameter given twice: 400"
req GET '/api/v1/kpis/mrr/status?as_of=2026-13-01'
problem 400 "a bad date: 400" "d['detail'].startswith('as_of:')"
req GET '/api/v1/kpis/mrr/points?from=yesterday'
problem 400 "a bad from: 400" "d['detail'].startswith('from:')"
req GET '/api/v1/kpis?cursor=%21%21'
problem 400 "a bad cursor of /kpis: 400" "d['detail'].startswith('cursor:')"
req GET '/api/v1/kpis/mrr/points?cursor=bm90IGEgY3Vyc29y'
problem 400 "a bad cursor of /points: 400" "d['detail'].startswith('cursor:')"
req GET '/api/v1/reviews?cursor=OTk5OTk'
problem 400 "a cursor naming no item: 400"
req GET '/api/v1/kpis?limit=0'
problem 422 "limit 0: 422" "d['detail'].startswith('limit:')"
req GET '/api/v1/kpis?limit=abc'
problem 400 "limit not a number: 400"
req POST /api/v1/kpis -H 'Content-Type: text/plain' --data-binary '{"key": "plain", "name": "Plain"}'
problem 415 "a wrong Content-Type: 415" "'text/plain' in d['detail']"
req POST /api/v1/points -H 'Content-Type: application/xml' --data-binary '<points/>'
problem 415 "XML to /points: 415"
send POST /api/v1/kpis '{"key": "mrr", "name": "Again"}'
problem 409 "a duplicate KPI key: 409" "'mrr' in d['detail']"
send POST /api/v1/kpis '{"key": "zz", "name": "Z", "granularity": "fortnight"}'
problem 422 "an invalid field value: 422 naming the field" "d['detail'].startswith('granularity:')"
send POST /api/v1/kpis '{"key": "zz", "name": "Z", "decimals": 99}'
problem 422 "decimals out of range: 422 naming the field" "d['detail'].startswith('decimals:')"
send POST /api/v1/kpis '{"key": "Bad Key", "name": "Z"}'
problem 422 "an invalid key: 422 naming the field" "d['detail'].startswith('key:')"
send POST /api/v1/kpis '{"key": "zz", "name": "Z", "colour": "red"}'
problem 422 "an unknown field: 422 naming it" "'colour' in d['detail']"
send POST /api/v1/kpis '{"key": "zz"}'
problem 422 "a missing name: 422" "d['detail'].startswith('name:')"

# --- pagination: /kpis?limit=5 and a KPI's points with limit=1000 give every item exactly once
section "pagination"
"$PY" "$CLIENTS" pages "$BASE" '/api/v1/kpis?limit=5' "$TOKEN" >pages.json
"$KPI" list --json --db "$DB" >list.json
n_kpis=$(jv 'len(d)' list.json)
if jtrue 'd["error"] is None' pages.json; then ok "walking /kpis?limit=5 succeeds"; else not_ok "walking /kpis?limit=5" "$(jv 'd["error"]' pages.json)"; fi
equals "$(jv 'd["pages"]' pages.json)" $(((n_kpis + 4) / 5)) "/kpis?limit=5 takes ceil($n_kpis/5) pages"
equals "$(jv 'sorted(i["key"] for i in d["items"])' pages.json)" "$(jv 'sorted(k["key"] for k in d)' list.json)" \
    "the pages hold every KPI of 'kpi list --json' exactly once"
req GET '/api/v1/kpis?limit=5'
expect 200 "a first page of 5 KPIs with a cursor" "len(d['items']) == 5 and isinstance(d['next_cursor'], str)"
"$PY" "$CLIENTS" pages "$BASE" '/api/v1/kpis/web_sessions/points?limit=1000' "$TOKEN" >ppages.json
"$KPI" export --db "$DB" --kpi web_sessions --format json >pexport.json
n_points=$(jv 'len(d)' pexport.json)
if jtrue 'd["error"] is None' ppages.json; then ok "walking points with limit=1000 succeeds"; else not_ok "walking points" "$(jv 'd["error"]' ppages.json)"; fi
equals "$(jv 'd["pages"]' ppages.json)" $(((n_points + 999) / 1000)) "$n_points points take ceil(n/1000) pages"
"$PY" - ppages.json pexport.json <<'PY' && ok "the point pages equal 'kpi export' (no point missing or repeated)" || not_ok "the point pages equal 'kpi export'"
import json, sys
pages = json.load(open(sys.argv[1]))["items"]
export = json.load(open(sys.argv[2]))
key = lambda p: json.dumps(p, sort_keys=True)
sys.exit(0 if sorted(map(key, pages)) == sorted(map(key, export)) and len(set(map(key, pages))) == len(pages) else 1)
PY
req GET '/api/v1/kpis/web_sessions/points?limit=1000'
expect 200 "a page of 1000 points with a cursor" "len(d['items']) == 1000 and isinstance(d['next_cursor'], str)"
req GET '/api/v1/kpis/web_sessions/points?dims=channel:paid&from=2026-01-01&to=2026-01-31'
expect 200 "points filtered by dims and dates" "len(d['items']) == 31 and all(p['dims'] == {'channel': 'paid'} for p in d['items'])"
req GET '/api/v1/kpis/web_sessions/points?limit=10001'
problem 422 "a points page over 10000: 422"

# --- KPI definitions: create, read, replace, patch, archive
section "KPI definitions"
send POST /api/v1/kpis '{"key": "itest_kpi", "name": "Integration", "granularity": "day", "unit": "EUR"}'
expect 201 "POST /api/v1/kpis creates" "d['key'] == 'itest_kpi' and d['unit'] == 'EUR' and d['granularity'] == 'day'"
equals "$(header Location)" "/api/v1/kpis/itest_kpi" "the created KPI's Location"
req GET /api/v1/kpis/itest_kpi
expect 200 "GET /api/v1/kpis/{key}" "d['name'] == 'Integration'"
"$KPI" show itest_kpi --json --db "$DB" >show.json 2>/dev/null
check "the API's definition equals 'kpi show --json'" jtrue "d == json.load(open('show.json'))"
send PUT /api/v1/kpis/itest_kpi '{"name": "Integration test", "granularity": "day"}'
expect 200 "PUT replaces a definition" "d['name'] == 'Integration test' and d['unit'] is None"
send PATCH /api/v1/kpis/itest_kpi '{"unit": "USD", "team": "qa"}'
expect 200 "PATCH changes only the fields it names" "d['unit'] == 'USD' and d['team'] == 'qa' and d['name'] == 'Integration test'"
send PATCH /api/v1/kpis/itest_kpi '{"key": "other"}'
problem 422 "PATCH cannot rename" "d['detail'].startswith('key:')"
send PATCH /api/v1/kpis/no_such_kpi '{"unit": "USD"}'
problem 404 "PATCH of an unknown KPI: 404"
send PUT /api/v1/kpis/itest_put '{"name": "Made by PUT", "granularity": "day"}'
expect 201 "PUT of a new key creates it (201)" "d['key'] == 'itest_put'"
req DELETE /api/v1/kpis/itest_put
expect 204 "DELETE /api/v1/kpis/{key} archives"
check "a 204 has no body" test -z "$BODY"
req GET /api/v1/kpis/itest_put
expect 200 "an archived KPI is still readable" "d['archived'] is True"
req GET '/api/v1/kpis?archived=true&limit=1000'
expect 200 "?archived=true lists archived KPIs" "'itest_put' in [k['key'] for k in d['items']]"
req GET '/api/v1/kpis?limit=1000'
expect 200 "the default list leaves archived KPIs out" "'itest_put' not in [k['key'] for k in d['items']]"
req GET '/api/v1/kpis?team=qa'
expect 200 "?team= filters" "[k['key'] for k in d['items']] == ['itest_kpi']"

# --- organisation
section "organisation"
req GET /api/v1/org
expect 200 "GET /api/v1/org" "d['name'] == 'Acme Analytics' and d['timezone'] == 'Europe/Berlin'"
send PUT /api/v1/org "$BODY"
expect 200 "PUT /api/v1/org with the same organisation" "d['timezone'] == 'Europe/Berlin'"
send PUT /api/v1/org '{"name": "Acme Analytics", "timezone": "Mars/Olympus", "fiscal_year_start": 1}'
problem 422 "an unknown time zone: 422 naming the field" "'timezone' in d['detail']"

# --- ingestion: JSON and CSV, counts, idempotent resend, unknown fields, whole-batch validation
section "ingestion"
send POST /api/v1/points '[{"kpi": "itest_kpi", "at": "2026-01-01", "value": 1},
  {"kpi": "itest_kpi", "at": "2026-01-02", "value": 2, "dims": {"region": "eu"}},
  {"kpi": "itest_kpi", "at": "2026-01-02T10:00:00Z", "value": 3}]'
expect 200 "POST /api/v1/points (JSON) answers counts" "d == {'rows': 3, 'written': 3}"
send POST /api/v1/kpis/itest_kpi/points '[{"at": "2026-01-03", "value": 4}, {"at": "2026-01-04", "value": 5}]'
expect 200 "POST /api/v1/kpis/{key}/points (JSON) without kpi fields" "d == {'rows': 2, 'written': 2}"
req POST /api/v1/points -H 'Content-Type: text/csv' --data-binary $'kpi,at,value,region\nitest_kpi,2026-01-05,6,eu\nitest_kpi,2026-01-06,7,\n'
expect 200 "POST /api/v1/points (CSV)" "d == {'rows': 2, 'written': 2}"
req POST /api/v1/kpis/itest_kpi/points -H 'Content-Type: text/csv; charset=utf-8' --data-binary $'at,value\n2026-01-07,8\n2026-01-08,9\n'
expect 200 "POST /api/v1/kpis/{key}/points (CSV)" "d == {'rows': 2, 'written': 2}"
equals "$(count_points itest_kpi)" 9 "the database holds the 9 points sent"
send POST /api/v1/kpis/itest_kpi/points '[{"at": "2026-01-03", "value": 40}, {"at": "2026-01-04", "value": 50}]'
expect 200 "the same batch again is accepted" "d['rows'] == 2"
equals "$(count_points itest_kpi)" 9 "a resent batch adds no point"
req GET '/api/v1/kpis/itest_kpi/points?from=2026-01-03&to=2026-01-04'
expect 200 "a resent batch replaces the values" "[p['value'] for p in d['items']] == [40, 50]"
send POST /api/v1/kpis/itest_kpi/points '[{"at": "2026-01-09", "value": 1, "colour": "red"}]'
problem 422 "an unknown field in a point: 422" "d['errors'][0]['index'] == 1 and d['errors'][0]['field'] == 'colour'"
send POST /api/v1/kpis/itest_kpi/points '[{"kpi": "mrr", "at": "2026-01-09", "value": 1}]'
problem 422 "a point of another KPI on a KPI's route: 422" "d['errors'][0]['field'] == 'kpi'"
send POST /api/v1/kpis/no_such_kpi/points '[{"at": "2026-01-09", "value": 1}]'
problem 404 "points for an unknown KPI: 404"
send POST /api/v1/points '[]'
expect 200 "an empty batch writes nothing" "d == {'rows': 0, 'written': 0}"
before=$(count_points itest_kpi)
send POST /api/v1/points '[{"kpi": "itest_kpi", "at": "2026-02-01", "value": 1},
  {"kpi": "itest_kpi", "at": "2026-02-02", "value": "lots"},
  {"kpi": "itest_kpi", "at": "2026-02-03", "value": 3},
  {"kpi": "itest_kpi", "at": "2026-02-30", "value": 4},
  {"kpi": "no_such_kpi", "at": "2026-02-05", "value": 5},
  {"kpi": "itest_kpi", "at": "2026-02-06", "value": 6}]'
problem 422 "a batch with 3 bad items: 422" "d['error_count'] == 3 and 'nothing was written' in d['detail']"
check "errors[] lists each bad item with index, field and reason" jtrue \
    "[(e['index'], e['field']) for e in d['errors']] == [(2, 'value'), (4, 'at'), (5, 'kpi')] and all(e['reason'] for e in d['errors'])"
equals "$(count_points itest_kpi)" "$before" "a rejected batch writes nothing (not even its good items)"
req POST /api/v1/kpis/itest_kpi/points -H 'Content-Type: text/csv' --data-binary $'at,value\n2026-03-01,1\n"2026-03-02,2\n2026-03-03,3\n'
problem 400 "CSV with an unterminated quote: 400 (malformed) with its line" "'line 3' in json.dumps(d) and d['errors'][0]['index'] == 3"
req POST /api/v1/kpis/itest_kpi/points -H 'Content-Type: text/csv' --data-binary $'at,value\n2026-03-01,1\n2026-03-02,2,9\n2026-03-03\n'
problem 422 "CSV with wrong column counts: 422 with line numbers" \
    "[e['index'] for e in d['errors']] == [3, 4] and all('column' in e['reason'] for e in d['errors'])"
req POST /api/v1/kpis/itest_kpi/points -H 'Content-Type: text/csv' --data-binary $'at,value\n2026-03-01,1\n2026-03-02,abc\n'
problem 422 "CSV with a bad value: 422 naming line and field" "d['errors'][0]['index'] == 3 and d['errors'][0]['field'] == 'value'"
equals "$(count_points itest_kpi)" "$before" "rejected CSV batches write nothing"

# --- the stage: an acknowledged batch waits in the stage until folded into its series; every read
# (through the API, or by another process opening the file) sees it at once
section "stage"
"$KPI" add staged --name Staged --granularity day --db "$DB" >/dev/null 2>&1 || not_ok "kpi add staged"
for i in 1 2 3; do
    send POST /api/v1/kpis/staged/points "[{\"at\": \"2026-04-0$i\", \"value\": $i}, {\"at\": \"2026-04-01\", \"value\": 1$i, \"dims\": {\"r\": \"x\"}}]"
    expect 200 "batch $i is acknowledged" "d == {'rows': 2, 'written': 2}"
    req GET '/api/v1/kpis/staged/points?limit=100'
    expect 200 "right after batch $i, the API reads every acknowledged point" \
        "sorted((p['at'][:10], p['value']) for p in d['items']) == sorted([('2026-04-0%d' % k, k) for k in range(1, $i + 1)] + [('2026-04-01', 1$i)])"
done
send POST /api/v1/kpis/staged/points '[{"at": "2026-04-04", "value": 4}]'
expect 200 "one more batch"
equals "$("$KPI" export --db "$DB" --kpi staged | tail -n +2 | cut -d, -f2,3 | sort | tr '\n' ' ')" \
    "2026-04-01,1 2026-04-01,13 2026-04-02,2 2026-04-03,3 2026-04-04,4 " "another process reads it at once (opening the file folds the stage)"
req GET /metrics
check "/metrics shows the points waiting in the stage" grep -q '^kpi_points_staged [0-9]' "$WORK/body"
# A second server on the same file reads what the first one staged, at once.
MAIN_BASE=$BASE
MAIN_PORT=$PORT
start_server second "$DB" --access-log off
SECOND_PID=$SRV_PID
SECOND_BASE=$BASE
for i in 5 6 7; do
    BASE=$MAIN_BASE
    send POST /api/v1/kpis/staged/points "[{\"at\": \"2026-04-0$i\", \"value\": $i}]"
    expect 200 "batch $i to the first server"
    BASE=$SECOND_BASE
    req GET "/api/v1/kpis/staged/points?from=2026-04-0$i&to=2026-04-0$i"
    expect 200 "the second server on the same file reads batch $i at once" "[p['value'] for p in d['items']] == [$i]"
done
BASE=$MAIN_BASE
PORT=$MAIN_PORT
stop_server "$SECOND_PID"
equals "$SRV_RC" 0 "the second server stops with exit 0"

# --- limits: body over --max-body, batch over --max-batch, huge bodies, the server stays healthy
section "limits"
head -c 2000001 /dev/zero | tr '\0' ' ' >over.bin
req POST /api/v1/points -H 'Content-Type: application/json' --data-binary @over.bin
problem 413 "a body over --max-body: 413" "'2000000' in d['detail']"
"$PY" -c 'import json; print(json.dumps([{"kpi": "itest_kpi", "at": "2025-%02d-%02d" % (1 + i // 28 % 12, 1 + i % 28), "value": i, "dims": {"n": str(i // 336)}} for i in range(2001)]))' >batch2001.json
req POST /api/v1/points -H 'Content-Type: application/json' --data-binary @batch2001.json
problem 413 "a batch over --max-batch: 413" "'2000' in d['detail']"
equals "$(count_points itest_kpi)" "$before" "a batch over the limit writes nothing"
head -c 40000000 /dev/zero | tr '\0' 'x' >huge.bin
t0=$(date +%s%N)
req POST /api/v1/points -H 'Content-Type: application/json' --data-binary @huge.bin
problem 413 "a 40 MB body: 413 ($(elapsed_ms "$t0") ms)"
req POST /api/v1/points -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @huge.bin
problem 413 "a 40 MB chunked body (no Content-Length): 413"
raw GET /healthz
expect 200 "the server is healthy after huge bodies"
rm -f huge.bin over.bin

# --- targets
section "targets"
TARGET='{"value": 50, "date": "2026-12-31", "baseline": 40, "baseline_date": "2026-01-01"}'
send POST /api/v1/kpis/itest_kpi/targets "$TARGET"
expect 201 "POST a target" "len(d) == 1 and d[0]['value'] == 50 and d[0]['date'] == '2026-12-31'"
equals "$(header Location)" "/api/v1/kpis/itest_kpi/targets/2026-12-31" "the target's Location"
send PUT /api/v1/kpis/itest_kpi/targets "[$TARGET, {\"value\": 60, \"date\": \"2027-12-31\", \"baseline\": 40, \"baseline_date\": \"2026-01-01\"}]"
expect 200 "PUT replaces the targets" "[t['date'] for t in d] == ['2026-12-31', '2027-12-31']"
req GET /api/v1/kpis/itest_kpi/targets
expect 200 "GET the targets" "len(d) == 2"
req DELETE /api/v1/kpis/itest_kpi/targets/2027-12-31
expect 204 "DELETE a target"
req DELETE /api/v1/kpis/itest_kpi/targets/2027-12-31
problem 404 "DELETE a target that is gone: 404"
req DELETE /api/v1/kpis/itest_kpi/targets/someday
problem 400 "DELETE a target with a bad date: 400"
send POST /api/v1/kpis/itest_kpi/targets '{"value": "high", "date": "2026-12-31", "baseline": 40, "baseline_date": "2026-01-01"}'
problem 422 "an invalid target: 422 naming the field" "d['detail'].startswith('value:')"
"$KPI" show itest_kpi --json --db "$DB" >show.json 2>/dev/null
equals "$(jv '[t["date"] for t in d["targets"]]' show.json)" '["2026-12-31"]' "the CLI sees the targets the API set"

# --- reviews and action items
section "reviews and action items"
send POST /api/v1/kpis/mrr/reviews '{"note": "on plan", "date": "2026-11-19", "actions": [{"text": "call the bank", "owner": "ana", "due": "2026-12-01"}]}'
expect 201 "POST a KPI review with an action" "d['kpi'] == 'mrr' and d['author'] == 'token:itest' and len(d['actions']) == 1"
ACTION=$(jv "d['actions'][0]['id']")
send POST /api/v1/reviews '{"team": "saas", "note": "fine"}'
expect 201 "POST a team review" "d['team'] == 'saas' and d['kpi'] is None"
send POST /api/v1/reviews '{"note": "no team"}'
problem 422 "a team review without team: 422" "d['detail'].startswith('team:')"
req GET /api/v1/kpis/mrr/reviews
expect 200 "GET a KPI's reviews" "[r['note'] for r in d['items']] == ['on plan']"
req GET '/api/v1/reviews?limit=1'
expect 200 "GET /api/v1/reviews pages" "len(d['items']) == 1 and d['next_cursor']"
req GET "/api/v1/reviews?limit=1&cursor=$(jv "d['next_cursor']")"
expect 200 "the next page of reviews" "len(d['items']) == 1 and d['next_cursor'] is None"
req GET /api/v1/actions
expect 200 "GET /api/v1/actions" "[a['text'] for a in d['items']] == ['call the bank'] and d['items'][0]['done'] is False"
send PATCH "/api/v1/actions/$ACTION" '{"done": true}'
expect 200 "PATCH an action done" "d['done'] is True and d['done_at']"
send PATCH /api/v1/actions/99999 '{"done": true}'
problem 404 "PATCH an unknown action: 404"
send PATCH /api/v1/actions/abc '{"done": true}'
problem 400 "PATCH an action with a bad id: 400"
req GET '/api/v1/actions?open=true'
expect 200 "?open=true leaves done actions out" "d['items'] == []"
send PATCH "/api/v1/actions/$ACTION" '{"done": false}'
expect 200 "PATCH an action not done reopens it" "d['done'] is False and d['done_at'] is None"
req GET '/api/v1/actions?open=true'
expect 200 "the reopened action is open again" "[a['text'] for a in d['items']] == ['call the bank']"
send PATCH "/api/v1/actions/$ACTION" '{"done": true}'
expect 200 "and it closes again" "d['done'] is True and d['done_at']"

# --- annotations
section "annotations"
send POST /api/v1/kpis/mrr/annotations '{"text": "price change", "date": "2026-11-01"}'
expect 201 "POST a KPI annotation" "d == {'id': d['id'], 'kpi': 'mrr', 'date': '2026-11-01', 'text': 'price change'}"
send POST /api/v1/annotations '{"text": "company offsite", "date": "2026-10-15"}'
expect 201 "POST an organisation annotation" "d['kpi'] is None"
req GET /api/v1/kpis/mrr/annotations
expect 200 "GET a KPI's annotations (its own and the organisation's)" \
    "[(a['kpi'], a['text']) for a in d['items']] == [(None, 'company offsite'), ('mrr', 'price change')]"
req GET '/api/v1/annotations?from=2026-10-01&to=2026-10-31'
expect 200 "GET /api/v1/annotations by dates" "[a['text'] for a in d['items']] == ['company offsite']"
req GET '/api/v1/annotations?from=2026-11-01&to=2026-10-01'
problem 422 "annotations with from after to: 422"

# --- reads and analysis
section "reads and analysis"
req GET "/api/v1/teams?as_of=$DAY"
expect 200 "GET /api/v1/teams" "{t['team'] for t in d} >= {'saas', 'finance'} and all('health' in t for t in d)"
req GET "/api/v1/kpis/mrr/forecast?horizon=6&as_of=$DAY"
expect 200 "GET forecast" "d['kpi'] == 'mrr' and len(d['rows']) == 6"
req GET '/api/v1/kpis/mrr/forecast?horizon=1000'
problem 422 "a forecast horizon out of range: 422" "d['detail'].startswith('horizon:')"
req GET "/api/v1/kpis/mrr/anomalies?as_of=$DAY"
expect 200 "GET anomalies" "d['kpi'] == 'mrr' and isinstance(d['anomalies'], list)"
req GET '/api/v1/kpis/web_sessions/drivers?from=2026-09&to=2026-10'
expect 200 "GET drivers" "d['kpi'] == 'web_sessions' and d['dim'] == 'channel' and d['segments']"
req GET '/api/v1/kpis/web_sessions/drivers?from=2026-09'
problem 400 "drivers without to: 400" "'to' in d['detail']"
req GET "/api/v1/kpis/mrr/correlations?as_of=$DAY"
expect 200 "GET correlations" "d['kpi'] == 'mrr' and d['pairs']"
req GET "/api/v1/insights?as_of=$DAY"
expect 200 "GET insights" "d['as_of'] == '$DAY' and d['summary']"

# --- equality with the CLI (parsed JSON: the CLI pretty-prints)
section "equality with the CLI"
for key in mrr web_sessions activation_rate nps itest_kpi; do
    for asof in "" "$DAY"; do
        q=${asof:+?as_of=$asof}
        opt=${asof:+--as-of $asof}
        req GET "/api/v1/kpis/$key/status$q"
        # shellcheck disable=SC2086
        "$KPI" status "$key" --json $opt --db "$DB" >cli.json 2>/dev/null
        check "GET /kpis/$key/status$q equals 'kpi status $key --json $opt'" jtrue "d == json.load(open('cli.json'))"
    done
    req GET "/api/v1/kpis/$key/series"
    "$KPI" series "$key" --json --db "$DB" >cli.json 2>/dev/null
    check "GET /kpis/$key/series equals 'kpi series $key --json'" jtrue "d == json.load(open('cli.json'))"
done
req GET '/api/v1/kpis/web_sessions/series?granularity=month&from=2025-01&to=2025-06&dims=channel:paid'
"$KPI" series web_sessions --json --granularity month --from 2025-01 --to 2025-06 --dim channel=paid --db "$DB" >cli.json 2>/dev/null
check "a filtered series equals the CLI's" jtrue "d == json.load(open('cli.json')) and len(d['rows']) == 6"
req GET /api/v1/scorecard
"$KPI" status --json --db "$DB" >cli.json 2>/dev/null
check "GET /scorecard equals 'kpi status --json'" jtrue "d == json.load(open('cli.json'))"
req GET "/api/v1/scorecard?as_of=$DAY&team=finance"
"$KPI" status --json --as-of $DAY --team finance --db "$DB" >cli.json 2>/dev/null
check "GET /scorecard?team=finance equals 'kpi status --team finance --json'" jtrue "d == json.load(open('cli.json'))"

# --- ETag: stable while nothing changes, 304 on If-None-Match, new after a write (API or CLI)
section "ETag"
"$KPI" add itest_etag --name "ETag probe" --granularity day --db "$DB" >/dev/null 2>&1
SC="/api/v1/scorecard?as_of=$DAY"
req GET "$SC"
etag1=$(header ETag)
req GET "$SC"
expect 200 "GET scorecard twice"
equals "$(header ETag)" "$etag1" "the same ETag twice"
check "the ETag is a quoted entity tag" grep -qE '^"[0-9a-f]+"$' <<<"$etag1"
equals "$(header Cache-Control)" "private, no-cache" "cached reads are private, no-cache"
req GET "$SC" -H "If-None-Match: $etag1"
check "If-None-Match with the current ETag: 304" test "$STATUS" = 304
check "a 304 has an empty body" test ! -s "$WORK/body"
equals "$(header ETag)" "$etag1" "a 304 repeats the ETag"
req GET "$SC" -H 'If-None-Match: "0000", '"$etag1"
check "If-None-Match with a list of tags: 304" test "$STATUS" = 304
send POST /api/v1/kpis/itest_etag/points '[{"at": "2026-11-19", "value": 123}]'
req GET "$SC" -H "If-None-Match: $etag1"
etag2=$(header ETag)
expect 200 "after a POST of points the old ETag no longer matches" "any(k['kpi'] == 'itest_etag' and k['value'] == 123 for k in d['kpis'])"
check "the ETag changed after an API write" test "$etag2" != "$etag1" -a -n "$etag2"
"$KPI" push itest_etag 456 --at 2026-11-19 --db "$DB" >/dev/null 2>&1 || not_ok "kpi push while the server runs"
req GET "$SC" -H "If-None-Match: $etag2"
etag3=$(header ETag)
expect 200 "after a CLI write on the database file the ETag no longer matches" \
    "any(k['kpi'] == 'itest_etag' and k['value'] == 456 for k in d['kpis'])"
check "the ETag changed after a CLI write" test "$etag3" != "$etag2" -a -n "$etag3"
req GET "/api/v1/kpis/itest_etag/status?as_of=$DAY"
expect 200 "a cached status sees the CLI write too" "d['value'] == 456"

# --- metrics: promtool, counts by route and status
section "metrics"
req GET /metrics
metrics_before=$BODY
expect 200 "GET /metrics"
contains "$(header Content-Type)" "text/plain; version=0.0.4" "/metrics is the Prometheus text format"
if command -v promtool >/dev/null; then
    if out=$(promtool check metrics <"$WORK/body" 2>&1); then ok "promtool check metrics"; else not_ok "promtool check metrics" "$out"; fi
else
    echo "# SKIP promtool check metrics: promtool not installed (Debian package prometheus)"
fi
counter() { # METRICS_TEXT ROUTE STATUS
    awk -v want="kpi_http_requests_total{route=\"$2\",status=\"$3\"}" '$1 == want { print $2; found = 1 } END { if (!found) print 0 }' <<<"$1"
}
for _ in 1 2 3 4 5 6 7; do raw GET /healthz; done
raw GET /api/v1/kpis
raw GET /api/v1/kpis
raw GET /nowhere
req GET /metrics
equals "$(($(counter "$BODY" healthz 200) - $(counter "$metrics_before" healthz 200)))" 7 "7 requests to /healthz add 7 to its counter"
equals "$(($(counter "$BODY" kpis_list 401) - $(counter "$metrics_before" kpis_list 401)))" 2 "2 unauthorised lists add 2 to kpis_list 401"
equals "$(($(counter "$BODY" unmatched 404) - $(counter "$metrics_before" unmatched 404)))" 1 "an unknown path counts as route unmatched, 404"
contains "$BODY" 'kpi_http_request_duration_seconds_bucket{route="healthz",le="+Inf"}' "latency histograms by route"
check "kpi_points_ingested_total counts ingested points" awk '$1 == "kpi_points_ingested_total" && $2 >= 12 { f = 1 } END { exit !f }' <<<"$BODY"

# --- access log: one JSON line per request
section "access log"
wait_lines() { # FILE N: waits (1 s at most) until FILE has N lines; prints the count
    local i
    for i in $(seq 1 100); do
        [ "$(wc -l <"$1")" -ge "$2" ] && break
        sleep 0.01
    done
    wc -l <"$1"
}
sleep 0.2 # lines of earlier requests are written after their answers
lines=$(wc -l <"$LOG")
raw GET /healthz
req GET /api/v1/kpis/no_such_kpi
send POST /api/v1/kpis '{"key": "mrr", "name": "Again"}'
equals "$(wait_lines "$LOG" $((lines + 3)))" $((lines + 3)) "3 requests add 3 access-log lines"
tail -3 "$LOG" >log3.txt
"$PY" - log3.txt <<'PY' && ok "access-log lines are JSON with method, path, status, bytes, duration_ms" || not_ok "access-log lines" "$(cat log3.txt)"
import json, sys
want = [("GET", "/healthz", 200), ("GET", "/api/v1/kpis/no_such_kpi", 404), ("POST", "/api/v1/kpis", 409)]
lines = [json.loads(l) for l in open(sys.argv[1])]
ok = [(l["method"], l["path"], l["status"]) for l in lines] == want
ok = ok and all(isinstance(l["bytes"], int) and l["bytes"] > 0 and isinstance(l["duration_ms"], (int, float)) and l["duration_ms"] >= 0 for l in lines)
ok = ok and lines[1]["principal"] == "token:itest" and lines[0]["principal"] == ""
sys.exit(0 if ok else 1)
PY
check "no access-log line is broken JSON" "$PY" -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1])]' "$LOG"

# --- hostile clients: byte-by-byte headers and connections stalled midway block nobody
section "hostile clients"
rm -f ready.flag
"$PY" "$CLIENTS" hostile 127.0.0.1 "$PORT" ready.flag 3 >hostile.json &
HOSTILE=$!
for _ in $(seq 1 500); do [ -e ready.flag ] && break; sleep 0.01; done
worst=0
for i in 1 2 3 4 5 6; do
    t=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code} %{time_total}' -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/kpis/mrr/status?as_of=$DAY")
    ms=$(awk '{ printf "%d", $2 * 1000 }' <<<"$t")
    [ "${t%% *}" = 200 ] || worst=99999
    [ "$ms" -gt "$worst" ] && worst=$ms
    sleep 0.3
done
check "with 13 slow or stalled clients, other requests answer quickly (slowest ${worst} ms)" test "$worst" -lt 1000
wait "$HOSTILE"
equals "$(jv 'd["trickle_status"]' hostile.json)" 200 "a request sent byte by byte is answered in the end"
raw GET /healthz
expect 200 "the server is healthy after the hostile clients"

# --- concurrency: 4 writers post overlapping batches to the same (kpi, dims, at)
section "concurrency"
"$KPI" add itest_conc --name "Concurrent" --granularity day --db "$DB" >/dev/null 2>&1
"$PY" - <<'PY'
import json
# every batch holds the same 200 (dims, at) keys; values encode writer w, round r and item i
for w in range(4):
    for r in range(10):
        items = [{"kpi": "itest_conc", "at": "2026-%02d-%02d" % (1 + i // 2 // 28, 1 + i // 2 % 28),
                  "value": w * 1000000 + r * 1000 + i, "dims": {"side": "ab"[i % 2]}} for i in range(200)]
        json.dump(items, open("conc_%d_%d.json" % (w, r), "w"))
PY
WRITERS=()
for w in 0 1 2 3; do
    (
        for r in $(seq 0 9); do
            curl -sS -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
                --data-binary "@conc_${w}_$r.json" "$BASE/api/v1/points" >>"conc_status_$w.txt"
        done
    ) &
    WRITERS+=($!)
done
wait "${WRITERS[@]}"
equals "$(cat conc_status_*.txt | sort | uniq -c | awk '{ print $1 " " $2 }')" "40 200" "40 concurrent batches all answered 200"
"$KPI" export --db "$DB" --kpi itest_conc --format json >conc.json
"$PY" - conc.json <<'PY' >conc_check.txt
import json, sys
pts = json.load(open(sys.argv[1]))
keys = [(json.dumps(p["dims"], sort_keys=True), p["at"]) for p in pts]
print("count", len(pts), "distinct", len(set(keys)))
ok_values = True
batches = set()
for p in pts:
    v = int(p["value"])
    w, r, i = v // 1000000, v // 1000 % 1000, v % 1000
    side = "ab"[i % 2]
    at = "2026-%02d-%02d" % (1 + i // 2 // 28, 1 + i // 2 % 28)
    if not (0 <= w < 4 and 0 <= r < 10 and p["dims"] == {"side": side} and p["at"] == at):
        ok_values = False
    batches.add((w, r))
print("values", "ok" if ok_values else "bad", "batches", len(batches))
PY
equals "$(head -1 conc_check.txt)" "count 200 distinct 200" "no point lost or duplicated by concurrent writers"
contains "$(cat conc_check.txt)" "values ok" "every stored value is one sent for that point"
contains "$(cat conc_check.txt)" "batches 1" "the final state is one whole batch (batches are atomic)"

# --- the main server stops cleanly; nothing was reported by the sanitizers
section "main server stop"
stop_server "$MAIN_PID"
equals "$SRV_RC" 0 "SIGTERM stops the main server with exit 0"
contains "$(cat "$WORK/main.err")" "kpi serve: stopped" "the server says it stopped"

# --- durability: kill -9 during ingestion; acknowledged batches are whole, others absent or whole
section "durability"
DDB=$WORK/dur.db
"$KPI" init --db "$DDB" >/dev/null 2>&1
"$KPI" add dur --name Durable --granularity day --db "$DDB" >/dev/null 2>&1
DTOKEN=$("$KPI" token create dur --db "$DDB" 2>/dev/null)
N_BATCH=150
BATCH_SIZE=400
BAD_BATCH=4
"$PY" - "$N_BATCH" "$BATCH_SIZE" "$BAD_BATCH" <<'PY'
import datetime, json, sys
n, size, bad = map(int, sys.argv[1:])
day0 = datetime.date(2000, 1, 1)
for b in range(n):
    items = [{"kpi": "dur", "at": str(day0 + datetime.timedelta(days=i)), "value": b * 10000 + i, "dims": {"batch": "b%d" % b}}
             for i in range(size)]
    if b == bad:
        items[size // 2]["value"] = "not a number"
    json.dump(items, open("dur_%d.json" % b, "w"))
PY
start_server dur "$DDB" --access-log off
DUR_PID=$SRV_PID
: >acked.txt
: >rejected.txt
(
    for b in $(seq 0 $((N_BATCH - 1))); do
        s=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $DTOKEN" -H 'Content-Type: application/json' \
            --data-binary "@dur_$b.json" "$BASE/api/v1/points" 2>/dev/null)
        case $s in 200) echo "$b" >>acked.txt ;; 422) echo "$b" >>rejected.txt ;; *) break ;; esac
    done
) &
LOOP=$!
for _ in $(seq 1 3000); do [ "$(wc -l <acked.txt)" -ge 15 ] && break; kill -0 "$LOOP" 2>/dev/null || break; sleep 0.01; done
kill -9 "$DUR_PID"
wait "$DUR_PID" 2>/dev/null
wait "$LOOP" 2>/dev/null
n_acked=$(wc -l <acked.txt)
echo "# kill -9 after $n_acked acknowledged batches of $N_BATCH"
check "the server was killed mid-way ($n_acked of $N_BATCH batches acknowledged)" test "$n_acked" -gt 0 -a "$n_acked" -lt $((N_BATCH - 1))
equals "$(cat rejected.txt)" "$BAD_BATCH" "the bad batch was answered 422"
equals "$(sqlite3 "$DDB" 'PRAGMA integrity_check')" "ok" "the database is intact after kill -9"
echo "# points left in the stage by the killed server: $(sqlite3 "$DDB" 'SELECT coalesce(sum(n), 0) FROM stage')"
start_server dur2 "$DDB" --access-log off
DUR_PID=$SRV_PID
check "the server restarts on the same database" test -n "$PORT"
TOKEN=$DTOKEN
"$KPI" export --db "$DDB" --kpi dur --format json >dur.json
"$PY" - dur.json acked.txt "$BATCH_SIZE" "$BAD_BATCH" <<'PY' >dur_check.txt
import collections, json, sys
pts = json.load(open(sys.argv[1]))
acked = {int(l) for l in open(sys.argv[2]) if l.strip()}
size, bad = int(sys.argv[3]), int(sys.argv[4])
count = collections.Counter(int(p["dims"]["batch"][1:]) for p in pts)
print("acked_missing", sorted(b for b in acked if count[b] != size))
print("partial", sorted(b for b, n in count.items() if n not in (0, size)))
print("bad_present", count[bad])
print("unacked_present", len([b for b in count if b not in acked]))
PY
sed 's/^/# /' dur_check.txt
contains "$(cat dur_check.txt)" "acked_missing []" "every acknowledged batch is fully present after kill -9"
contains "$(cat dur_check.txt)" "partial []" "no batch is partially present"
contains "$(cat dur_check.txt)" "bad_present 0" "the rejected batch is absent"
for b in $(head -3 acked.txt) $(tail -2 acked.txt); do
    req GET "/api/v1/kpis/dur/points?dims=batch:b$b&limit=1000"
    expect 200 "GET the points of acknowledged batch $b after the restart" \
        "len(d['items']) == $BATCH_SIZE and all(p['value'] == $b * 10000 + i for i, p in enumerate(d['items']))"
done
stop_server "$DUR_PID"
equals "$SRV_RC" 0 "the restarted server stops with exit 0"

# --- graceful shutdown: SIGTERM during a long request; that request still gets its 200
section "graceful shutdown"
GDB=$WORK/graceful.db
"$KPI" init --db "$GDB" >/dev/null 2>&1
"$KPI" add g --name Graceful --granularity day --db "$GDB" >/dev/null 2>&1
TOKEN=$("$KPI" token create g --db "$GDB" 2>/dev/null)
"$PY" -c '
import datetime, json
d0 = datetime.date(2000, 1, 1)
print(json.dumps([{"kpi": "g", "at": str(d0 + datetime.timedelta(days=i % 5000)), "value": i, "dims": {"s": "s%d" % (i // 5000)}} for i in range(50000)]))' >gbig.json
start_server graceful "$GDB"
G_PID=$SRV_PID
rm -f inflight.flag signalled.flag
"$PY" "$CLIENTS" shutdown 127.0.0.1 "$PORT" "$TOKEN" gbig.json inflight.flag signalled.flag >shutdown.json &
CLIENT=$!
for _ in $(seq 1 1000); do [ -e inflight.flag ] && break; sleep 0.01; done
kill -TERM "$G_PID"
touch signalled.flag
wait "$CLIENT"
head -c 300 shutdown.json | sed 's/^/# /'
echo
equals "$(jv 'd["post"]' shutdown.json)" 200 "a batch in flight at SIGTERM still gets its 200"
equals "$(jv 'json.loads(d["post_body"])' shutdown.json)" '{"rows": 50000, "written": 50000}' "it is written whole"
equals "$(jv 'd["readyz"]' shutdown.json)" 503 "/readyz answers 503 while the server shuts down"
stop_server "$G_PID" 0 # (signal 0: only waits for the exit)
equals "$SRV_RC" 0 "the server exits 0 after SIGTERM"
contains "$(cat "$WORK/graceful.err")" "SIGTERM received" "the server logs the SIGTERM"
equals "$(sqlite3 "$GDB" 'SELECT count(*) FROM stage')" 0 "a graceful stop leaves nothing in the stage"
start_server graceful2 "$GDB"
G_PID=$SRV_PID
raw GET /readyz
expect 200 "a later start on the same database is ready"
req GET '/api/v1/kpis/g/points?limit=10000&dims=s:s9'
expect 200 "the batch's points are there after the restart" "len(d['items']) == 5000"
equals "$(sqlite3 "$GDB" 'PRAGMA integrity_check')" "ok" "the database is intact after the graceful stop"
stop_server "$G_PID" INT
equals "$SRV_RC" 0 "SIGINT stops the server with exit 0"

# --- sanitizers and crashes: no server printed a sanitizer report
section "sanitizer reports"
if grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$WORK"/*.err >/dev/null 2>&1; then
    not_ok "no sanitizer report from the servers" "$(grep -hE -A5 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$WORK"/*.err | head -20)"
else
    ok "no sanitizer report from the servers"
fi

# --- route coverage
section "route coverage"
for r in "${ROUTES[@]}"; do
    if [ -z "${ROUTE_CHECK[$r]:-}" ]; then
        not_ok "route $r has a check in ROUTE_CHECK (a new route needs one)"
    elif [ -z "${ROUTE_HIT[$r]:-}" ]; then
        not_ok "route $r answered a success (${ROUTE_CHECK[$r]})"
    else
        ok "route $r answered a success (${ROUTE_CHECK[$r]})"
    fi
done
for r in "${!ROUTE_CHECK[@]}"; do
    [ -n "${ROUTE_SET[$r]:-}" ] || not_ok "ROUTE_CHECK names '$r', which kpi serve does not route"
done

finish
