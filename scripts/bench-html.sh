#!/usr/bin/env bash
# The HTML report at scale: time and peak RSS of `unitdiff diff OLD NEW --format html`, the
# page's size, and its load in headless Chromium.
#
#   scripts/bench-html.sh [SIZES...]       # synthetic pairs, default: 1000 10000 100000
#
# UNITDIFF=BIN and SYNTH=BIN use those binaries instead of building release ones.
#
# Pairs come from examples/synth_images.rs (SEED=1 unless set) and are kept in $BENCH_DIR
# (default target/bench/, as scripts/bench.sh). The page records when its script finished
# the first rendering and when the load event fired (data-script-ms, data-load-ms on <html>,
# ms since navigation); Chromium's --dump-dom reads them back. Each page is opened RUNS times
# (default 3); the wall time of the whole Chromium run is printed beside that of an empty
# page (Chromium's own start-up).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3}
seed=${SEED:-1}
bench=${BENCH_DIR:-$here/target/bench}
bin=${UNITDIFF:-$here/target/release/unitdiff}
gen=${SYNTH:-$here/target/release/examples/synth_images}
if [[ -z ${UNITDIFF:-} || -z ${SYNTH:-} ]]; then
    cargo build --release -q --manifest-path "$here/Cargo.toml" --bin unitdiff --example synth_images
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# `chrome FILE`: "wall-seconds script-ms load-ms" of one headless load.
chrome() {
    local prof start end dom
    prof=$(mktemp -d -p "$work")
    start=$(date +%s.%N)
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$prof" --dump-dom "file://$1" >"$prof.dom" 2>/dev/null
    end=$(date +%s.%N)
    dom=$(head -c 4096 "$prof.dom")
    awk -v s="$start" -v e="$end" -v d="$dom" 'BEGIN {
        sm = "-"; lm = "-"
        if (match(d, /data-script-ms="[0-9]+"/)) sm = substr(d, RSTART + 16, RLENGTH - 17)
        if (match(d, /data-load-ms="[0-9]+"/)) lm = substr(d, RSTART + 14, RLENGTH - 15)
        printf "%.2f %s %s\n", e - s, sm, lm }'
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo '<!DOCTYPE html><html><body>empty</body></html>' >"$work/empty.html"
sizes=("$@")
((${#sizes[@]})) || sizes=(1000 10000 100000)
for n in "${sizes[@]}"; do
    dir="$bench/seed$seed-$n"
    [[ -d $dir/new ]] || "$gen" "$dir" "$n" "$seed" >/dev/null
    page="$work/report-$n.html"
    # diff exits 1 when the images differ; time's own line is the file's last.
    /usr/bin/time -o "$work/time" -f '%e %U %M' "$bin" -q diff "$dir/old" "$dir/new" \
        --format html -o "$page" 2>/dev/null || true
    read -r t u r < <(tail -n 1 "$work/time")
    printf 'synthetic %s units: unitdiff %s s (%s s user), %.1f MB peak RSS; page %.2f MB\n' \
        "$n" "$t" "$u" "$(awk -v r="$r" 'BEGIN{print r/1024}')" \
        "$(awk -v b="$(stat -c %s "$page")" 'BEGIN{print b/1048576}')"
    for _ in $(seq "$runs"); do
        read -r w sm lm < <(chrome "$page")
        read -r we _ _ < <(chrome "$work/empty.html")
        echo "  chromium: ${w} s (empty page ${we} s); script done ${sm} ms, load event ${lm} ms"
    done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
