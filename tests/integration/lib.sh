# Shared helpers of the integration scripts: a scratch directory, checks that print one TAP-like
# line each ("ok - ..." / "not ok - ..."), and the closing "N passed, M failed" line.
# usage: source "$(dirname "$0")/lib.sh" "$@"   (first argument or $KPI_BIN: the kpi binary)
KPI=${1:-${KPI_BIN:-}}
if [ -z "$KPI" ] || [ ! -x "$KPI" ]; then
    echo "usage: $0 PATH_TO_KPI (or set KPI_BIN)" >&2
    exit 2
fi
KPI=$(realpath "$KPI")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 2
unset KPI_DB
PASSED=0
FAILED=0

ok() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
not_ok() {
    FAILED=$((FAILED + 1))
    echo "not ok - $1"
    [ -n "${2:-}" ] && printf '    %s\n' "$2" | head -20
    return 0
}

# run ARGS...: runs kpi, keeping stdout in $OUT, stderr in $ERR and the exit code in $RC (safe
# under set -e).
run() {
    RC=0
    OUT=$("$KPI" "$@" 2>"$WORK/.err") || RC=$?
    ERR=$(cat "$WORK/.err")
}

# capture CMD...: the same for any command, into $out, $err and $rc.
capture() {
    rc=0
    "$@" >"$WORK/.out" 2>"$WORK/.err" || rc=$?
    out=$(cat "$WORK/.out")
    err=$(cat "$WORK/.err")
}

# check DESCRIPTION CMD...: one check line from a command's success.
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else not_ok "$what"; fi
}

has() { # TEXT FIXED_STRING
    grep -qF -- "$2" <<<"$1"
}

# expect_rc WANT DESCRIPTION CMD...
expect_rc() {
    local want=$1 desc=$2
    shift 2
    run "$@"
    if [ "$RC" -eq "$want" ]; then ok "$desc"; else not_ok "$desc (exit $RC, wanted $want)" "$ERR"; fi
}

# contains HAYSTACK NEEDLE DESCRIPTION
contains() {
    # A pattern match, not `printf | grep -q`: under pipefail grep may exit at the match before
    # printf has written everything, and the pipeline then fails although the text matched.
    if [[ $1 == *"$2"* ]]; then ok "$3"; else not_ok "$3 (missing '$2')" "$1"; fi
}

equals() { # GOT WANT DESCRIPTION
    if [ "$1" == "$2" ]; then ok "$3"; else not_ok "$3 (got '$1', wanted '$2')"; fi
}

near() { # GOT WANT DESCRIPTION: numbers equal within 1e-9 relative
    if awk -v g="$1" -v w="$2" 'BEGIN { d = g - w; if (d < 0) d = -d; m = w < 0 ? -w : w; if (m < 1) m = 1; exit !(g != "" && d <= 1e-9 * m) }'; then
        ok "$3"
    else
        not_ok "$3 (got '$1', wanted '$2')"
    fi
}

finish() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}
