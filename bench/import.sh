#!/usr/bin/env bash
# Benchmark: bulk CSV import, kpi against the sqlite3 shell's own .import, in the same run on the
# same file (DESIGN.md section 6). Generates POINTS points (default 5,000,000) over 500 KPIs with one
# dimension, imports them with `kpi import`, then with `sqlite3 .import` into an equivalent table
# (same columns, same unique index, same journal settings), and writes the figures and their ratio
# to docs/BENCHMARKS.md (section "import").
#
# usage: bench/import.sh [POINTS]     (env KPI_BIN to use another binary)
set -euo pipefail
cd "$(dirname "$0")/.."
POINTS=${1:-5000000}
KPIS=500
REGIONS=4
KPI_BIN=${KPI_BIN:-build/src/cli/kpi}
OUT=bench/out
mkdir -p "$OUT"
command -v sqlite3 >/dev/null || scripts/bootstrap
[ -x "$KPI_BIN" ] || { meson setup build --buildtype=release -Db_ndebug=false >/dev/null 2>&1 || true; ninja -C build; }
[ -x /usr/bin/time ] || scripts/bootstrap

csv=$OUT/points.csv
# Time-major order, as a daily export would arrive: for each day, every KPI, every region.
if [ ! -f "$csv" ] || [ "$(($(wc -l <"$csv") - 1))" -ne "$POINTS" ]; then
    echo "generating $POINTS points in $csv"
    python3 - "$POINTS" "$KPIS" "$REGIONS" >"$csv" <<'PY'
import datetime, random, sys
n, kpis, regions = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
names = ["eu", "us", "apac", "latam"][:regions]
rng = random.Random(1)
out = sys.stdout
out.write("kpi,at,value,region\n")
i, day = 0, datetime.date(2020, 1, 1)
while i < n:
    date = day.isoformat()
    lines = []
    for k in range(kpis):
        for r in names:
            if i >= n:
                break
            lines.append("kpi_%03d,%s,%.2f,%s\n" % (k, date, 1000 + k + i * 1e-4 + rng.random() * 100, r))
            i += 1
    out.write("".join(lines))
    day += datetime.timedelta(days=1)
PY
fi
bytes=$(stat -c %s "$csv")

# kpi: a fresh database with the 500 KPIs defined.
db=$OUT/kpi.db
rm -f "$db" "$db-wal" "$db-shm"
"$KPI_BIN" --db "$db" init >/dev/null
for k in $(seq 0 $((KPIS - 1))); do
    "$KPI_BIN" --db "$db" add "$(printf 'kpi_%03d' "$k")" --name "KPI $k" >/dev/null
done

# Warm the page cache so both tools read the file from memory.
cat "$csv" >/dev/null

measure() { # label, command... ; prints "seconds max_rss_kib"
    local t0 t1 rss
    t0=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$OUT/rss.txt" "$@" >/dev/null
    t1=$(date +%s.%N)
    rss=$(tail -1 "$OUT/rss.txt")
    echo "$(echo "$t1 - $t0" | bc -l) $rss"
}

echo "kpi import ..."
read -r kpi_s kpi_rss < <(measure "$KPI_BIN" --db "$db" import --quiet "$csv")
kpi_count=$(sqlite3 "$db" 'SELECT (SELECT coalesce(sum(n), 0) FROM chunk) + (SELECT coalesce(sum(n), 0) FROM tail)')

sq=$OUT/sqlite3.db
rm -f "$sq" "$sq-wal" "$sq-shm"
sqlite3 "$sq" >/dev/null <<'SQL'
PRAGMA journal_mode = WAL;
CREATE TABLE point (kpi TEXT NOT NULL, at TEXT NOT NULL, value REAL NOT NULL, region TEXT NOT NULL);
CREATE UNIQUE INDEX point_key ON point (kpi, region, at);
SQL
echo "sqlite3 .import ..."
read -r sq_s sq_rss < <(measure sqlite3 -cmd 'PRAGMA journal_mode = WAL' -cmd 'PRAGMA synchronous = NORMAL' "$sq" ".import --csv --skip 1 $csv point")
sq_count=$(sqlite3 "$sq" 'SELECT count(*) FROM point')

if [ "$kpi_count" -ne "$POINTS" ] || [ "$sq_count" -ne "$POINTS" ]; then
    echo "row counts differ: kpi $kpi_count, sqlite3 $sq_count, expected $POINTS" >&2
    exit 1
fi

kpi_rate=$(echo "$POINTS / $kpi_s" | bc -l)
sq_rate=$(echo "$POINTS / $sq_s" | bc -l)
ratio=$(echo "$kpi_rate / $sq_rate" | bc -l)
kpi_mib=$(echo "$kpi_rss / 1024" | bc -l)
sq_mib=$(echo "$sq_rss / 1024" | bc -l)
printf 'kpi import:      %.2f s  %9.0f points/s  peak RSS %.1f MiB\n' "$kpi_s" "$kpi_rate" "$kpi_mib"
printf 'sqlite3 .import: %.2f s  %9.0f points/s  peak RSS %.1f MiB\n' "$sq_s" "$sq_rate" "$sq_mib"
printf 'ratio (kpi / sqlite3 rate): %.2f\n' "$ratio"

section=$(
    cat <<MD
## import

\`bench/import.sh $POINTS\` — $(date -u +%Y-%m-%d), $(nproc) cores, $(sqlite3 --version | cut -d' ' -f1-2 | sed 's/ .*//;s/^/sqlite3 /'), file of $POINTS points over $KPIS KPIs with one dimension ($((bytes / 1024 / 1024)) MiB, time-major order, page cache warm).

| tool | seconds | points/s | peak RSS |
| --- | ---: | ---: | ---: |
| \`kpi import\` | $(printf '%.2f' "$kpi_s") | $(printf '%.0f' "$kpi_rate") | $(printf '%.1f MiB' "$kpi_mib") |
| \`sqlite3 .import\` (same columns, same unique index, WAL, synchronous=NORMAL) | $(printf '%.2f' "$sq_s") | $(printf '%.0f' "$sq_rate") | $(printf '%.1f MiB' "$sq_mib") |

Ratio kpi / sqlite3 (rate): **$(printf '%.2f' "$ratio")**. Targets: at least 1,000,000 points/s, ratio at least 1.0, peak RSS under 64 MiB.
MD
)
bench/write-section import "$section"
