#!/usr/bin/env bash
# Benchmark: reads over HTTP and the server's footprint, `kpi serve` against nginx serving the same
# response bodies as static files, in the same run (DESIGN.md section 6). Data: the data set of
# bench/scorecard.sh (1,000 KPIs, about 1.1 million points; its generator is taken from that script,
# so the two stay the same), judged as of AS_OF.
#
# Reads: wrk (WRK_ARGS, default -t2 -c32 -d10s) on GET /api/v1/kpis/KEY/status and on
# GET /api/v1/scorecard, against kpi serve (warmed: the first request of each fills its response
# cache) and against nginx (worker_processes 2, access_log off, the bodies kpi answered written as
# files at the same paths), ROUNDS rounds alternating the servers, the median kept; every wrk run
# must report no socket errors and no non-2xx answer.
# Footprint: a fresh kpi serve on that database, the scorecard requested 11 times (once, then 5 times
# 2 at once) and the status route once: VmHWM and VmRSS from /proc/PID/status; and the time from starting the server to its
# first 200 answer on /healthz, polled every 0.2 ms on a fresh connection (bench_http startup),
# STARTS times, the median kept, nginx measured the same way.
# Writes the sections "http read" and "serve footprint" of docs/BENCHMARKS.md.
#
# usage: bench/http-read.sh     (env KPI_BIN, HTTP_BIN: other binaries; ROUNDS, STARTS, WRK_ARGS, KEY)
set -euo pipefail
cd "$(dirname "$0")/.."
AS_OF=2026-11-23
DAYS=1095
ROUNDS=${ROUNDS:-5}
STARTS=${STARTS:-5}
WRK_ARGS=${WRK_ARGS:--t2 -c32 -d10s}
KEY=${KEY:-m_000}
KPI_BIN=${KPI_BIN:-build/src/cli/kpi}
HTTP_BIN=${HTTP_BIN:-build/bench/bench_http}
DATA=bench/out/scorecard # shared with bench/scorecard.sh (same generator, same stamp)
OUT=bench/out/http-read
mkdir -p "$DATA" "$OUT"
command -v sqlite3 >/dev/null || scripts/bootstrap
command -v wrk >/dev/null || scripts/bootstrap
[ -x /usr/sbin/nginx ] || scripts/bootstrap
if [ ! -x "$KPI_BIN" ] || [ ! -x "$HTTP_BIN" ]; then
    meson setup build --buildtype=release -Db_ndebug=false >/dev/null 2>&1 || true
    ninja -C build
fi

