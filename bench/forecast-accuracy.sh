#!/usr/bin/env bash
# Benchmark: kpi's forecasts (include/kpi/forecast.h) against R's forecast::ets, forecast::auto.arima
# and prophet, in the same run on the same data (issue 4, "Accuracy, judged against real peers").
# Accuracy: real series shipped with R (AirPassengers, USAccDeaths, UKgas, nottem, co2, ldeaths
# from datasets; wineind, gas from forecast); the last 2 seasons held out; every method fitted with
# its defaults on the rest (prophet: default settings, interval.width 0.95, ds the first day of the
# ts's month or quarter); MASE (scaled by the in-sample seasonal naive MAE), sMAPE and 95% interval
# coverage per series and overall (mean over series). The R side is bench/forecast-accuracy.R.
# Speed: SPEED_N (1,000) deterministic 60-point monthly series (4 shapes of trend + season + noise)
# written to one CSV, fitted and forecast 12 steps by bench_forecast --time and by
# forecast(ets(y), h = 12) in R, both pinned to one core with taskset. SPEED_R_N (default SPEED_N)
# series for R: fewer gives a quicker run, the R time then extrapolated (and the section says so).
# Writes the sections "forecast accuracy" and "forecast speed" of docs/BENCHMARKS.md.
#
# usage: bench/forecast-accuracy.sh     (env BENCH_BIN, SPEED_N, SPEED_R_N)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_BIN=${BENCH_BIN:-build/bench/bench_forecast}
SPEED_N=${SPEED_N:-1000}
SPEED_R_N=${SPEED_R_N:-$SPEED_N}
OUT=bench/out/forecast
mkdir -p "$OUT"
if [ ! -x "$BENCH_BIN" ] || [ bench/forecast.c -nt "$BENCH_BIN" ]; then
    [ -d build ] || meson setup build --buildtype=release -Db_ndebug=false >/dev/null
    ninja -C build bench/bench_forecast
fi
pkgs=(r-base-core r-cran-forecast r-cran-prophet)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} (Debian packages)"
    apt-get install -y --no-install-recommends "${missing[@]}" >"$OUT/apt.log" 2>&1 ||
        { apt-get update >>"$OUT/apt.log" 2>&1 && apt-get install -y --no-install-recommends "${missing[@]}" >>"$OUT/apt.log" 2>&1; }
fi
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)

# ---- accuracy ---------------------------------------------------------------------------------
echo "accuracy: kpi, ets, auto.arima, prophet on 8 R series ..."
rm -f "$OUT/accuracy.txt" "$OUT/accuracy.md"
Rscript bench/forecast-accuracy.R accuracy "$OUT" "$BENCH_BIN" 2>"$OUT/accuracy-r.log"
val() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
A=$OUT/accuracy.txt
kpi_mase=$(val kpi_mase "$A")
ets_mase=$(val ets_mase "$A")
arima_mase=$(val arima_mase "$A")
prophet_mase=$(val prophet_mase "$A")
kpi_cover=$(val kpi_cover "$A")
n_series=$(val n_series "$A")
n_prophet=$(val n_prophet "$A")
ratio=$(echo "$kpi_mase / $ets_mase" | bc -l)
met() { if [ "$(echo "$1" | bc -l)" -eq 1 ]; then echo "met"; else echo "**not met**"; fi; }
t_ratio=$(met "$ratio <= 1.0")
if [ "$n_prophet" -eq "$n_series" ]; then
    t_prophet=$(met "$kpi_mase < $prophet_mase")
    prophet_line="prophet fitted all $n_series series."
else
    t_prophet="$(met "$kpi_mase < $(val prophet_mase_ok "$A")") (on the $n_prophet series prophet fitted; kpi there: $(printf '%.3f' "$(val kpi_mase_on_prophet_series "$A")"))"
    prophet_line="prophet failed on $((n_series - n_prophet)) series (NA above): $(tr '\n' ';' <"$OUT/prophet-failures.txt")"
fi
t_cover=$(met "$kpi_cover >= 90 && $kpi_cover <= 98")
printf 'overall MASE: kpi %.3f  ets %.3f  auto.arima %.3f  prophet %s; kpi/ets %.3f; kpi 95%% coverage %.1f%%\n' \
    "$kpi_mase" "$ets_mase" "$arima_mase" "$prophet_mase" "$ratio" "$kpi_cover"

