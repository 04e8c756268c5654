#!/usr/bin/env bash
# Benchmark: the full scorecard (status + trend + sparkline + health of every KPI), kpi in-process
# against the same scorecard as one SQL query in PostgreSQL, in the same run on the same data
# (DESIGN.md section 6, issue 3). Data: 1,000 KPIs (900 measured, 100 derived), one target each for
# the current year, 3 years of daily points ending AS_OF (120 KPIs with two dims: about 1.1 million
# points). kpi: bench_scorecard calls kpi_scorecard_build RUNS times (the first is the warm-up).
# PostgreSQL: a throwaway cluster in a temp dir (unix socket only), the same CSV loaded with COPY,
# the query run PG_RUNS times, best run kept. Writes the section "scorecard" of docs/BENCHMARKS.md.
#
# usage: bench/scorecard.sh        (env KPI_BIN, BENCH_BIN: other binaries; RUNS, PG_RUNS)
set -euo pipefail
cd "$(dirname "$0")/.."
AS_OF=2026-11-23
DAYS=1095
RUNS=${RUNS:-20}
PG_RUNS=${PG_RUNS:-5}
KPI_BIN=${KPI_BIN:-build/src/cli/kpi}
BENCH_BIN=${BENCH_BIN:-build/bench/bench_scorecard}
OUT=bench/out/scorecard
mkdir -p "$OUT"
command -v sqlite3 >/dev/null || scripts/bootstrap
if [ ! -x "$KPI_BIN" ] || [ ! -x "$BENCH_BIN" ]; then
    meson setup build --buildtype=release -Db_ndebug=false >/dev/null 2>&1 || true
    ninja -C build
fi

# ---- data -------------------------------------------------------------------------------------
# kpis.yaml (definitions and targets for kpi apply), kpis.csv and targets.csv (the same for
# PostgreSQL), points.csv (kpi,at,value,region; region empty for single-series KPIs).
cat >"$OUT/gen.py.new" <<'PY'
# Data set of bench/scorecard.sh (see there). usage: gen.py OUTDIR END_DATE DAYS
import datetime, math, random, sys

out, end_s, days = sys.argv[1], sys.argv[2], int(sys.argv[3])
end = datetime.date.fromisoformat(end_s)
start = end - datetime.timedelta(days=days - 1)
rng = random.Random(42)
N_MEASURED, N_DERIVED, N_TWO_DIMS, N_TEAMS = 900, 100, 120, 12
t0, t1 = datetime.date(end.year, 1, 1), datetime.date(end.year, 12, 31)
PERIOD_DAYS = {"day": 1, "week": 7, "month": 30.44}