# Every service this script starts, and its temp dir, go away on exit whatever happens.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kpi-http-read.XXXXXX")
chmod 755 "$tmp" # nginx's workers run as an unprivileged user and read the bodies from here
kpi_pid=
nginx_pid=
stop() { # pid: SIGTERM, then SIGKILL after 10 s
    [ -n "$1" ] || return 0
    kill "$1" 2>/dev/null || return 0
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {
    stop "$kpi_pid"
    stop "$nginx_pid"
    rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_http() { # url status: waits (at most 30 s) until url answers status
    for _ in $(seq 300); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" = "$2" ] && return 0
        sleep 0.1
    done
    echo "no answer $2 from $1" >&2
    return 1
}
proc_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; } # pid field
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
mib() { echo "$1 / 1024" | bc -l | xargs printf '%.1f'; }

# ---- data (bench/scorecard.sh's) ----------------------------------------------------------------
awk '/^cat >"\$OUT\/gen.py.new" <<.PY.$/ { on = 1; next } on && /^PY$/ { exit } on' bench/scorecard.sh >"$DATA/gen.py.new"
[ -s "$DATA/gen.py.new" ] || { echo "cannot find the generator in bench/scorecard.sh" >&2; exit 1; }
mv "$DATA/gen.py.new" "$DATA/gen.py"
stamp=$(cat "$DATA/gen.py" <(echo "$AS_OF $DAYS") | md5sum | cut -d' ' -f1)
if [ ! -f "$DATA/points.csv" ] || [ "$(cat "$DATA/stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "generating the data set in $DATA"
    rm -f "$DATA/stamp"
    python3 "$DATA/gen.py" "$DATA" "$AS_OF" "$DAYS" >"$DATA/points.count"
    echo "$stamp" >"$DATA/stamp"
fi
POINTS=$(cat "$DATA/points.count")
N_KPIS=$(($(wc -l <"$DATA/kpis.csv") - 1))

db=$OUT/kpi.db
rm -f "$db" "$db-wal" "$db-shm"
"$KPI_BIN" --db "$db" init >/dev/null
"$KPI_BIN" --db "$db" apply "$DATA/kpis.yaml" >/dev/null
"$KPI_BIN" --db "$db" import --quiet "$DATA/points.csv"
kpi_count=$(sqlite3 "$db" 'SELECT (SELECT coalesce(sum(n), 0) FROM chunk) + (SELECT coalesce(sum(n), 0) FROM tail)')
if [ "$kpi_count" -ne "$POINTS" ]; then
    echo "kpi holds $kpi_count points, expected $POINTS" >&2
    exit 1
fi
token=$("$KPI_BIN" --db "$db" token create bench 2>/dev/null)
auth="Authorization: Bearer $token"
status_path="/api/v1/kpis/$KEY/status?as_of=$AS_OF"
scorecard_path="/api/v1/scorecard?as_of=$AS_OF"

start_kpi() { # starts kpi serve on a free port: sets kpi_pid, kpi_addr
    "$KPI_BIN" --db "$db" serve --listen 127.0.0.1:0 --access-log off 2>"$tmp/kpi-serve.log" &
    kpi_pid=$!
    kpi_addr=
    for _ in $(seq 300); do grep -q 'listening on' "$tmp/kpi-serve.log" && break; sleep 0.1; done
    kpi_addr=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$tmp/kpi-serve.log" | head -1 | sed 's|http://||')
    [ -n "$kpi_addr" ] || { cat "$tmp/kpi-serve.log" >&2; exit 1; }
    wait_http "http://$kpi_addr/readyz" 200
}

# ---- footprint: memory ------------------------------------------------------------------------
start_kpi
kpi_threads=$(grep -o '[0-9]* threads' "$tmp/kpi-serve.log" | head -1 | cut -d' ' -f1)
mem_idle_rss=$(proc_kib "$kpi_pid" VmRSS)
t0=$(date +%s.%N)
curl -sf -H "$auth" -o "$tmp/scorecard.json" "http://$kpi_addr$scorecard_path"
t1=$(date +%s.%N)
first_scorecard_ms=$(echo "($t1 - $t0) * 1000" | bc -l)
# Then 5 times 2 at once, on 2 connections, so that both worker threads answer some (each thread has
# its own database connection).
for _ in 1 2 3 4 5; do
    curl -sf -Z -H "$auth" -o /dev/null -o /dev/null "http://$kpi_addr$scorecard_path" "http://$kpi_addr$scorecard_path" \
        2>"$tmp/curl.err" || { cat "$tmp/curl.err" >&2; exit 1; } # (curl -Z draws its meter even with -s)
done
curl -sf -H "$auth" -o /dev/null "http://$kpi_addr$status_path"
mem_hwm=$(proc_kib "$kpi_pid" VmHWM)
mem_rss=$(proc_kib "$kpi_pid" VmRSS)
mem_anon=$(proc_kib "$kpi_pid" RssAnon)
mem_file=$(proc_kib "$kpi_pid" RssFile)
# Pss counts a page mapped twice in one process once (the per-thread connections each map the database).
mem_pss=$(awk '$1 == "Pss:" { print $2 }' "/proc/$kpi_pid/smaps_rollup")
mem_db_maps=$(awk -v db="$(realpath "$db")" '/^[0-9a-f]+-/ { on = ($6 == db) } on && $1 == "Rss:" { n++; s += $2 } END { printf "%d %d", n, s }' "/proc/$kpi_pid/smaps")
stop "$kpi_pid"
kpi_pid=
scorecard_kpis=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["kpis"]))' "$tmp/scorecard.json")
printf 'kpi serve memory: idle %s MiB; scorecard requested 11 times: VmHWM %s MiB, VmRSS %s MiB (anon %s, file %s; database mappings: %s KiB), PSS %s MiB (first scorecard %.0f ms)\n' \
    "$(mib "$mem_idle_rss")" "$(mib "$mem_hwm")" "$(mib "$mem_rss")" "$(mib "$mem_anon")" "$(mib "$mem_file")" "$mem_db_maps" \
    "$(mib "$mem_pss")" "$first_scorecard_ms"

