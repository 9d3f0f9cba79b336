#!/usr/bin/env bash
# Time `unitdiff diff` against `diff -r` of the same two trees, in the same run.
#
#   scripts/bench.sh [SIZES...]            # synthetic pairs, default: 1000 10000 100000
#   scripts/bench.sh --pair OLD NEW        # a real pair (e.g. two debootstrapped releases)
#
# Synthetic pairs come from `examples/synth_images.rs` (seeded, deterministic; SEED=1 unless
# set) and are kept under target/bench/ between runs. Each command runs RUNS times (default
# 5) after one warm-up of each, alternating, so both see the same page cache and the same
# machine load; the median wall time and the largest peak RSS are printed, with the ratio.
# `diff -r --no-dereference`: the trees hold absolute symlinks that mean nothing on this host.
# Extra commands (deps --all, why, graph --format json) are timed on the NEW side with
# EXTRA=1.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-5}
seed=${SEED:-1}
cargo build --release -q --manifest-path "$here/Cargo.toml" --bin unitdiff --example synth_images
bin="$here/target/release/unitdiff"
gen="$here/target/release/examples/synth_images"

# `measure CMD...`: elapsed seconds and peak RSS (KB) of one run, output discarded.
measure() {
    local out
    out=$( { /usr/bin/time -f '%e %M' "$@" >/dev/null 2>/dev/null; } 2>&1 | tail -n 1)
    echo "$out"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# `compare LABEL OLD NEW`
compare() {
    local label=$1 old=$2 new=$3 ut=() dt=() ur=0 dr=0 t r
    measure diff -r --no-dereference "$old" "$new" >/dev/null
    measure "$bin" -q diff "$old" "$new" >/dev/null
    for _ in $(seq "$runs"); do
        read -r t r < <(measure diff -r --no-dereference "$old" "$new")
        dt+=("$t"); ((r > dr)) && dr=$r
        read -r t r < <(measure "$bin" -q diff "$old" "$new")
        ut+=("$t"); ((r > ur)) && ur=$r
    done
    local um dm
    um=$(printf '%s\n' "${ut[@]}" | median)
    dm=$(printf '%s\n' "${dt[@]}" | median)
    awk -v l="$label" -v u="$um" -v d="$dm" -v ur="$ur" -v dr="$dr" 'BEGIN {
        ratio = (d > 0) ? sprintf("%.2f", u / d) : "n/a"
        printf "%-28s unitdiff diff %7.2f s  %6.1f MB | diff -r %7.2f s  %6.1f MB | ratio %s\n",
            l, u, ur / 1024, d, dr / 1024, ratio }'
    echo "  unitdiff runs: ${ut[*]}   diff -r runs: ${dt[*]}"
    if [[ ${EXTRA:-0} == 1 ]]; then
        local unit
        unit=$(basename "$(find "$new/usr/lib/systemd/system" -maxdepth 1 -name 'pkg*.service' | sort | tail -n 1)")
        for cmd in "deps $new multi-user.target --all" "why $new multi-user.target $unit" \
            "graph $new --format json"; do
            # shellcheck disable=SC2086
            read -r t r < <(measure "$bin" -q $cmd)
            printf '  %-50s %7.2f s  %6.1f MB\n' "${cmd//$new/NEW}" "$t" "$(awk -v r="$r" 'BEGIN{print r/1024}')"
        done
    fi
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), load: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ ${1:-} == --pair ]]; then
    compare "$(basename "$2") -> $(basename "$3")" "$2" "$3"
    exit 0
fi
sizes=("$@")
((${#sizes[@]})) || sizes=(1000 10000 100000)
for n in "${sizes[@]}"; do
    dir="$here/target/bench/seed$seed-$n"
    if [[ ! -d $dir/new ]]; then
        "$gen" "$dir" "$n" "$seed" >/dev/null
    fi
    compare "synthetic $n units" "$dir/old" "$dir/new"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