kpis = []  # dicts
TWO_DIMS = set(random.Random(7).sample(range(N_MEASURED), N_TWO_DIMS))
for i in range(N_MEASURED):
    k = {"key": "m_%03d" % i, "formula": None}
    k["aggregation"] = rng.choices(["sum", "avg", "last"], [4, 3, 3])[0]
    k["direction"] = "range" if i % 20 == 7 else rng.choices(["up", "down"], [65, 35])[0]
    if k["direction"] == "range":
        k["aggregation"] = "avg"
    k["granularity"] = rng.choices(["day", "week", "month"], [15, 35, 50])[0]
    k["team"] = "team_%02d" % (i % N_TEAMS)
    k["parent"] = "m_%03d" % (i // 5) if i >= 5 and rng.random() < 0.6 else None
    k["weight"] = rng.choice([1, 1, 1, 0.5, 2])
    k["regions"] = ["eu", "us"] if i in TWO_DIMS else [""]
    k["base"] = rng.uniform(50, 5000)
    k["slope"] = rng.uniform(-0.15, 0.25)  # relative change per year
    k["noise"] = rng.uniform(0.02, 0.15)
    kpis.append(k)
measured = list(kpis)


def level(k, g, day):
    """Rough period value of measured KPI k at granularity g around day (for the targets)."""
    t = (day - start).days / 365.0
    per_point = k["base"] * (1 + k["slope"] * t)
    n = len(k["regions"])
    if k["aggregation"] == "sum":
        return per_point * n * PERIOD_DAYS[g]
    if k["aggregation"] == "last":
        return per_point * n
    return per_point


kinds = ["ratio", "diff", "growth", "delta", "sum_last", "mix"]
for i in range(N_DERIVED):
    kind = kinds[i % len(kinds)]
    a, b, c = rng.sample(measured, 3)
    g = rng.choice(["week", "month", "month"])
    la, lb, lc = (level(x, g, t0) for x in (a, b, c))
    if kind == "ratio":
        f, lv = "%s / %s" % (a["key"], b["key"]), la / lb
    elif kind == "diff":
        f, lv = "%s - %s" % (a["key"], b["key"]), la - lb
    elif kind == "growth":
        f, lv = "growth(%s)" % a["key"], 0.0
    elif kind == "delta":
        f, lv = "%s - prev(%s)" % (a["key"], a["key"]), 0.0
    elif kind == "sum_last":
        f, lv = "sum_last(%s, 3)" % a["key"], 3 * la
    else:
        f, lv = "(%s + %s) / %s * 100" % (a["key"], b["key"], c["key"]), (la + lb) / lc * 100
    agg = "sum" if kind in ("diff", "delta", "sum_last") else "avg"  # only pacing reads it
    kpis.append({"key": "d_%03d" % i, "formula": f, "aggregation": agg, "granularity": g,
                 "direction": rng.choices(["up", "down"], [70, 30])[0], "team": "team_%02d" % (i % N_TEAMS),
                 "parent": None, "weight": 1, "level": lv})

# One target per KPI covering the current year.
targets = []
for k in kpis:
    lv = k["level"] if k["formula"] else level(k, k["granularity"], t0)
    ambition = rng.uniform(0.0, 0.3)
    tgt = {"key": k["key"], "baseline": round(lv, 2), "baseline_date": t0, "date": t1,
           "value": None, "low": None, "high": None, "at_risk_pct": rng.choice([10, 10, 10, 5, 20])}
    if k["direction"] == "range":
        w = rng.uniform(0.05, 0.25)
        tgt["low"], tgt["high"] = round(lv * (1 - w), 2), round(lv * (1 + w), 2)
    elif abs(lv) < 1e-9:
        tgt["value"] = 2.0 if k["direction"] == "up" else -2.0
    else:
        s = 1 if k["direction"] == "up" else -1
        tgt["value"] = round(lv + s * abs(lv) * ambition, 2)
    targets.append(tgt)


def fmt(x):
    return "%.2f" % x


with open(out + "/kpis.yaml", "w") as y:
    y.write("kpis:\n")
    for k, t in zip(kpis, targets):
        y.write("  - key: %s\n    name: KPI %s\n    direction: %s\n    aggregation: %s\n    granularity: %s\n    team: %s\n"
                % (k["key"], k["key"], k["direction"], k["aggregation"], k["granularity"], k["team"]))
        if k["formula"]:
            y.write("    formula: %s\n" % k["formula"])
        if k["parent"]:
            y.write("    parent: %s\n    weight: %s\n" % (k["parent"], k["weight"]))
        y.write("    targets:\n      - {baseline: %s, baseline_date: %s, " % (fmt(t["baseline"]), t["baseline_date"]))
        if k["direction"] == "range":
            y.write("low: %s, high: %s, " % (fmt(t["low"]), fmt(t["high"])))
        else:
            y.write("value: %s, " % fmt(t["value"]))
        y.write("date: %s, at_risk_pct: %s}\n" % (t["date"], t["at_risk_pct"]))

with open(out + "/kpis.csv", "w") as f:
    f.write("key,formula,direction,aggregation,granularity,parent,weight,team\n")
    for k in kpis:
        f.write("%s,%s,%s,%s,%s,%s,%s,%s\n" % (k["key"], '"%s"' % k["formula"] if k["formula"] else "", k["direction"],
                                               k["aggregation"], k["granularity"], k["parent"] or "", k["weight"], k["team"]))

with open(out + "/targets.csv", "w") as f:
    f.write("key,baseline,baseline_date,value,date,low,high,at_risk_pct\n")
    for t in targets:
        f.write("%s,%s,%s,%s,%s,%s,%s,%s\n" % (t["key"], fmt(t["baseline"]), t["baseline_date"],
                                               "" if t["value"] is None else fmt(t["value"]), t["date"],
                                               "" if t["low"] is None else fmt(t["low"]),
                                               "" if t["high"] is None else fmt(t["high"]), t["at_risk_pct"]))

# Points, time-major: for each day, every measured KPI and region. "last" KPIs random-walk (a stock
# such as MRR); the others follow trend * weekly season * noise.
walk = {k["key"]: k["base"] for k in measured}
n = 0
with open(out + "/points.csv", "w") as f:
    f.write("kpi,at,value,region\n")
    for d in range(days):
        day = start + datetime.timedelta(days=d)
        date = day.isoformat()
        t = d / 365.0
        season = 1 + 0.08 * math.sin(2 * math.pi * day.weekday() / 7)
        lines = []
        for k in measured:
            if k["aggregation"] == "last":
                walk[k["key"]] *= 1 + k["slope"] / 365 + rng.gauss(0, k["noise"] / 20)
                mean = walk[k["key"]]
            else:
                mean = k["base"] * (1 + k["slope"] * t) * season
            for r in k["regions"]:
                v = max(0.0, mean * (1 + rng.gauss(0, k["noise"])) * (0.6 if r == "eu" else 0.4 if r == "us" else 1))
                lines.append("%s,%s,%.2f,%s\n" % (k["key"], date, v, r))
        n += len(lines)
        f.write("".join(lines))
print(n)
PY
mv "$OUT/gen.py.new" "$OUT/gen.py"
stamp=$(cat "$OUT/gen.py" <(echo "$AS_OF $DAYS") | md5sum | cut -d' ' -f1)
if [ ! -f "$OUT/points.csv" ] || [ "$(cat "$OUT/stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "generating the data set in $OUT"
    rm -f "$OUT/stamp"
    points=$(python3 "$OUT/gen.py" "$OUT" "$AS_OF" "$DAYS")
    echo "$points" >"$OUT/points.count"
    echo "$stamp" >"$OUT/stamp"
fi
POINTS=$(cat "$OUT/points.count")
N_KPIS=$(($(wc -l <"$OUT/kpis.csv") - 1))
N_MEASURED=$(awk -F, 'NR > 1 && $2 == ""' "$OUT/kpis.csv" | wc -l)
N_DERIVED=$((N_KPIS - N_MEASURED))
N_TWO=$(awk -F, 'NR > 1 && $4 != "" { print $1 }' "$OUT/points.csv" | sort -u | wc -l)

# ---- kpi --------------------------------------------------------------------------------------
db=$OUT/kpi.db
rm -f "$db" "$db-wal" "$db-shm"
"$KPI_BIN" --db "$db" init >/dev/null
if ! "$KPI_BIN" --db "$db" apply "$OUT/kpis.yaml" >"$OUT/apply.log" 2>&1; then
    # A kpi without `targets:` in definitions as code: apply the KPIs, then set each target.
    echo "kpi apply refused targets ($(head -1 "$OUT/apply.log")); using kpi target set"
    grep -v -e '^    targets:$' -e '^      - {baseline' "$OUT/kpis.yaml" >"$OUT/kpis-notargets.yaml"
    "$KPI_BIN" --db "$db" apply "$OUT/kpis-notargets.yaml" >/dev/null
    while IFS=, read -r key baseline baseline_date value date low high pct; do
        if [ -n "$value" ]; then
            "$KPI_BIN" --db "$db" target set "$key" --baseline "$baseline" --baseline-date "$baseline_date" \
                --value "$value" --date "$date" --at-risk-pct "$pct" >/dev/null
        else
            "$KPI_BIN" --db "$db" target set "$key" --baseline "$baseline" --baseline-date "$baseline_date" \
                --low "$low" --high "$high" --date "$date" --at-risk-pct "$pct" >/dev/null
        fi
    done < <(tail -n +2 "$OUT/targets.csv")
fi
echo "kpi import ($POINTS points) ..."
"$KPI_BIN" --db "$db" import --quiet "$OUT/points.csv"
kpi_count=$(sqlite3 "$db" 'SELECT (SELECT coalesce(sum(n), 0) FROM chunk) + (SELECT coalesce(sum(n), 0) FROM tail)')
if [ "$kpi_count" -ne "$POINTS" ]; then
    echo "kpi holds $kpi_count points, expected $POINTS" >&2
    exit 1
fi

echo "bench_scorecard ($RUNS runs, the first one the warm-up) ..."
"$BENCH_BIN" "$db" "$AS_OF" "$RUNS" >"$OUT/kpi.txt"
cat "$OUT/kpi.txt"
val() { awk -v k="$1" '$1 == k { print $2 }' "$OUT/kpi.txt"; }
kpi_min=$(val min_ms)
kpi_med=$(val median_ms)
kpi_max=$(val max_ms)
if [ "$(val kpis)" -ne "$N_KPIS" ] || [ "$(val errors)" -ne 0 ] || [ "$(val no_data)" -ne 0 ]; then
    echo "bench_scorecard did not judge every KPI: $(tr '\n' ' ' <"$OUT/kpi.txt")" >&2
    exit 1
fi
# kpi's own answer, to cross-check the SQL's rows (the JSON is checked, not the exit code).
"$KPI_BIN" --db "$db" status --json --as-of "$AS_OF" >"$OUT/kpi-status.json" ||
    echo "warning: kpi status --json exited with $?" >&2

# ---- PostgreSQL -------------------------------------------------------------------------------
pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
PGBIN=$(pg_bindir)
if [ -z "$PGBIN" ]; then
    echo "installing PostgreSQL (Debian package postgresql)"
    apt-get install -y postgresql >/dev/null
    PGBIN=$(pg_bindir)
fi
as_pg() { # runs the server and its tools as the postgres user when we are root
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pgtmp=$(mktemp -d /tmp/kpi-bench-pg.XXXXXX)
cleanup() {
    if [ -f "$pgtmp/data/postmaster.pid" ]; then
        as_pg "$PGBIN/pg_ctl" -D "$pgtmp/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$pgtmp"
}
trap cleanup EXIT
[ "$(id -u)" -ne 0 ] || chown postgres: "$pgtmp"
as_pg "$PGBIN/initdb" -D "$pgtmp/data" -U postgres --auth=trust -E UTF8 --locale=C >"$pgtmp/initdb.log"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Unix socket in the temp dir only; memory enough for the whole table and the query's hashes; no
# JIT (it compiled for 2.6 s per run of this query, which runs in about 2 s without it).
as_pg "$PGBIN/pg_ctl" -D "$pgtmp/data" -l "$pgtmp/server.log" -w \
    -o "-c listen_addresses='' -k $pgtmp -p $port -c shared_buffers=512MB -c work_mem=256MB -c jit=off -c fsync=off" start >/dev/null
psqlx() { as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$pgtmp" -p "$port" -U postgres -d postgres "$@"; }

echo "PostgreSQL load ..."
psqlx <<'SQL'
CREATE TABLE kpis (key text PRIMARY KEY, formula text, direction text NOT NULL, aggregation text NOT NULL,
                   granularity text NOT NULL, parent text, weight double precision NOT NULL, team text);
CREATE TABLE targets (key text NOT NULL, baseline double precision NOT NULL, baseline_date date NOT NULL,
                      value double precision, date date NOT NULL, low double precision, high double precision,
                      at_risk_pct double precision NOT NULL DEFAULT 10, PRIMARY KEY (key, date));
CREATE TABLE points (kpi text NOT NULL, at date NOT NULL, value double precision NOT NULL, dim text);
SQL
psqlx -c "COPY kpis FROM STDIN (FORMAT csv, HEADER)" <"$OUT/kpis.csv"
psqlx -c "COPY targets FROM STDIN (FORMAT csv, HEADER)" <"$OUT/targets.csv"
psqlx -c "COPY points FROM STDIN (FORMAT csv, HEADER)" <"$OUT/points.csv"
# The index a point store keys on, the table clustered on it (as kpi's chunks are per series).
psqlx -c "CREATE INDEX points_kpi_at ON points (kpi, at)" -c "CLUSTER points USING points_kpi_at" \
    -c "VACUUM ANALYZE"
pg_count=$(psqlx -At -c 'SELECT count(*) FROM points')
if [ "$pg_count" -ne "$POINTS" ]; then
    echo "PostgreSQL holds $pg_count points, expected $POINTS" >&2
    exit 1
fi

cat >"$OUT/scorecard.sql" <<'SQL'
-- The scorecard of bench/scorecard.sh in one query: every measured KPI judged as of :'as_of'
-- (docs/semantics.md, Targets / Status): period values per granularity (date_trunc, ISO weeks),
-- the judged period, the previous period and the same period a year before, the applicable target,
-- the expected value with clamping and pacing, status, progress, change, yoy, improving, streak,
-- stale, and the last 12 periods for the sparkline. Each period gets an ordinal (days, ISO weeks,
-- months, quarters or years) so the previous period, the streak and the lookups are hash joins and
-- per-KPI aggregates; a first version with LAG/DISTINCT ON windows over the sorted periods took
-- about twice as long on this data, so this one is kept.
WITH
k AS NOT MATERIALIZED (  -- measured KPIs with their current period
    SELECT key, direction, aggregation, granularity, (1 || ' ' || granularity)::interval AS step,
           date_trunc(granularity, :'as_of'::timestamp)::date AS cur_start
    FROM kpis WHERE formula IS NULL
),
b0 AS (  -- sum, count, min, max and first/last instants of every period with data
    SELECT p.kpi, date_trunc(k.granularity, p.at::timestamp)::date AS ps,
           sum(p.value) AS s, count(*) AS n, min(p.value) AS mn, max(p.value) AS mx,
           min(p.at) AS first_at, max(p.at) AS last_at
    FROM points p JOIN k ON k.key = p.kpi
    WHERE p.at <= :'as_of'::date
    GROUP BY p.kpi, 2
),
edge AS (  -- first/last: the sum of the values at the period's first/last instant (all dims)
    SELECT b.kpi, b.ps, e.v
    FROM b0 b JOIN k ON k.key = b.kpi
    CROSS JOIN LATERAL (
        SELECT sum(p.value) AS v FROM points p
        WHERE p.kpi = b.kpi AND p.at = CASE k.aggregation WHEN 'last' THEN b.last_at ELSE b.first_at END
    ) e
    WHERE k.aggregation IN ('first', 'last')
),
bucket AS (  -- the period value and the period's ordinal
    SELECT b.kpi, b.ps,
           CASE k.granularity
               WHEN 'day' THEN b.ps - DATE '2000-01-01'
               WHEN 'week' THEN (b.ps - DATE '2000-01-03') / 7
               WHEN 'month' THEN extract(year FROM b.ps)::int * 12 + extract(month FROM b.ps)::int
               WHEN 'quarter' THEN extract(year FROM b.ps)::int * 4 + extract(quarter FROM b.ps)::int
               ELSE extract(year FROM b.ps)::int
           END AS idx,
           CASE k.aggregation
               WHEN 'sum' THEN b.s WHEN 'avg' THEN b.s / b.n WHEN 'min' THEN b.mn WHEN 'max' THEN b.mx
               WHEN 'count' THEN b.n ELSE e.v
           END AS v
    FROM b0 b JOIN k ON k.key = b.kpi LEFT JOIN edge e ON e.kpi = b.kpi AND e.ps = b.ps
),
judged AS (  -- the latest period with data, and the first one
    SELECT kpi, max(idx) AS j_idx, min(idx) AS first_idx FROM bucket GROUP BY kpi
),
jt0 AS (  -- ... with its value, the previous period's and its last day te
    SELECT j.kpi, j.j_idx, j.first_idx, b.ps, b.v, pb.v AS v_prev, ((b.ps + k.step)::date - 1) AS te
    FROM judged j JOIN k ON k.key = j.kpi
    JOIN bucket b ON b.kpi = j.kpi AND b.idx = j.j_idx
    LEFT JOIN bucket pb ON pb.kpi = j.kpi AND pb.idx = j.j_idx - 1
),
jt AS (  -- ... and the applicable target: covering te (latest baseline, then ending first), else the
         -- latest past one (then latest baseline), else the earliest (then ending first)
    SELECT j.*, t.baseline AS b, t.baseline_date AS t0, t.value AS tv, t.date AS t1, t.low, t.high,
           coalesce(t.at_risk_pct, 10) AS pct, t.key IS NOT NULL AS has_target
    FROM jt0 j
    LEFT JOIN LATERAL (
        SELECT * FROM (
            SELECT t.*, CASE WHEN t.baseline_date <= j.te AND t.date >= j.te THEN 0 WHEN t.date < j.te THEN 1 ELSE 2 END AS cls
            FROM targets t WHERE t.key = j.kpi
        ) t
        ORDER BY cls,
                 CASE cls WHEN 0 THEN -(t.baseline_date - DATE '2000-01-01') WHEN 1 THEN -(t.date - DATE '2000-01-01')
                          ELSE t.baseline_date - DATE '2000-01-01' END,
                 CASE cls WHEN 1 THEN -(t.baseline_date - DATE '2000-01-01') ELSE t.date - DATE '2000-01-01' END
        LIMIT 1
    ) t ON true
),
streak AS (  -- trailing moves the bad way ending at the judged period: every period after the
             -- last one that is not a bad move (the first period, or one after a gap, is not)
    SELECT c.kpi, jt.j_idx - max(c.idx) FILTER (WHERE p.v IS NULL OR NOT CASE k.direction
               WHEN 'up' THEN c.v < p.v
               WHEN 'down' THEN c.v > p.v
               ELSE greatest(jt.low - c.v, c.v - jt.high, 0) > greatest(jt.low - p.v, p.v - jt.high, 0)
           END) AS streak
    FROM bucket c JOIN k ON k.key = c.kpi JOIN jt ON jt.kpi = c.kpi
    LEFT JOIN bucket p ON p.kpi = c.kpi AND p.idx = c.idx - 1
    WHERE k.direction <> 'range' OR jt.has_target
    GROUP BY c.kpi, jt.j_idx
),
spark AS (  -- the last 12 periods up to the current one (from the first with data), oldest first
    SELECT k.key AS kpi, array_agg(b.v ORDER BY g.ps) AS spark
    FROM k JOIN jt ON jt.kpi = k.key
    CROSS JOIN LATERAL (
        SELECT gs::date AS ps FROM generate_series(k.cur_start - 11 * k.step, k.cur_start::timestamp, k.step) gs
    ) g
    LEFT JOIN bucket b ON b.kpi = k.key AND b.ps = g.ps
    WHERE g.ps >= jt.ps - (jt.j_idx - jt.first_idx) * k.step
    GROUP BY k.key
),
calc AS (
    SELECT k.key, k.direction, k.aggregation, k.granularity, jt.*,
           coalesce(jt.ps = k.cur_start AND :'as_of'::date < jt.te AND k.aggregation IN ('sum', 'count')
                    AND k.direction <> 'range' AND jt.has_target, false) AS paced,
           (:'as_of'::date - jt.ps + 1)::float8 / (jt.te - jt.ps + 1) AS elapsed_frac,
           jt.b + (jt.tv - jt.b) * least(greatest((jt.te - jt.t0)::float8 / nullif(jt.t1 - jt.t0, 0), 0), 1) AS e0,
           jt.pct / 100 * CASE WHEN jt.tv = jt.b THEN abs(jt.tv) ELSE abs(jt.tv - jt.b) END AS tol,
           greatest(jt.low - jt.v, jt.v - jt.high, 0) AS dist,
           jt.pct / 100 * CASE WHEN jt.low = jt.high THEN abs(jt.high) ELSE jt.high - jt.low END AS margin,
           yb.v AS v_yoy,
           lb.kpi IS NULL AS stale
    FROM k LEFT JOIN jt ON jt.kpi = k.key
    LEFT JOIN bucket yb ON yb.kpi = k.key AND yb.ps = date_trunc(k.granularity, jt.ps - interval '1 year')::date
    LEFT JOIN bucket lb ON lb.kpi = k.key AND lb.ps = (k.cur_start - k.step)::date
),
judge AS (
    SELECT c.*, CASE WHEN c.paced THEN c.e0 * c.elapsed_frac ELSE c.e0 END AS e
    FROM calc c
)
SELECT j.key AS kpi,
       CASE j.granularity
           WHEN 'day' THEN to_char(j.ps, 'YYYY-MM-DD')
           WHEN 'week' THEN to_char(j.ps, 'IYYY-"W"IW')
           WHEN 'month' THEN to_char(j.ps, 'YYYY-MM')
           WHEN 'quarter' THEN to_char(j.ps, 'YYYY-"Q"Q')
           ELSE to_char(j.ps, 'YYYY') END AS period,
       j.v AS value,
       CASE WHEN j.direction <> 'range' AND j.has_target THEN j.e END AS expected,
       CASE WHEN j.direction <> 'range' THEN j.tv END AS target,
       j.low, j.high,
       CASE WHEN j.direction <> 'range' AND j.tv <> j.b THEN (j.v - j.b) / (j.tv - j.b) * 100 END AS progress,
       CASE
           WHEN j.ps IS NULL THEN 'no_data'
           WHEN NOT j.has_target THEN 'no_target'
           WHEN j.direction = 'range' THEN
               CASE WHEN j.dist = 0 THEN 'on_track' WHEN j.dist <= j.margin THEN 'at_risk' ELSE 'off_track' END
           WHEN j.direction = 'up' THEN
               CASE WHEN j.v >= j.e THEN 'on_track' WHEN j.v >= j.e - j.tol THEN 'at_risk' ELSE 'off_track' END
           ELSE
               CASE WHEN j.v <= j.e THEN 'on_track' WHEN j.v <= j.e + j.tol THEN 'at_risk' ELSE 'off_track' END
       END AS status,
       j.paced, j.stale,
       j.v - j.v_prev AS change_abs,
       (j.v - j.v_prev) / nullif(abs(j.v_prev), 0) * 100 AS change_pct,
       (j.v - j.v_yoy) / nullif(abs(j.v_yoy), 0) * 100 AS yoy_pct,
       CASE j.direction
           WHEN 'up' THEN j.v - j.v_prev > 0
           WHEN 'down' THEN j.v - j.v_prev < 0
           ELSE CASE WHEN j.has_target AND j.v_prev IS NOT NULL
                     THEN j.dist < greatest(j.low - j.v_prev, j.v_prev - j.high, 0) END
       END AS improving,
       coalesce(st.streak, 0) AS streak,
       sp.spark
FROM judge j
LEFT JOIN streak st ON st.kpi = j.key
LEFT JOIN spark sp ON sp.kpi = j.key
ORDER BY j.key
SQL
cp "$OUT/scorecard.sql" "$pgtmp/scorecard.sql"
chmod a+r "$pgtmp/scorecard.sql"

echo "PostgreSQL scorecard query ($PG_RUNS runs after one checked run) ..."
# The checked run writes the rows; the timed runs discard them (psql's \timing: sent to received).
psqlx -v as_of="$AS_OF" -c '\pset format csv' -c '\pset footer off' -f "$pgtmp/scorecard.sql" >"$OUT/pg-scorecard.csv"
pg_rows=$(($(wc -l <"$OUT/pg-scorecard.csv") - 1))
{
    echo '\timing on'
    echo '\o /dev/null'
    for _ in $(seq "$PG_RUNS"); do echo "\\i $pgtmp/scorecard.sql"; done
} | psqlx -v as_of="$AS_OF" >"$OUT/pg-timing.txt"
cat "$OUT/pg-timing.txt"
pg_best=$(awk '/^Time:/ { print $2 }' "$OUT/pg-timing.txt" | sort -g | head -1)
pg_max=$(awk '/^Time:/ { print $2 }' "$OUT/pg-timing.txt" | sort -g | tail -1)
pg_med=$(awk '/^Time:/ { print $2 }' "$OUT/pg-timing.txt" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
if [ "$pg_rows" -ne "$N_MEASURED" ]; then
    echo "the SQL scorecard has $pg_rows rows, expected $N_MEASURED (one per measured KPI)" >&2
    exit 1
fi
pg_version=$(psqlx -At -c 'SHOW server_version' | cut -d' ' -f1)

# Cross-check: the SQL rows against `kpi status --json` for the measured KPIs.
agree=$(python3 - "$OUT/pg-scorecard.csv" "$OUT/kpi-status.json" <<'PY'
import csv, json, math, sys
kpi = {k["kpi"]: k for k in json.load(open(sys.argv[2]))["kpis"]}
def num(s):
    return None if s in ("", None) else float(s)
def same(a, b):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
ok, bad = 0, []
for r in csv.DictReader(open(sys.argv[1])):
    k = kpi[r["kpi"]]
    spark = [None if x == "NULL" else float(x) for x in r["spark"].strip("{}").split(",")] if r["spark"] else []
    checks = {
        "period": r["period"] == k["period"], "status": r["status"] == k["status"],
        "stale": (r["stale"] == "t") == k["stale"], "streak": int(r["streak"]) == k["streak"],
        "improving": (None if r["improving"] == "" else r["improving"] == "t") == k["improving"],
        "sparkline": len(spark) == len(k["sparkline"]) and all(same(a, b) for a, b in zip(spark, k["sparkline"])),
    }
    for f in ("value", "expected", "target", "low", "high", "progress", "change_abs", "change_pct", "yoy_pct"):
        checks[f] = same(num(r[f]), k[f])
    wrong = [f for f, good in checks.items() if not good]
    if wrong:
        bad.append("%s: %s" % (r["kpi"], ", ".join(wrong)))
    else:
        ok += 1
for b in bad[:10]:
    print(b, file=sys.stderr)
print(ok)
PY
)

ratio=$(echo "$pg_best / $kpi_med" | bc -l)
ratio_min=$(echo "$pg_best / $kpi_min" | bc -l)
met() { if [ "$(echo "$1" | bc -l)" -eq 1 ]; then echo "met"; else echo "**not met**"; fi; }
t_time=$(met "$kpi_med <= 50")
t_ratio=$(met "$ratio >= 10")
build_dir=${BENCH_BIN%/bench/bench_scorecard}
buildtype=$(meson introspect "$build_dir" --buildoptions 2>/dev/null |
    python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))' 2>/dev/null || echo unknown)
printf 'kpi scorecard:        min %.1f ms  median %.1f ms  max %.1f ms\n' "$kpi_min" "$kpi_med" "$kpi_max"
printf 'PostgreSQL scorecard: best %.1f ms  median %.1f ms  (%d rows; %d of %d agree with kpi status)\n' \
    "$pg_best" "$pg_med" "$pg_rows" "$agree" "$N_MEASURED"
printf 'ratio (PostgreSQL best / kpi median): %.2f  (best / best: %.2f)\n' "$ratio" "$ratio_min"

section=$(
    cat <<MD
## scorecard

\`bench/scorecard.sh\` — $(date -u +%Y-%m-%d), $(nproc) cores, $(sqlite3 --version | cut -d' ' -f1 | sed 's/^/sqlite3 /'), $(psqlx -At -c 'SELECT version()' | cut -d' ' -f1-2), kpi built $buildtype.
Data: $N_KPIS KPIs ($N_MEASURED measured: sum/avg/last, up/down/range, daily/weekly/monthly, a cascade and 12 teams; $N_DERIVED derived: ratios, differences, \`growth()\`, \`prev()\`, \`sum_last(x, 3)\`, mixed), one target each for the current year, $POINTS points ($DAYS daily points per measured KPI ending $AS_OF, $N_TWO of them with two dims), judged as of $AS_OF.

| | warm runs | best ms | median ms | worst ms |
| --- | ---: | ---: | ---: | ---: |
| kpi: \`kpi_scorecard_build\` in-process (status, trend, sparkline, health of all $N_KPIS KPIs) | $((RUNS - 1)) | $(printf '%.1f' "$kpi_min") | $(printf '%.1f' "$kpi_med") | $(printf '%.1f' "$kpi_max") |
| PostgreSQL $pg_version: one SQL query ($N_MEASURED measured KPIs) | $PG_RUNS | $(printf '%.1f' "$pg_best") | $(printf '%.1f' "$pg_med") | $(printf '%.1f' "$pg_max") |

Ratio PostgreSQL best / kpi median: **$(printf '%.2f' "$ratio")** (best / best: $(printf '%.2f' "$ratio_min")).
Targets: kpi median at most 50 ms — $t_time; ratio at least 10 — $t_ratio.

The SQL (in \`bench/scorecard.sh\`) buckets periods with \`date_trunc\` (ISO weeks), aggregates
per KPI (first/last sum the values at their instant, as kpi does), and computes the judged period,
the adjacent previous period and the same period a year before, the applicable target, the expected
value with clamping and pacing, status, progress, change, year-over-year, improving, streak, stale and
the last 12 periods; its rows agree with \`kpi status --json\` on all of these for $agree of $N_MEASURED
measured KPIs. It leaves out the $N_DERIVED derived KPIs (a formula language is impractical in SQL)
and the health roll-up over the cascade and teams, which kpi's time includes: the ratio is conservative.
PostgreSQL runs with shared_buffers 512MB, work_mem 256MB and JIT off, the points indexed and
clustered on (kpi, at) and analysed; the query joins on period ordinals rather than LAG windows (the
window form was about twice as slow); timed by psql (query sent to rows received, output discarded).
MD
)
bench/write-section scorecard "$section"