# ---- reads ------------------------------------------------------------------------------------
start_kpi
# Warm both routes (the first request of each fills the response cache) and keep the bodies.
for p in "$status_path" "$scorecard_path"; do
    curl -sf -H "$auth" -o /dev/null "http://$kpi_addr$p"
done
mkdir -p "$tmp/www/api/v1/kpis/$KEY"
curl -sf -H "$auth" -D "$tmp/status.head" -o "$tmp/www/api/v1/kpis/$KEY/status" "http://$kpi_addr$status_path"
curl -sf -H "$auth" -o "$tmp/www/api/v1/scorecard" "http://$kpi_addr$scorecard_path"
grep -qi '^etag:' "$tmp/status.head" || { echo "the status route answered without an ETag (not cached?)" >&2; exit 1; }
printf '{"status":"ok"}' >"$tmp/www/healthz"
status_bytes=$(stat -c %s "$tmp/www/api/v1/kpis/$KEY/status")
scorecard_bytes=$(stat -c %s "$tmp/www/api/v1/scorecard")
chmod -R a+rX "$tmp/www"

# nginx: its own config in the temp dir, loopback only, 2 workers, no access log; tuned for small
# static files (open file cache, a listening socket per worker) so that it is a strong peer.
nginx_port=$(free_port)
mkdir -p "$tmp/nginx"
write_nginx_conf() { # port
    cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid 60s;
    default_type application/json;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server {
        listen 127.0.0.1:$1 reuseport;
        root $tmp/www;
    }
}
CONF
}
write_nginx_conf "$nginx_port"
nginx -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
nginx_pid=$!
wait_http "http://127.0.0.1:$nginx_port/healthz" 200
for p in "$status_path" "$scorecard_path"; do
    for s in "$kpi_addr" "127.0.0.1:$nginx_port"; do
        curl -sf -H "$auth" -o "$tmp/check.json" "http://$s$p"
        cmp -s "$tmp/check.json" "$tmp/www${p%%\?*}" || { echo "$s$p: the body differs from kpi's" >&2; exit 1; }
    done
done

# Runs wrk; prints "req_per_s p50_ms p99_ms". Fails on socket errors or non-2xx answers.
run_wrk() { # label url
    local out=$tmp/wrk-$1.txt
    # shellcheck disable=SC2086
    wrk $WRK_ARGS --latency -H "$auth" "$2" >"$out"
    cat "$out" >>"$OUT/wrk.log"
    if grep -q -e 'Non-2xx' -e 'Socket errors' "$out"; then
        echo "wrk $1: errors:" >&2
        cat "$out" >&2
        exit 1
    fi
    awk '
        function ms(s) { if (s ~ /us$/) return s / 1000; if (s ~ /ms$/) return s + 0; if (s ~ /s$/) return s * 1000; return s }
        /^Requests\/sec:/ { rps = $2 }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        END { print rps, p50, p99 }' "$out"
}

: >"$OUT/wrk.log"
for r in $(seq "$ROUNDS"); do
    for route in status scorecard; do
        path=${route}_path
        echo "round $r/$ROUNDS, $route: wrk $WRK_ARGS on kpi serve, then nginx ..."
        run_wrk "kpi-$route-$r" "http://$kpi_addr${!path}" >>"$tmp/kpi-$route.txt"
        run_wrk "nginx-$route-$r" "http://127.0.0.1:$nginx_port${!path}" >>"$tmp/nginx-$route.txt"
    done
done
after_hwm=$(proc_kib "$kpi_pid" VmHWM)
nginx_rss=0
for p in "$nginx_pid" $(pgrep -P "$nginx_pid" || true); do nginx_rss=$((nginx_rss + $(proc_kib "$p" VmRSS))); done
stop "$kpi_pid"
kpi_pid=
stop "$nginx_pid"
nginx_pid=

