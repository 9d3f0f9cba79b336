#!/usr/bin/env bash
# Time `unitdiff diff` against `diff -r` of the same two trees, in the same run.
#
#   scripts/bench.sh [SIZES...]            # synthetic pairs, default: 1000 10000 100000
#   scripts/bench.sh --pair OLD NEW        # a real pair (e.g. two debootstrapped releases)
#
# Synthetic pairs come from `examples/synth_images.rs` (seeded, deterministic; SEED=1 unless
# set) and are kept under $BENCH_DIR (default ${TMPDIR:-/tmp}/unitdiff-bench; never in the
# repository) between runs. Each command runs RUNS times (default 5) after one warm-up of
# each, alternating, so both see the same page cache and the same machine load; the median
# wall time, the median CPU time (user + system: steadier than wall time on a loaded
# machine) and the largest peak RSS are printed, with both ratios.
# `diff -r --no-dereference`: the trees hold absolute symlinks that mean nothing on this host.
# Extra commands (deps --all, why, graph --format json on the NEW side, and check) are
# timed with EXTRA=1. For a real pair, `diff -r` compares the systemd unit directories of
# the two roots (what unitdiff compares), and each measurement is REPEAT runs in a row
# (default 20: one run of a distribution's few hundred units is shorter than
# /usr/bin/time's 10 ms resolution), of which the mean per run is printed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-5}
seed=${SEED:-1}
# UNITDIFF=BIN and SYNTH=BIN use those binaries instead of building release ones.
if [[ -z ${UNITDIFF:-} || -z ${SYNTH:-} ]]; then
    cargo build --release -q --manifest-path "$here/Cargo.toml" --bin unitdiff --example synth_images
fi
bin=${UNITDIFF:-$here/target/release/unitdiff}
gen=${SYNTH:-$here/target/release/examples/synth_images}

# `measure CMD...`: elapsed seconds, peak RSS (KB) and CPU seconds (user + system) of one
# run, output discarded.
# With REPEAT > 1, the command runs that many times in a row and the mean per run is given.
repeat=1
measure() {
    local out
    out=$(mktemp)
    # -o: time's own report goes to a file, the command's output to /dev/null.
    /usr/bin/time -o "$out" -f '%e %M %U %S' bash -c \
        'n=$1; shift; for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>/dev/null; done; exit 0' \
        _ "$repeat" "$@" >/dev/null 2>/dev/null
    awk -v n="$repeat" '{ printf "%.4f %s %.4f\n", $1 / n, $2, ($3 + $4) / n }' <(tail -n 1 "$out")
    rm -f "$out"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# `compare LABEL OLD NEW`
# `diff_r OLD NEW [DIR...]`: `diff -r` of OLD/DIR and NEW/DIR for each DIR (of the roots
# without DIRs).
diff_r() {
    local old=$1 new=$2 d rc=0
    shift 2
    if (($# == 0)); then
        diff -r --no-dereference "$old" "$new" >/dev/null || rc=$?
    fi
    for d in "$@"; do
        diff -r --no-dereference "$old/$d" "$new/$d" >/dev/null || rc=$?
    done
    ((rc <= 1))
}
export -f diff_r

# `compare LABEL OLD NEW [DIR...]`
compare() {
    local label=$1 old=$2 new=$3 ut=() dt=() uc=() dc=() ur=0 dr=0 t r c
    shift 3
    local dirs=("$@")
    measure bash -c 'diff_r "$@"' _ "$old" "$new" "${dirs[@]}" >/dev/null
    measure "$bin" -q diff "$old" "$new" >/dev/null
    for _ in $(seq "$runs"); do
        read -r t r c < <(measure bash -c 'diff_r "$@"' _ "$old" "$new" "${dirs[@]}")
        dt+=("$t"); dc+=("$c"); ((r > dr)) && dr=$r || true
        read -r t r c < <(measure "$bin" -q diff "$old" "$new")
        ut+=("$t"); uc+=("$c"); ((r > ur)) && ur=$r || true
    done
    local um dm ucm dcm
    um=$(printf '%s\n' "${ut[@]}" | median)
    dm=$(printf '%s\n' "${dt[@]}" | median)
    ucm=$(printf '%s\n' "${uc[@]}" | median)
    dcm=$(printf '%s\n' "${dc[@]}" | median)
    awk -v l="$label" -v u="$um" -v d="$dm" -v ur="$ur" -v dr="$dr" -v uc="$ucm" -v dc="$dcm" 'BEGIN {
        ratio = (d > 0) ? sprintf("%.2f", u / d) : "n/a"
        cratio = (dc > 0) ? sprintf("%.2f", uc / dc) : "n/a"
        printf "%-24s unitdiff diff %8.3f s (CPU %7.3f s) %7.1f MB | diff -r %8.3f s (CPU %7.3f s) %6.1f MB | ratio %s (CPU %s)\n",
            l, u, uc, ur / 1024, d, dc, dr / 1024, ratio, cratio }'
    echo "  unitdiff runs: ${ut[*]}   diff -r runs: ${dt[*]}"
    if [[ ${EXTRA:-0} == 1 ]]; then
        local unit
        unit=$(basename "$(find "$new/usr/lib/systemd/system" -maxdepth 1 -name 'pkg*.service' | sort | tail -n 1)")
        for cmd in "deps $new multi-user.target --all" "why $new multi-user.target $unit" \
            "graph $new --format json" "check $old $new"; do
            local shown=${cmd//$new/NEW}
            # shellcheck disable=SC2086
            read -r t r _ < <(measure "$bin" -q $cmd)
            printf '  %-50s %7.2f s  %6.1f MB\n' "${shown//$old/OLD}" "$t" "$(awk -v r="$r" 'BEGIN{print r/1024}')"
        done
    fi
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), load: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ ${1:-} == --pair ]]; then
    repeat=${REPEAT:-20}
    # The unit directories both roots have as directories (not links: Debian's /lib is a
    # link to /usr/lib).
    unit_dirs=()
    for d in etc/systemd/system run/systemd/system usr/local/lib/systemd/system \
        usr/lib/systemd/system lib/systemd/system; do
        if [[ -d $2/$d && ! -L $2/${d%%/*} && -d $3/$d && ! -L $3/${d%%/*} ]]; then
            unit_dirs+=("$d")
        fi
    done
    echo "diff -r of: ${unit_dirs[*]}; $repeat runs per measurement"
    compare "$(basename "$2") -> $(basename "$3")" "$2" "$3" "${unit_dirs[@]}"
    exit 0
fi
repeat=${REPEAT:-1}
sizes=("$@")
((${#sizes[@]})) || sizes=(1000 10000 100000)
for n in "${sizes[@]}"; do
    dir="${BENCH_DIR:-${TMPDIR:-/tmp}/unitdiff-bench}/seed$seed-$n"
    if [[ ! -d $dir/new ]]; then
        "$gen" "$dir" "$n" "$seed" >/dev/null
    fi
    compare "synthetic $n units" "$dir/old" "$dir/new"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