section=$(
    cat <<MD
## forecast accuracy

\`bench/forecast-accuracy.sh\` — $(date -u +%Y-%m-%d), R $(val r_version "$A"), forecast $(val forecast_version "$A"), prophet $(val prophet_version "$A") (Debian packages).
Series shipped with R ($n_series: monthly and quarterly, from \`datasets\` and \`forecast\`); the last 2 seasons held out, each
method fitted with its defaults on the rest in the same run: kpi (\`kpi_forecast_fit\`, season = frequency),
\`forecast::ets\`, \`forecast::auto.arima\`, \`prophet\` (default settings, interval.width 0.95, dates the first day of each
month or quarter). MASE is scaled by the in-sample seasonal naive MAE; sMAPE in %; overall = mean over series.

$(cat "$OUT/accuracy.md")

Ratio kpi MASE / ets MASE: **$(printf '%.3f' "$ratio")**. $prophet_line
Targets: ratio ≤ 1.0 — $t_ratio; MASE better than prophet — $t_prophet; kpi 95% coverage within 90–98% ($(printf '%.1f' "$kpi_cover")%) — $t_cover.
Coverage is over 8 series of 8–24 held-out points each, so it moves in steps of a few points.
MD
)
bench/write-section "forecast accuracy" "$section"

# ---- speed ------------------------------------------------------------------------------------
echo "speed: $SPEED_N series of 60 monthly points ..."
Rscript bench/forecast-accuracy.R gen "$OUT" "$SPEED_N"
"${pin[@]}" "$BENCH_BIN" --time "$SPEED_N" "$OUT/speed.csv" >"$OUT/speed-kpi.txt"
cat "$OUT/speed-kpi.txt"
[ "$(val errors "$OUT/speed-kpi.txt")" -eq 0 ] || { echo "bench_forecast failed on some series" >&2; exit 1; }
kpi_s=$(val seconds "$OUT/speed-kpi.txt")
echo "R forecast(ets(y), h = 12) on $SPEED_R_N series ..."
"${pin[@]}" Rscript bench/forecast-accuracy.R speed "$OUT" "$SPEED_R_N" >"$OUT/speed-r.txt" 2>"$OUT/speed-r.log"
cat "$OUT/speed-r.txt"
r_meas=$(val seconds "$OUT/speed-r.txt")
r_s=$(echo "$r_meas * $SPEED_N / $SPEED_R_N" | bc -l)
if [ "$SPEED_R_N" -eq "$SPEED_N" ]; then
    r_note="all $SPEED_N series"
else
    r_note="timed on the first $SPEED_R_N series ($(printf '%.2f' "$r_meas") s) and scaled to $SPEED_N"
fi
speed_ratio=$(echo "$r_s / $kpi_s" | bc -l)
t_speed=$(met "$kpi_s <= 2")
printf 'speed: kpi %.2f s, R ets %.1f s (%s), ratio %.0f\n' "$kpi_s" "$r_s" "$r_note" "$speed_ratio"
buildtype=$(meson introspect "${BENCH_BIN%/bench/bench_forecast}" --buildoptions 2>/dev/null |
    python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))' 2>/dev/null || echo unknown)
section=$(
    cat <<MD
## forecast speed

\`bench/forecast-accuracy.sh\` — $(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), one core (\`taskset -c 0\`), kpi built $buildtype, R $(val r_version "$A"), forecast $(val forecast_version "$A").
Data: $SPEED_N deterministic monthly series of 60 points (additive and multiplicative season with trend, a stochastic
level with season, a damped trend without season), one CSV read by both. Each series fitted (model selection
included) and forecast 12 steps with 80/95% intervals.

| | series | seconds |
| --- | ---: | ---: |
| kpi: \`bench_forecast --time\` (\`kpi_forecast_fit\`, season 12) | $SPEED_N | $(printf '%.2f' "$kpi_s") |
| R: \`forecast(ets(y), h = 12)\` | $SPEED_N | $(printf '%.1f' "$r_s") |

Ratio R / kpi: **$(printf '%.0f' "$speed_ratio")** (R: $r_note).
Target: kpi at most 2 s on one core — $t_speed.
MD
)
bench/write-section "forecast speed" "$section"