col() { awk -v c="$2" '{ print $c }' "$tmp/$1.txt" | median; } # file column: median over the rounds
ks=$(col kpi-status 1)
# The ratio of each round (its two runs are next to each other in time), the median kept: the machine's
# load drifts between rounds more than within one.
ratios() { paste -d' ' "$tmp/kpi-$1.txt" "$tmp/nginx-$1.txt" | awk '{ print $1 / $4 }'; }
ratio_s=$(ratios status | median)
ratio_c=$(ratios scorecard | median)
for f in kpi-status nginx-status kpi-scorecard nginx-scorecard; do
    printf '%-16s req/s %s   p50 %s ms   p99 %s ms   (rounds: %s)\n' "$f" "$(col "$f" 1)" "$(col "$f" 2)" "$(col "$f" 3)" \
        "$(awk '{ printf "%s ", $1 }' "$tmp/$f.txt")"
done
printf 'ratio kpi / nginx: status %.2f, scorecard %.2f\n' "$ratio_s" "$ratio_c"

# ---- footprint: startup -----------------------------------------------------------------------
startup() { # label: STARTS runs of bench_http startup on fresh ports; prints the median ms
    local port
    : >"$tmp/startup-$1.txt"
    for _ in $(seq "$STARTS"); do
        port=$(free_port)
        if [ "$1" = kpi ]; then
            set -- kpi "$KPI_BIN" --db "$db" serve --listen "127.0.0.1:$port" --access-log off
        else
            write_nginx_conf "$port"
            set -- nginx nginx -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf"
        fi
        "$HTTP_BIN" startup "127.0.0.1:$port" /healthz -o "$tmp/startup-$1.log" -- "${@:2}" >"$tmp/startup-run.txt"
        awk '$1 == "ms" { print $2 }' "$tmp/startup-run.txt" >>"$tmp/startup-$1.txt"
    done
    median <"$tmp/startup-$1.txt"
}
echo "startup: $STARTS times each ..."
kpi_start=$(startup kpi)
nginx_start=$(startup nginx)
kpi_starts=$(awk '{ printf "%s%.1f", (NR > 1 ? ", " : ""), $1 }' "$tmp/startup-kpi.txt")
nginx_starts=$(awk '{ printf "%s%.1f", (NR > 1 ? ", " : ""), $1 }' "$tmp/startup-nginx.txt")
kpi_self=$(grep -o 'ready in [0-9.]* ms' "$tmp/startup-kpi.log" | awk '{ print $3 }' | median)
start_ratio=$(echo "$kpi_start / $nginx_start" | bc -l)
printf 'startup to the first /healthz 200 (median of %d): kpi %.1f ms (%s), nginx %.1f ms (%s); kpi / nginx %.2f\n' \
    "$STARTS" "$kpi_start" "$kpi_starts" "$nginx_start" "$nginx_starts" "$start_ratio"

# ---- report -----------------------------------------------------------------------------------
met() { if [ "$(echo "$1" | bc -l)" -eq 1 ]; then echo "met"; else echo "**not met**"; fi; }
build_dir=${KPI_BIN%/src/cli/kpi}
buildtype=$(meson introspect "$build_dir" --buildoptions 2>/dev/null |
    python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))' 2>/dev/null || echo unknown)
nginx_version=$(nginx -v 2>&1 | sed 's|.*nginx/||')
wrk_version=$( (wrk -v 2>&1 || true) | awk 'NR == 1' | awk '{ print $2 }')
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
facts="$(date -u +%Y-%m-%d), $(nproc) cores ($cpu), kpi built $buildtype, nginx $nginx_version, wrk $wrk_version"
fmt() { printf "%.${2:-0}f" "$1"; }
row() { # file route server
    echo "| $2 | $3 | $(fmt "$(col "$1" 1)") | $(fmt "$(col "$1" 2)" 2) | $(fmt "$(col "$1" 3)" 2) | $(awk '{ printf "%s%.0f", (NR > 1 ? ", " : ""), $1 }' "$tmp/$1.txt") |"
}

section=$(
    cat <<MD
## http read

\`bench/http-read.sh\` — $facts.
Data: the data set of \`bench/scorecard.sh\` ($N_KPIS KPIs, $POINTS points), judged as of $AS_OF.
\`wrk $WRK_ARGS --latency\` (client and servers on the same $(nproc) cores), $ROUNDS rounds, each running kpi then nginx on a route, medians kept; no socket errors or non-2xx answers in any run.
kpi serve: $kpi_threads threads, \`--access-log off\`, the bearer token sent with every request, each route requested once before (the first request fills the response cache).
nginx: \`worker_processes 2\`, \`access_log off\`, sendfile, \`open_file_cache\`, \`listen ... reuseport\` (both worth about 30% on the status route here), keep-alive without a request limit, the bodies kpi answered ($status_bytes and $scorecard_bytes bytes) served as static files at the same paths.

| route | server | req/s | p50 ms | p99 ms | req/s per round |
| --- | --- | ---: | ---: | ---: | --- |
$(row kpi-status "\`GET /api/v1/kpis/$KEY/status\`" "kpi serve")
$(row nginx-status "" nginx)
$(row kpi-scorecard "\`GET /api/v1/scorecard\`" "kpi serve")
$(row nginx-scorecard "" nginx)

Ratio kpi / nginx (req/s, median of the per-round ratios): status **$(fmt "$ratio_s" 2)** (rounds: $(ratios status | awk '{ printf "%s%.2f", (NR > 1 ? ", " : ""), $1 }')), scorecard **$(fmt "$ratio_c" 2)** (rounds: $(ratios scorecard | awk '{ printf "%s%.2f", (NR > 1 ? ", " : ""), $1 }')).
Targets: status route at least 30,000 req/s — $(met "$ks >= 30000"); at least 50% of nginx — $(met "$ratio_s >= 0.5").
MD
)
bench/write-section "http read" "$section"

section=$(
    cat <<MD
## serve footprint

\`bench/http-read.sh\` — $facts.
Data: the data set of \`bench/scorecard.sh\` ($N_KPIS KPIs, $POINTS points, a $(($(stat -c %s "$db") / 1024 / 1024)) MiB database).

| | kpi serve | nginx |
| --- | ---: | ---: |
| RSS idle, after start | $(mib "$mem_idle_rss") MiB | |
| peak RSS (VmHWM), the scorecard requested 11 times (once, taking $(fmt "$first_scorecard_ms") ms, then 5 times 2 at once; $scorecard_kpis KPIs, $((scorecard_bytes / 1024)) KiB) and one status | $(mib "$mem_hwm") MiB | |
| RSS (VmRSS) then: anonymous / file-backed | $(mib "$mem_rss") MiB: $(mib "$mem_anon") / $(mib "$mem_file") MiB | |
| of which the database file mapped by the server (\`mmap_size\`), mappings: resident | ${mem_db_maps%% *}: $(mib "${mem_db_maps#* }") MiB | |
| PSS then (a page mapped twice counted once) | $(mib "$mem_pss") MiB | |
| peak RSS after the wrk runs above | $(mib "$after_hwm") MiB | $(mib "$nginx_rss") MiB (master and workers, VmRSS) |
| start to the first 200 on \`/healthz\`, median of $STARTS | $(fmt "$kpi_start" 1) ms | $(fmt "$nginx_start" 1) ms |
| the $STARTS starts (ms) | $kpi_starts | $nginx_starts |

Startup ratio kpi / nginx: **$(fmt "$start_ratio" 2)**; kpi's own "ready in" (database open to listening): $(fmt "$kpi_self" 1) ms (median).
Startup is timed by \`bench_http startup\`: from fork to the first 200 answer, polling a fresh connection every 0.2 ms; then SIGTERM.
Targets: peak RSS at most 64 MiB — $(met "$mem_hwm <= 65536"); startup at most 100 ms — $(met "$kpi_start <= 100").
$(if [ "${mem_db_maps#* }" -gt 1024 ]; then echo "Of the RSS after the scorecards, $(mib "$mem_anon") MiB is anonymous memory; $(mib "${mem_db_maps#* }") MiB is the database file mapped by SQLite (\`mmap_size\`) in ${mem_db_maps%% *} mappings, one per connection (the main thread's, opened at start to check the database and then idle, and one per worker thread that has answered a request), each counting the same page-cache pages again."; fi)
MD
)
bench/write-section "serve footprint" "$section"
